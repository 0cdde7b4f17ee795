"""Writes MFCC golden features for the Swift front end's test (Tests/KWSTests/Fixtures).

For a few real clips of the Speech Commands folder, the features the training pipeline computes
(features.load_wav, fix_length, mfcc_raw, normalize) are stored with the clips' relative paths, so
the Swift MFCC (KWS module) can be compared against them: max |difference| < 1e-4 is required.

Usage: .venv/bin/python -m scripts.train.export_mfcc_golden [--data DIR] [--out FILE]
"""
import argparse
import json
import os

import numpy as np
from safetensors.numpy import save_file

from . import features

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOLDERS = ("yes", "no", "left", "_silence_")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared/data/speech_commands_v0.02_test"))
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests/KWSTests/Fixtures/mfcc-golden.safetensors"))
    args = parser.parse_args()
    # The first clip (by name) of a few folders: speech of three words and background noise.
    clips = ["%s/%s" % (folder, sorted(os.listdir(os.path.join(args.data, folder)))[0]) for folder in FOLDERS]
    raw, normalized = [], []
    for clip in clips:
        y = features.fix_length(features.load_wav(os.path.join(args.data, clip)))
        m = features.mfcc_raw(y)
        raw.append(m.T)
        normalized.append(features.normalize(m))
    # C order explicitly: the stacked transposes keep a Fortran-like layout that safetensors would
    # write as it lies in memory.
    tensors = {"raw": np.ascontiguousarray(np.stack(raw), dtype=np.float64),
               "features": np.ascontiguousarray(np.stack(normalized), dtype=np.float64)}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    save_file(tensors, args.out, metadata={"clips": json.dumps(clips), "definition": "scripts/train/features.py"})
    print("wrote %s: %s" % (args.out, clips))


if __name__ == "__main__":
    main()
