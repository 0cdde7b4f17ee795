"""Speech Commands reader, speaker-disjoint splits, the "kws-yes" task and its feature cache.

Layout (Speech Commands v0.02): DATA/WORD/SPEAKER_nohash_N.wav, DATA/_unknown_/WORD_SPEAKER_nohash_N.wav,
DATA/_silence_/*.wav (1 s noise clips, no speaker), optionally DATA/_background_noise_/*.wav (long
noise files) and DATA/validation_list.txt, DATA/testing_list.txt (full download).

Split rule:
- If validation_list.txt / testing_list.txt exist, they define val / test (paths relative to DATA);
  every other speech clip is train.
- Otherwise by speaker: h = int(sha1(speaker_id).hexdigest(), 16) % 100;
  h < 70 -> train, h < 85 -> val, else test. The speaker id is the file-name part before
  "_nohash_" (without the "WORD_" prefix in _unknown_). No speaker is in two splits.
- _silence_ clips have no speaker: the same rule on sha1 of the file name.
- _background_noise_ files are cut into non-overlapping 1 s crops; crop i of m goes to train if
  i < 0.70 m, val if i < 0.85 m, else test (time-disjoint within each file).

Task "kws-yes": class 0 "yes", class 1 "other" = no/up/down/left/right/_silence_ (+ background crops,
counted as _silence_). Classes are balanced: a split with P "yes" clips gets P negatives, drawn
evenly from the six negative groups. Val/test negatives are a fixed deterministic choice (lowest
sha1 of the relative path in each group); training redraws its negatives every epoch.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

import numpy as np

from . import features as F

NEGATIVE_WORDS = ["no", "up", "down", "left", "right", "_silence_"]
KWS_CLASSES = ["yes", "other"]
SPLIT_FRACTIONS = (0.70, 0.85)  # cumulative train / val boundaries


def _h(s: str) -> int:
    return int(hashlib.sha1(s.encode("utf-8")).hexdigest(), 16)


def split_of_key(key: str) -> str:
    h = _h(key) % 100
    if h < 100 * SPLIT_FRACTIONS[0]:
        return "train"
    if h < 100 * SPLIT_FRACTIONS[1]:
        return "val"
    return "test"


def speaker_of(filename: str) -> str | None:
    """Speaker id of SPEAKER_nohash_N.wav or WORD_SPEAKER_nohash_N.wav; None if absent."""
    stem = os.path.basename(filename)
    if "_nohash_" not in stem:
        return None
    head = stem.split("_nohash_")[0]
    return head.rsplit("_", 1)[-1] if "_" in head else head


@dataclass
class Clip:
    rel: str            # path relative to the data dir (plus "@start" for background crops)
    word: str           # folder name (group)
    speaker: str | None
    split: str
    start: int = 0      # first sample (background crops)


def _read_list(data_dir: str, name: str) -> set[str] | None:
    p = os.path.join(data_dir, name)
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return {line.strip() for line in f if line.strip()}


def list_clips(data_dir: str, words: list[str]) -> list[Clip]:
    """All clips of the given word folders (and background crops for "_silence_"), with splits."""
    val_list = _read_list(data_dir, "validation_list.txt")
    test_list = _read_list(data_dir, "testing_list.txt")
    official = val_list is not None and test_list is not None
    clips = []
    for word in words:
        folder = os.path.join(data_dir, word)
        if not os.path.isdir(folder):
            continue
        for fn in sorted(os.listdir(folder)):
            if not fn.endswith(".wav"):
                continue
            rel = f"{word}/{fn}"
            spk = speaker_of(fn)
            if official and spk is not None:
                split = "val" if rel in val_list else "test" if rel in test_list else "train"
            else:
                split = split_of_key(spk if spk is not None else fn)
            clips.append(Clip(rel, word, spk, split))
    bg = os.path.join(data_dir, "_background_noise_")
    if "_silence_" in words and os.path.isdir(bg):
        import soundfile

        for fn in sorted(os.listdir(bg)):
            if not fn.endswith(".wav"):
                continue
            info = soundfile.info(os.path.join(bg, fn))
            n = int(info.frames * F.SAMPLE_RATE / info.samplerate)
            m = n // F.CLIP_SAMPLES
            for i in range(m):
                split = ("train" if i < SPLIT_FRACTIONS[0] * m else
                         "val" if i < SPLIT_FRACTIONS[1] * m else "test")
                clips.append(Clip(f"_background_noise_/{fn}@{i * F.CLIP_SAMPLES}", "_silence_",
                                  None, split, i * F.CLIP_SAMPLES))
    return clips


_bg_cache: dict[str, np.ndarray] = {}


def load_clip(data_dir: str, clip: Clip) -> np.ndarray:
    """16000 float64 samples of a clip (background crops cut from their long file)."""
    if "@" in clip.rel:
        path = os.path.join(data_dir, clip.rel.split("@")[0])
        if path not in _bg_cache:
            _bg_cache[path] = F.load_wav(path)
        return F.fix_length(_bg_cache[path][clip.start:clip.start + F.CLIP_SAMPLES])
    return F.fix_length(F.load_wav(os.path.join(data_dir, clip.rel)))


# ----------------------------------------------------------------------------- augmentation

AUGMENTATIONS = ("speed", "pitch", "shift", "noise")   # the order in which augment() applies them
DEFAULT_AUGMENT = ("speed", "shift", "noise")


def parse_augment(text: str) -> tuple[str, ...]:
    """The waveform augmentation set named by `--augment`: comma-separated names of AUGMENTATIONS,
    or "none" for the empty set. Returned in AUGMENTATIONS order, so that the cache key does not
    depend on how the set is spelled. ValueError naming the valid values otherwise."""
    names = [w.strip() for w in text.split(",")]
    if names == ["none"]:
        return ()
    bad = [w for w in names if w not in AUGMENTATIONS]
    if bad or len(set(names)) != len(names):
        raise ValueError(f"--augment {text!r}: expected \"none\" or a comma-separated subset of "
                         f"{','.join(AUGMENTATIONS)} without repeats")
    return tuple(w for w in AUGMENTATIONS if w in names)


def augment(y: np.ndarray, rng: np.random.Generator, noises: list[np.ndarray],
            steps: tuple[str, ...] = DEFAULT_AUGMENT) -> np.ndarray:
    """One augmented copy of a training clip; `steps` (a subset of AUGMENTATIONS) picks what is done:
    speed: random speed change 0.9..1.1 (linear interpolation, so the pitch moves with it);
    pitch: pitch shift by -2..+2 semitones at constant duration (librosa.effects.pitch_shift);
    shift: time shift +-100 ms (zero fill);
    noise: with probability 0.8 a training-split _silence_ clip mixed in at SNR 0..20 dB.
    The speed, shift and noise parameters are drawn whether or not their step is used, so sets
    that differ in one of them give variants that differ only in that step, and the default set
    draws exactly what the augmentation drew before the set was selectable. The pitch draw comes
    last and only when pitch is used."""
    speed = rng.uniform(0.9, 1.1)
    shift = int(rng.integers(-1600, 1601))
    noise = snr_db = None
    if noises and rng.random() < 0.8:
        noise = noises[int(rng.integers(len(noises)))]
        snr_db = rng.uniform(0.0, 20.0)
    if "speed" in steps:
        n = len(y)
        y = np.interp(np.arange(0, n - 1, speed), np.arange(n), y)
    y = F.fix_length(y)
    if "pitch" in steps:
        import librosa

        y = librosa.effects.pitch_shift(y, sr=F.SAMPLE_RATE, n_steps=rng.uniform(-2.0, 2.0))
    if "shift" in steps:
        y = np.roll(y, shift)
        if shift > 0:
            y[:shift] = 0.0
        elif shift < 0:
            y[shift:] = 0.0
    if "noise" in steps and noise is not None:
        p_sig = np.mean(y ** 2) + 1e-12
        p_noise = np.mean(noise ** 2) + 1e-12
        y = y + noise * np.sqrt(p_sig / (p_noise * 10 ** (snr_db / 10)))
    return y


def spec_augment(x: np.ndarray, rng: np.random.Generator, max_frames: int, max_coeffs: int,
                 masks: int) -> np.ndarray:
    """SpecAugment-style masking of normalised features x [N, frames, coefficients] (a copy is
    returned). Per clip, `masks` time masks, each of w ~ U{0..max_frames} consecutive frames from
    t0 ~ U{0..frames - w}, then `masks` coefficient masks of f ~ U{0..max_coeffs} consecutive
    coefficients from c0 ~ U{0..coefficients - f} (draws in that order; a kind with max 0 draws
    nothing). Masked entries become 0: after the per-clip, per-coefficient normalisation that is
    the clip's mean of the coefficient, SpecAugment's mean-value mask."""
    x = np.array(x, copy=True)
    _, frames, coeffs = x.shape
    for clip in x:
        for width, size, axis in ((max_frames, frames, 0), (max_coeffs, coeffs, 1)):
            if width == 0:
                continue
            for _ in range(masks):
                w = int(rng.integers(0, width + 1))
                start = int(rng.integers(0, size - w + 1))
                if axis == 0:
                    clip[start:start + w, :] = 0.0
                else:
                    clip[:, start:start + w] = 0.0
    return x


# ----------------------------------------------------------------------------- task + cache

@dataclass
class KwsData:
    """Features of every clip of the task; train clips also have augmented variants."""
    clips: list[Clip]
    feats: np.ndarray                  # [N, 101, 13] clean features (float64)
    aug: np.ndarray                    # [N_train, K, 101, 13] augmented variants (float32)
    aug_index: dict[int, int]          # clip index -> row in aug
    labels: np.ndarray                 # [N] class index
    synth: np.ndarray | None = None    # [S, 101, 13] synthetic training clips (float32)
    synth_labels: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def indices(self, split: str, word: str | None = None) -> list[int]:
        return [i for i, c in enumerate(self.clips)
                if c.split == split and (word is None or c.word == word)]


def balanced_eval_indices(clips: list[Clip], split: str) -> list[int]:
    """Fixed balanced set of a split (indices into clips): all "yes" plus as many negatives,
    evenly over the groups."""
    def indices(word):
        return [i for i, c in enumerate(clips) if c.split == split and c.word == word]

    pos = indices("yes")
    groups = [sorted(indices(w), key=lambda i: _h(clips[i].rel)) for w in NEGATIVE_WORDS]
    chosen, r = [], 0
    while len(chosen) < len(pos) and any(r < len(g) for g in groups):
        for g in groups:
            if r < len(g) and len(chosen) < len(pos):
                chosen.append(g[r])
        r += 1
    return pos + chosen


SPLIT_FILE_NAMES = {"train": "train", "val": "validation", "test": "test"}  # pipeline -> split.json


def split_record(data_dir: str, clips: list[Clip], extra_words: tuple[str, ...] = ()) -> dict:
    """The split of the kws-yes task as split.json records it (docs/reference/model-format.md):
    the task clips of each split, each split's balanced set, and the training-only negatives."""
    task_words = {KWS_CLASSES[0], *NEGATIVE_WORDS}
    return {
        "format": "bmru-split",
        "format_version": 1,
        "data": os.path.basename(os.path.abspath(data_dir)),
        "keyword": KWS_CLASSES[0],
        "negative_words": list(NEGATIVE_WORDS),
        "clips": {name: [c.rel for c in clips if c.split == split and c.word in task_words]
                  for split, name in SPLIT_FILE_NAMES.items()},
        "balanced": {name: [clips[i].rel for i in balanced_eval_indices(clips, split)]
                     for split, name in SPLIT_FILE_NAMES.items()},
        "extra_training_words": list(extra_words),
        "extra_training_clips": [c.rel for c in clips if c.split == "train" and c.word in extra_words],
    }


