"""Derive a model folder from a trained one without training: a new unit current and/or the weights
the compiler omits pruned, with its accuracies and golden vectors recomputed by the float64 reference.

A model's parameters are in units of its unit current, so the same trained network runs at any I_u;
every current of its circuit, and so its power, scales with I_u. Retraining to get a copy at another
I_u would not reproduce the source exactly (the feature cache and thread scheduling differ between
machines), so the copy is made from the source's own tensors.

Run: .venv/bin/python -m scripts.train.derive SOURCE --out DIR --unit-current 2.5e-10 --prune-below 0.0055
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys

import numpy as np
from safetensors.numpy import load_file

from . import data, export, features, reference


def eval_accuracy(tensors: dict, data_dir: str, readout: str) -> dict:
    """Majority-vote and integrated-logit clip accuracies on the validation and test clips of the
    kws-yes task (the sets train.py reports), by the float64 reference on their clean features."""
    clips = data.list_clips(os.path.abspath(data_dir), [data.KWS_CLASSES[0]] + data.NEGATIVE_WORDS)
    p = reference.load_params(tensors)
    out = {}
    for split in ("val", "test"):
        idx = data.balanced_eval_indices(clips, split)
        decisions = np.array([reference.clip_decisions(reference.run(
            p, features.clip_features(data.load_clip(data_dir, clips[i])), readout)[2]) for i in idx])
        labels = np.array([0 if clips[i].word == data.KWS_CLASSES[0] else 1 for i in idx])
        out[split] = {"clip_accuracy_majority_vote": float(np.mean(decisions[:, 0] == labels)),
                      "clip_accuracy_integrated_logits": float(np.mean(decisions[:, 1] == labels)),
                      "n": int(len(idx))}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="a trained model folder (config.json, model.safetensors, golden.safetensors, training.json)")
    parser.add_argument("--out", required=True, help="the model folder to write (must not exist)")
    parser.add_argument("--name", help="model name (default: basename of --out)")
    parser.add_argument("--unit-current", type=float, help="amperes per model unit (default: the source's)")
    parser.add_argument("--prune-below", type=float, default=0.0,
                        help="set weights with |w| below this to 0, those the compiler omits (GF180: 0.0055)")
    parser.add_argument("--data", default=os.environ.get("BMRUKIT_DATA", "/work/shared/data/speech_commands_v0.02_test"),
                        help="the Speech Commands folder the source was trained on (kws-yes models)")
    parser.add_argument("--note", default="", help="why the model was derived (training.json note)")
    args = parser.parse_args(argv)
    files = {n: os.path.join(args.source, n) for n in ("config.json", "model.safetensors", "golden.safetensors", "training.json")}
    for name, path in files.items():
        if not os.path.isfile(path):
            parser.error(f"{path}: missing ({name} of the source model)")
    if os.path.exists(args.out):
        parser.error(f"{args.out}: exists; derive writes a new folder")
    if args.unit_current is not None and not (args.unit_current > 0 and np.isfinite(args.unit_current)):
        parser.error(f"--unit-current {args.unit_current}: must be a positive number of amperes")
    with open(files["config.json"]) as f:
        config = json.load(f)
    with open(files["training.json"]) as f:
        training = json.load(f)
    if config["classes"] != data.KWS_CLASSES:
        parser.error(f"{files['config.json']}: classes {config['classes']} are not the kws-yes task's; "
                     "only kws-yes models have accuracies to recompute")
    readout = config.get("readout", "relu")
    tensors, pruned = export.prune(load_file(files["model.safetensors"]), args.prune_below)
    unit_current = args.unit_current or config["unit_current"]
    accuracy = eval_accuracy(tensors, args.data, readout)
    name = args.name or os.path.basename(os.path.normpath(args.out))

    os.makedirs(args.out)
    meta = dict(config["training"], val_accuracy=accuracy["val"], test_accuracy=accuracy["test"])
    export.write_config(args.out, name, config["inputs"], config["hidden"], config["blocks"], config["classes"],
                        config["features"], meta, unit_current=unit_current, readout=readout)
    export.write_model(args.out, tensors)
    golden = load_file(files["golden.safetensors"])
    export.write_golden(args.out, export.golden(tensors, golden["inputs"], golden.get("labels"), readout))
    with open(files["model.safetensors"], "rb") as f:
        source_hash = hashlib.sha256(f.read()).hexdigest()
    export.write_training(args.out, dict(
        training, name=name, note=args.note,
        command="python -m scripts.train.derive " + " ".join(argv if argv is not None else sys.argv[1:]),
        derived_from={"model": config["name"], "model_sha256": source_hash, "command": training.get("command"),
                      "unit_current": [config["unit_current"], unit_current], "pruned_weights": pruned},
        pruned_weights=sorted(set(training.get("pruned_weights", [])) | set(pruned)),
        accuracy=accuracy))
    split = os.path.join(args.source, "split.json")
    if os.path.isfile(split):
        shutil.copyfile(split, os.path.join(args.out, "split.json"))
    print(json.dumps({"out": args.out, "unit_current": unit_current, "pruned_weights": pruned, "accuracy": accuracy}, indent=2))


if __name__ == "__main__":
    main()
