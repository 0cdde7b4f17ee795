"""Write a model directory per docs/reference/model-format.md: config.json, model.safetensors,
golden.safetensors (float64 traces from the numpy reference), training.json, split.json."""
from __future__ import annotations

import json
import os

import numpy as np
from safetensors.numpy import save_file

from . import reference


def write_config(out_dir, name, n, d, blocks, classes, features, training, unit_current=1e-9,
                 readout="relu"):
    """config.json. A linear readout is written as "readout" in format_version 2, which readers of
    version 1 refuse (they would ignore the field and apply a ReLU); a ReLU readout as version 1,
    without the field, as before it existed."""
    cfg = {
        "format": "bmru-model",
        "format_version": 1 if readout == "relu" else 2,
        "name": name,
        "cell": "fq-bmru",
        "inputs": int(n),
        "hidden": int(d),
        "blocks": int(blocks),
        "classes": list(classes),
        **({} if readout == "relu" else {"readout": readout}),
        "unit_current": unit_current,
        "features": features,
        "training": training,
    }
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    return cfg


def prune(tensors: dict, below: float) -> tuple[dict, list[str]]:
    """Tensors with every weight of magnitude below `below` (model units) set to 0, and the names of
    the pruned entries ("pre.weight[2][12]"). The compiler omits a weight whose mirror current would be
    below the smallest one it realises, so pruning those at export makes the reference compute what
    the circuit computes; biases and cell constants are kept."""
    out, pruned = dict(tensors), []
    for name, value in tensors.items():
        if not name.endswith(".weight"):
            continue
        small = np.abs(value) < below
        if small.any():
            out[name] = np.where(small, 0.0, value).astype(value.dtype)
            pruned += [f"{name}[{i}][{j}]" for i, j in zip(*np.nonzero(small & (value != 0)))]
    return out, pruned


def write_model(out_dir, tensors: dict):
    """tensors: format name -> float32 numpy array."""
    t = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}
    for k, v in t.items():
        if k.endswith(".alpha"):
            assert np.all(v > 0), k
        if k.endswith(".beta_lo"):
            assert np.all(v >= 0), k
        if k.endswith(".delta"):
            assert np.all(v > 0), k
        if k.endswith(".s0"):
            assert np.all((v == 0) | (v == 1)), k
    save_file(t, os.path.join(out_dir, "model.safetensors"), metadata={"format": "bmru-model"})


def golden(tensors: dict, inputs: np.ndarray, labels: np.ndarray | None = None, readout: str = "relu") -> dict:
    """Float64 traces of the reference on inputs [G, T, n] from the stored (float32) tensors."""
    p = reference.load_params(tensors)
    inputs = np.asarray(inputs, dtype=np.float64)
    cands, states, logits = zip(*(reference.run(p, x, readout) for x in inputs))
    g = {"inputs": inputs, "candidates": np.stack(cands), "states": np.stack(states),
         "logits": np.stack(logits)}
    if labels is not None:
        g["labels"] = np.asarray(labels, dtype=np.float64)
    return {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in g.items()}


def write_golden(out_dir, g: dict):
    save_file(g, os.path.join(out_dir, "golden.safetensors"), metadata={"format": "bmru-golden"})


def write_training(out_dir, info: dict):
    with open(os.path.join(out_dir, "training.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")


def write_split(out_dir, record: dict):
    """split.json: the data split the model was trained and evaluated on (data.split_record)."""
    with open(os.path.join(out_dir, "split.json"), "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
