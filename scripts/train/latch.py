"""Synthetic memory task "latch-d4": remember whether the latest event was a set or a reset.

Inputs (n = 2, features.kind = "raw"): channel 0 carries "set" pulses, channel 1 "reset" pulses.
Each sequence has T = 100 frames. Events start at a frame drawn uniformly from 0..29, then follow
each other after gaps drawn uniformly from 10..40 frames; each event is a set or a reset with
probability 1/2 and is a pulse of 1..3 frames of height U(0.7, 1.3) on its channel. Both channels
carry Gaussian noise N(0, 0.05^2) at every frame.

Per-frame target: 1 ("on") if the latest event whose pulse has started at or before this frame was
a set, else 0 ("off"; also before the first event). The loss is per-frame cross-entropy against
these per-frame labels; accuracy is per-frame (and the share of sequences with every frame right).
"""
from __future__ import annotations

import numpy as np

CLASSES = ["off", "on"]
T = 100
INPUTS = 2
NOISE = 0.05


def make(n_seq: int, seed: int, T: int = T):
    """(x [n_seq, T, 2] float64, y [n_seq, T] int32) for one seed."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, NOISE, size=(n_seq, T, INPUTS))
    y = np.zeros((n_seq, T), dtype=np.int32)
    for i in range(n_seq):
        t = int(rng.integers(0, 30))
        while t < T:
            kind = int(rng.integers(0, 2))      # 0 = set, 1 = reset
            width = int(rng.integers(1, 4))
            x[i, t:t + width, kind] += rng.uniform(0.7, 1.3)
            y[i, t:] = 1 if kind == 0 else 0
            t += int(rng.integers(10, 41))
    return x, y


SPLIT_SEEDS = {"train": 101, "val": 202, "test": 303}
SPLIT_SIZES = {"train": 2000, "val": 500, "test": 500}


def load():
    """Dict split -> (x, y) with fixed seeds (independent of the training seed)."""
    return {s: make(SPLIT_SIZES[s], SPLIT_SEEDS[s]) for s in SPLIT_SEEDS}
