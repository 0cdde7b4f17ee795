"""Write split.json into a kws-yes model folder trained before the pipeline wrote it, from the
data folder it was trained on, with the pipeline's own split code (data.list_clips, data.split_record).

Run: .venv/bin/python -m scripts.train.export_split MODEL_DIR DATA_DIR
"""
from __future__ import annotations

import argparse
import json
import os

from . import data, export


def extra_words(model_dir: str) -> tuple[str, ...]:
    """The training-only negative words recorded in training.json (--extra-neg); none if absent."""
    path = os.path.join(model_dir, "training.json")
    if not os.path.exists(path):
        return ()
    with open(path) as f:
        extra = json.load(f).get("hyperparameters", {}).get("extra_neg") or ""
    return tuple(w for w in extra.split(",") if w)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", help="a kws-yes model folder (config.json, training.json)")
    parser.add_argument("data_dir", help="the Speech Commands folder the model was trained on")
    args = parser.parse_args(argv)
    with open(os.path.join(args.model_dir, "config.json")) as f:
        classes = json.load(f)["classes"]
    if classes != data.KWS_CLASSES:
        parser.error(f"{args.model_dir}/config.json: classes {classes} are not the kws-yes task's "
                     f"{data.KWS_CLASSES}")
    if not os.path.isdir(args.data_dir):
        parser.error(f"{args.data_dir}: no such data folder")
    extra = extra_words(args.model_dir)
    words = [data.KWS_CLASSES[0]] + data.NEGATIVE_WORDS + [w for w in extra if w not in data.NEGATIVE_WORDS]
    export.write_split(args.model_dir, data.split_record(args.data_dir, data.list_clips(args.data_dir, words), extra))
    print(os.path.join(args.model_dir, "split.json"))


if __name__ == "__main__":
    main()
