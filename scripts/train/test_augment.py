"""Augmentation: the selectable waveform set (data.augment), SpecAugment masks (data.spec_augment),
the feature cache's key per set and the training options.

Run: .venv/bin/python -m pytest -q scripts/train
"""
import hashlib
import json
import os

import numpy as np
import pytest
import soundfile

from scripts.train import data, train
from scripts.train import features as F


def legacy_augment(y, rng, noises):
    """data.augment as it was before the set was selectable (commit b8b2fb8), the reference the
    default set must reproduce."""
    speed = rng.uniform(0.9, 1.1)
    n = len(y)
    pos = np.arange(0, n - 1, speed)
    y = np.interp(pos, np.arange(n), y)
    shift = int(rng.integers(-1600, 1601))
    y = F.fix_length(y)
    y = np.roll(y, shift)
    if shift > 0:
        y[:shift] = 0.0
    elif shift < 0:
        y[shift:] = 0.0
    if noises and rng.random() < 0.8:
        noise = noises[int(rng.integers(len(noises)))]
        p_sig = np.mean(y ** 2) + 1e-12
        p_noise = np.mean(noise ** 2) + 1e-12
        snr_db = rng.uniform(0.0, 20.0)
        y = y + noise * np.sqrt(p_sig / (p_noise * 10 ** (snr_db / 10)))
    return y


def clip_and_noises(seed=0):
    r = np.random.default_rng(seed)
    y = np.sin(2 * np.pi * 300 * np.arange(F.CLIP_SAMPLES) / F.SAMPLE_RATE) * np.hanning(F.CLIP_SAMPLES)
    return y + r.normal(0, 0.01, F.CLIP_SAMPLES), [r.normal(0, s, F.CLIP_SAMPLES) for s in (0.05, 0.2, 0.1)]


@pytest.mark.parametrize("with_noise", [True, False])
def test_default_set_reproduces_the_legacy_augmentation(with_noise):
    y, noises = clip_and_noises()
    noises = noises if with_noise else []
    new, old = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(40):
        a = data.augment(y, new, noises)
        b = legacy_augment(y, old, noises)
        assert a.tobytes() == b.tobytes()
    assert new.random() == old.random()  # same number of draws


def test_sets_draw_alike_and_differ_only_in_their_steps():
    y, noises = clip_and_noises(1)
    silent = [np.zeros_like(n) for n in noises]
    for seed in range(20):
        # Leaving out noise = the default set with silent noise clips: the speed and shift are the same draws.
        a = data.augment(y, np.random.default_rng(seed), noises, ("speed", "shift"))
        b = data.augment(y, np.random.default_rng(seed), silent)
        np.testing.assert_array_equal(a, b)
        rngs = [np.random.default_rng(seed) for _ in range(3)]
        data.augment(y, rngs[0], noises, ())
        data.augment(y, rngs[1], noises, ("noise",))
        data.augment(y, rngs[2], noises)
        assert len({r.random() for r in rngs}) == 1


def test_none_returns_the_clip_and_single_steps_do_only_their_part():
    y, noises = clip_and_noises(2)
    np.testing.assert_array_equal(data.augment(y, np.random.default_rng(0), noises, ()), y)
    r = np.random.default_rng(3)
    speed, shift = r.uniform(0.9, 1.1), int(r.integers(-1600, 1601))
    shifted = data.augment(y, np.random.default_rng(3), noises, ("shift",))
    expect = np.zeros_like(y)
    if shift >= 0:
        expect[shift:] = y[:len(y) - shift]
    else:
        expect[:shift] = y[-shift:]
    np.testing.assert_array_equal(shifted, expect)
    sped = data.augment(y, np.random.default_rng(3), noises, ("speed",))
    np.testing.assert_array_equal(sped, F.fix_length(np.interp(np.arange(0, len(y) - 1, speed), np.arange(len(y)), y)))


@pytest.mark.parametrize("seed", [0, 4])  # draws -1.84 and +1.90 semitones
def test_pitch_moves_a_tone_by_the_drawn_semitones_at_constant_length(seed):
    t = np.arange(F.CLIP_SAMPLES) / F.SAMPLE_RATE
    y = 0.5 * np.sin(2 * np.pi * 500 * t)
    r = np.random.default_rng(seed)
    r.uniform(0.9, 1.1), r.integers(-1600, 1601)  # speed and shift draws (no noise clips: no noise draws)
    semitones = r.uniform(-2.0, 2.0)
    out = data.augment(y, np.random.default_rng(seed), [], ("pitch",))
    assert out.shape == y.shape
    spectrum = np.abs(np.fft.rfft(out[2000:-2000] * np.hanning(12000)))
    peak_hz = np.argmax(spectrum) * F.SAMPLE_RATE / 12000
    assert abs(peak_hz - 500 * 2 ** (semitones / 12)) < 2.0


def test_parse_augment_canonical_order_and_errors():
    assert data.parse_augment("speed,shift,noise") == data.DEFAULT_AUGMENT
    assert data.parse_augment("noise,speed") == ("speed", "noise")
    assert data.parse_augment("shift,pitch") == ("pitch", "shift")
    assert data.parse_augment("none") == ()
    for bad in ["", "speed,", "tempo", "none,speed", "speed,speed"]:
        with pytest.raises(ValueError, match="none.*speed,pitch,shift,noise"):
            data.parse_augment(bad)


