"""Optional synthetic training speech from espeak-ng (training split only).

Each clip: one word spoken by espeak-ng with a random English voice, voice variant, pitch
(-p 20..80) and speed (-s 110..210), resampled to 16 kHz, trimmed of leading/trailing silence
(librosa.effects.trim, top_db 40), placed at a random offset in a 1 s clip, then passed through
the augmentation set of the real training clips (data.augment; by default speed, shift and real
training-split _silence_ noise).
Only ever used for training; accuracies are measured on held-out real speakers.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np

from . import data as D
from . import features as F

VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp",
          "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
            "klatt", "klatt2", "klatt3", "klatt4", "adam", "Andy", "Annie", "aunty", "belinda",
            "benjamin", "caleb", "david", "ed", "edward", "john", "linda", "max", "Michael",
            "paul", "quincy", "rob", "robert", "steph", "travis", "victor", "zac", "anika",
            "grandma", "grandpa", "shelby", "norbert", "whisper", "whisperf", "croak"]


def available() -> bool:
    return shutil.which("espeak-ng") is not None


def speak(word: str, rng: np.random.Generator, tmp: str) -> np.ndarray:
    import librosa

    voice = VOICES[int(rng.integers(len(VOICES)))]
    var = VARIANTS[int(rng.integers(len(VARIANTS)))]
    v = voice + (f"+{var}" if var else "")
    out = os.path.join(tmp, "w.wav")
    cmd = ["espeak-ng", "-v", v, "-p", str(int(rng.integers(20, 81))),
           "-s", str(int(rng.integers(110, 211))), "-w", out, word]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    y = F.load_wav(out)  # resampled to 16 kHz
    y, _ = librosa.effects.trim(y, top_db=40)
    y = y[: F.CLIP_SAMPLES - 1600]
    y = y / (np.abs(y).max() + 1e-9) * rng.uniform(0.1, 0.9)
    clip = np.zeros(F.CLIP_SAMPLES)
    off = int(rng.integers(0, F.CLIP_SAMPLES - len(y) + 1))
    clip[off:off + len(y)] = y
    return clip


def load_synth(kws: D.KwsData, data_dir: str, n_per_class: int, seed: int = 99, progress=True,
               augment_steps: tuple[str, ...] = D.DEFAULT_AUGMENT):
    """(features [2 n, 101, 13] float32, labels [2 n]): n synthetic "yes", n spread over
    no/up/down/left/right, each augmented with augment_steps. Cached like the real features."""
    from tqdm import tqdm

    key = json.dumps({"v": 1, "n": n_per_class, "seed": seed, "feat": F.FEATURE_CONFIG,
                      "voices": VOICES, "variants": VARIANTS, "data": os.path.abspath(data_dir),
                      **D.augment_key(augment_steps)},
                     sort_keys=True)
    path = os.path.join(D.cache_dir(), f"synth-{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz")
    if os.path.exists(path):
        z = np.load(path)
        return z["x"], z["y"]
    noises = [D.load_clip(os.path.abspath(data_dir), kws.clips[i])
              for i in kws.indices("train", "_silence_")]
    words = ["yes"] * n_per_class + [["no", "up", "down", "left", "right"][i % 5]
                                     for i in range(n_per_class)]
    rng = np.random.default_rng(seed)
    x = np.zeros((len(words), F.FRAMES, F.N_MFCC), np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        for i, w in enumerate(tqdm(words, desc="espeak-ng", disable=not progress)):
            x[i] = F.clip_features(D.augment(speak(w, rng, tmp), rng, noises, augment_steps))
    y = np.array([0 if w == "yes" else 1 for w in words], np.int32)
    np.savez(path, x=x, y=y)
    return x, y