def draw_train_negatives(data: KwsData, n: int, rng: np.random.Generator,
                         extra_words: tuple[str, ...] = ()) -> list[int]:
    """n training negatives, evenly over the negative groups (plus any extra training-only
    negative word groups; fresh draw each call)."""
    groups = [data.indices("train", w) for w in list(NEGATIVE_WORDS) + list(extra_words)]
    groups = [g for g in groups if g]
    per = [n // len(groups) + (1 if i < n % len(groups) else 0) for i in range(len(groups))]
    out = []
    for g, m in zip(groups, per):
        out.extend(rng.choice(g, size=m, replace=len(g) < m).tolist())
    return out


def cache_dir() -> str:
    d = os.environ.get("BMRUKIT_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "bmrukit"))
    os.makedirs(d, exist_ok=True)
    return d


def augment_key(steps: tuple[str, ...]) -> dict:
    """Cache-key entry of an augmentation set: empty for the default set (so caches made before
    the set was selectable stay valid), {"augment": [...]} otherwise."""
    return {} if tuple(steps) == DEFAULT_AUGMENT else {"augment": list(steps)}


def load_kws_yes(data_dir: str, n_aug: int = 8, aug_seed: int = 1234, progress=True,
                 extra_words: tuple[str, ...] = (),
                 augment_steps: tuple[str, ...] = DEFAULT_AUGMENT) -> KwsData:
    """Task clips, clean features and augmented training variants (cached as .npz).
    extra_words: further word folders loaded as "other" (used as training-only negatives; the
    val/test sets and the selection set keep to the task's six negative groups).
    augment_steps: the augmentation set of the variants (augment()); a set other than the default
    is part of the cache key, the default set keeps the key the cache had before sets existed."""
    from tqdm import tqdm

    data_dir = os.path.abspath(data_dir)
    words = ["yes"] + NEGATIVE_WORDS + [w for w in extra_words if w not in NEGATIVE_WORDS]
    clips = list_clips(data_dir, words)
    key = json.dumps({"v": 2, "data": data_dir, "clips": [c.rel for c in clips],
                      "feat": F.FEATURE_CONFIG, "n_aug": n_aug, "aug_seed": aug_seed,
                      "split": SPLIT_FRACTIONS,
                      **augment_key(augment_steps)}, sort_keys=True)
    path = os.path.join(cache_dir(), f"kws-yes-{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz")
    labels = np.array([0 if c.word == "yes" else 1 for c in clips], dtype=np.int32)
    train_idx = [i for i, c in enumerate(clips) if c.split == "train"]
    aug_index = {i: r for r, i in enumerate(train_idx)}
    if os.path.exists(path):
        z = np.load(path)
        return KwsData(clips, z["feats"], z["aug"], aug_index, labels, info={"cache": path})
    feats = np.zeros((len(clips), F.FRAMES, F.N_MFCC))
    waves = {}
    for i, c in enumerate(tqdm(clips, desc="features", disable=not progress)):
        y = load_clip(data_dir, c)
        feats[i] = F.clip_features(y)
        if c.split == "train":
            waves[i] = y
    noises = [waves[i] for i in train_idx if clips[i].word == "_silence_"]
    rng = np.random.default_rng(aug_seed)
    aug = np.zeros((len(train_idx), n_aug, F.FRAMES, F.N_MFCC), dtype=np.float32)
    for r, i in enumerate(tqdm(train_idx, desc="augment", disable=not progress)):
        for k in range(n_aug):
            aug[r, k] = F.clip_features(augment(waves[i], rng, noises, augment_steps))
    np.savez(path, feats=feats, aug=aug)
    return KwsData(clips, feats, aug, aug_index, labels, info={"cache": path})


def split_summary(data: KwsData, eval_sets: dict[str, list[int]]) -> dict:
    """Speakers per split and clip counts per class / group per split (for training.json)."""
    out = {}
    for split in ["train", "val", "test"]:
        idx = data.indices(split)
        speakers = sorted({data.clips[i].speaker for i in idx if data.clips[i].speaker})
        groups = {w: len(data.indices(split, w)) for w in ["yes"] + NEGATIVE_WORDS}
        entry = {"speakers": len(speakers), "speaker_ids": speakers, "available_per_group": groups}
        if split in eval_sets:
            ev = eval_sets[split]
            entry["used_per_class"] = {KWS_CLASSES[k]: int(np.sum(data.labels[ev] == k))
                                       for k in range(2)}
            entry["used_per_group"] = {w: sum(1 for i in ev if data.clips[i].word == w)
                                       for w in ["yes"] + NEGATIVE_WORDS}
        out[split] = entry
    return out