def test_spec_augment_zeroes_exactly_the_drawn_region():
    x = np.random.default_rng(0).normal(1.0, 0.1, (4, F.FRAMES, F.N_MFCC)).astype(np.float32)
    out = data.spec_augment(x, np.random.default_rng(5), 10, 2, 2)
    r = np.random.default_rng(5)
    expect = x.copy()
    for clip in expect:
        for _ in range(2):
            w = int(r.integers(0, 11))
            t0 = int(r.integers(0, F.FRAMES - w + 1))
            clip[t0:t0 + w] = 0.0
        for _ in range(2):
            f = int(r.integers(0, 3))
            c0 = int(r.integers(0, F.N_MFCC - f + 1))
            clip[:, c0:c0 + f] = 0.0
    np.testing.assert_array_equal(out, expect)
    assert 0 < np.sum(out == 0) and np.all((out == 0) | (out == x))
    assert np.all(x != 0), "the input is not modified"
    rows = (out == 0).all(axis=2).sum(axis=1)
    cols = (out == 0).all(axis=1).sum(axis=1)
    assert rows.max() <= 20 and cols.max() <= 4


def test_spec_augment_without_sizes_draws_nothing():
    x = np.random.default_rng(0).normal(size=(3, F.FRAMES, F.N_MFCC))
    r = np.random.default_rng(1)
    np.testing.assert_array_equal(data.spec_augment(x, r, 0, 0, 3), x)
    assert r.random() == np.random.default_rng(1).random()


def write_folder(root):
    """A tiny Speech Commands folder: tones as "yes" / "no" clips and noise as _silence_, one train
    speaker (sha1 bucket 21) and one test speaker (94) per word."""
    r = np.random.default_rng(0)
    t = np.arange(F.CLIP_SAMPLES) / F.SAMPLE_RATE
    for word, hz in [("yes", 400), ("no", 700)]:
        os.makedirs(root / word)
        for spk in ["aaa", "bbb"]:
            soundfile.write(root / word / f"{spk}_nohash_0.wav", 0.3 * np.sin(2 * np.pi * hz * t), 16000,
                            subtype="PCM_16")
    os.makedirs(root / "_silence_")
    for name in ["1.wav", "2.wav", "3.wav"]:
        soundfile.write(root / "_silence_" / name, r.normal(0, 0.05, F.CLIP_SAMPLES), 16000, subtype="PCM_16")
    return str(root)


def test_cache_key_default_unchanged_and_none_gives_clean_variants(tmp_path, monkeypatch):
    folder = write_folder(tmp_path / "sc")
    monkeypatch.setenv("BMRUKIT_CACHE", str(tmp_path / "cache"))
    clean = data.load_kws_yes(folder, n_aug=2, progress=False, augment_steps=())
    default = data.load_kws_yes(folder, n_aug=2, progress=False)
    train_rows = [clean.aug_index[i] for i in clean.indices("train")]
    assert train_rows, "the folder has training clips"
    for i in clean.indices("train"):
        for k in range(2):
            np.testing.assert_array_equal(clean.aug[clean.aug_index[i], k], clean.feats[i].astype(np.float32))
    np.testing.assert_array_equal(clean.feats, default.feats)
    assert not np.array_equal(clean.aug, default.aug)
    # The key the cache had before the set was selectable (commit b8b2fb8) names the default set's file.
    clips = data.list_clips(os.path.abspath(folder), ["yes"] + data.NEGATIVE_WORDS)
    legacy_key = json.dumps({"v": 2, "data": os.path.abspath(folder), "clips": [c.rel for c in clips],
                             "feat": F.FEATURE_CONFIG, "n_aug": 2, "aug_seed": 1234,
                             "split": data.SPLIT_FRACTIONS}, sort_keys=True)
    legacy = os.path.join(str(tmp_path / "cache"), f"kws-yes-{hashlib.sha1(legacy_key.encode()).hexdigest()[:16]}.npz")
    assert default.info["cache"] == legacy and clean.info["cache"] != legacy


def test_training_options(capsys):
    base = ["--task", "kws-yes", "--out", "x"]
    args = train.parse_args(base)
    assert args.augment == data.DEFAULT_AUGMENT and not train.specaug_on(args)
    args = train.parse_args(base + ["--augment", "noise,shift", "--specaug-time", "10", "--specaug-masks", "2"])
    assert args.augment == ("shift", "noise") and train.specaug_on(args)
    assert train.parse_args(base + ["--augment", "none"]).augment == ()
    for bad, message in [(["--augment", "tempo"], "--augment 'tempo': expected"),
                         (["--specaug-freq", "14"], "--specaug-freq in 0..13"),
                         (["--specaug-time", "-1"], "--specaug-time must be in 0..101"),
                         (["--specaug-masks", "-1"], "--specaug-masks >= 0")]:
        with pytest.raises(SystemExit):
            train.parse_args(base + bad)
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.parse_args(["--task", "latch-d4", "--out", "x", "--specaug-time", "5"])
    assert "apply to --task kws-yes only" in capsys.readouterr().err
