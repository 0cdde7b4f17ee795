"""Pure-numpy float64 reference forward, written directly from docs/reference/model-format.md.

Independent of the JAX training path (plain per-frame loop, no scan, no surrogate).
Used for golden vectors and for the accuracies reported in training.json.
"""
from __future__ import annotations

import numpy as np


def load_params(tensors: dict) -> dict:
    """Upcast a format tensor dict (as stored, e.g. float32) to float64 numpy arrays."""
    return {k: np.asarray(v).astype(np.float64) for k, v in tensors.items()}


def num_blocks(p: dict) -> int:
    return len({k.split(".")[1] for k in p if k.startswith("blocks.")})


def run(p: dict, x: np.ndarray, readout: str = "relu"):
    """Run one sequence x [T, n]. Returns candidates [T, B, d], states [T, B, d], logits [T, C].

    readout: config.json's "readout", what the classifier reads of the last residual u:
    "relu" (ReLU(u)) or "linear" (u itself)."""
    if readout not in ("relu", "linear"):
        raise ValueError(f"readout {readout!r}: expected 'relu' or 'linear'")
    nb = num_blocks(p)
    T = x.shape[0]
    d = p["pre.bias"].shape[0]
    s = [p[f"blocks.{k}.cell.s0"].copy() for k in range(nb)]
    beta_lo = [p[f"blocks.{k}.cell.beta_lo"] for k in range(nb)]
    beta_hi = [p[f"blocks.{k}.cell.beta_lo"] + p[f"blocks.{k}.cell.delta"] for k in range(nb)]
    cands = np.zeros((T, nb, d))
    states = np.zeros((T, nb, d))
    logits = np.zeros((T, p["classifier.bias"].shape[0]))
    for t in range(T):
        u = p["pre.weight"] @ x[t] + p["pre.bias"]
        for k in range(nb):
            a = np.maximum(u, 0.0)
            c = np.maximum(p[f"blocks.{k}.cell.weight"] @ a + p[f"blocks.{k}.cell.bias"], 0.0)
            hi = c > beta_hi[k]
            lo = c < beta_lo[k]
            s[k] = np.where(hi, 1.0, np.where(lo, 0.0, s[k]))
            h = p[f"blocks.{k}.cell.alpha"] * s[k]
            pk = np.maximum(p[f"blocks.{k}.post.weight"] @ h + p[f"blocks.{k}.post.bias"], 0.0)
            u = u + pk
            cands[t, k] = c
            states[t, k] = s[k]
        features = np.maximum(u, 0.0) if readout == "relu" else u
        logits[t] = p["classifier.weight"] @ features + p["classifier.bias"]
    return cands, states, logits


def clip_decisions(logits: np.ndarray):
    """(majority-vote class, integrated-logit class) of per-frame logits [T, C].

    Majority vote of per-frame argmax; ties go to the lower class index.
    """
    votes = np.bincount(np.argmax(logits, axis=-1), minlength=logits.shape[-1])
    return int(np.argmax(votes)), int(np.argmax(logits.sum(axis=0)))
