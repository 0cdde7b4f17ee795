"""Writes librosa's MFCCs of one real clip under recipes other than the pipeline's, for the Swift
front end's test of every recipe field it implements (Tests/KWSTests/Fixtures).

Each variant changes a few fields of features.FEATURE_CONFIG (the names of config.json); the
un-normalised cepstra [n_mfcc, frames] are computed with the librosa calls of features.mfcc_raw,
every argument taken from the variant, and stored transposed as tensor "variant.I" ([frames,
n_mfcc]); the metadata holds the clip and the list of changes.

Usage: .venv/bin/python -m scripts.train.export_mfcc_variants [--data DIR] [--out FILE]
"""
import argparse
import json
import os

import librosa
import numpy as np
from safetensors.numpy import save_file

from . import features

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VARIANTS = [
    {"window": "hamming"},
    {"win_length": 400},
    {"mel_htk": True},
    {"mel_norm": None},
    {"db_ref": 10.0, "db_amin": 1e-8},
    {"db_top_db": None},
    {"db_top_db": 40.0},
    {"dct_norm": None},
    {"lifter": 22},
    {"power": 1.0},
    {"center": False, "frames": 97},
    {"n_mels": 64, "fmin": 20.0, "fmax": 7600.0},
]


def cepstra(y, c):
    """Un-normalised MFCC [n_mfcc, frames] of y under the recipe c (config.json field names)."""
    S = librosa.feature.melspectrogram(
        y=y, sr=c["sample_rate"], n_fft=c["n_fft"], hop_length=c["hop_length"], win_length=c["win_length"],
        window=c["window"], center=c["center"], pad_mode=c["pad_mode"], power=c["power"],
        n_mels=c["n_mels"], fmin=c["fmin"], fmax=c["fmax"], htk=c["mel_htk"], norm=c["mel_norm"],
    )
    L = librosa.power_to_db(S, ref=c["db_ref"], amin=c["db_amin"], top_db=c["db_top_db"])
    return librosa.feature.mfcc(S=L, n_mfcc=c["n_mfcc"], dct_type=c["dct_type"], norm=c["dct_norm"], lifter=c["lifter"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared/data/speech_commands_v0.02_test"))
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests/KWSTests/Fixtures/mfcc-variants.safetensors"))
    args = parser.parse_args()
    clip = "yes/%s" % sorted(os.listdir(os.path.join(args.data, "yes")))[0]
    y = features.fix_length(features.load_wav(os.path.join(args.data, clip)))
    tensors = {}
    for index, change in enumerate(VARIANTS):
        recipe = dict(features.FEATURE_CONFIG, **change)
        m = cepstra(y, recipe)
        assert m.shape == (recipe["n_mfcc"], recipe["frames"]), (change, m.shape)
        tensors["variant.%d" % index] = np.ascontiguousarray(m.T, dtype=np.float64)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    save_file(tensors, args.out, metadata={"clip": clip, "variants": json.dumps(VARIANTS)})
    print("wrote %s: %d variants of %s" % (args.out, len(VARIANTS), clip))


if __name__ == "__main__":
    main()
