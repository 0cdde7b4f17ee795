"""Time the JAX model of scripts/train on the inputs that `bmru model bench --out DIR` wrote.

    .venv/bin/python -m scripts.bench.reference_jax [--repeats N] DIR/d4 DIR/d64

For each model directory (config.json, model.safetensors, bench.safetensors with `inputs`
[clips, frames, n] and the Swift reference's `majority` decisions), runs the jitted training
forward (eps = 0, associative scan) in float32 (the training dtype) and float64, and prints JSON:
seconds (best of N, default 3, after a warm-up compile), cell-steps per second, and the share of clips whose
majority-vote decision agrees with the Swift reference. Run it pinned to one core (taskset) with
XLA's thread pool limited, as scripts/bench/reference.py does.
"""
from __future__ import annotations

import json
import os
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

from scripts.train import model as fq  # noqa: E402


def majority(logits: np.ndarray) -> np.ndarray:
    """Per-clip majority vote of per-frame argmax; ties go to the lower class index."""
    classes = logits.shape[-1]
    votes = np.stack([(np.argmax(logits, axis=-1) == c).sum(axis=-1) for c in range(classes)], axis=-1)
    return np.argmax(votes, axis=-1)


def measure(directory: str, repeats: int = 3) -> dict:
    config = json.load(open(os.path.join(directory, "config.json")))
    tensors = load_file(os.path.join(directory, "model.safetensors"))
    bench = load_file(os.path.join(directory, "bench.safetensors"))
    x64 = bench["inputs"]
    clips, frames, _ = x64.shape
    cell_steps = clips * frames * config["blocks"] * config["hidden"]
    result = {"hidden": config["hidden"], "clips": int(clips), "frames": int(frames), "cell_steps": cell_steps}
    for name, dtype in [("float32", jnp.float32), ("float64", jnp.float64)]:
        params, s0s = fq.from_named_tensors(tensors, dtype)
        forward = jax.jit(lambda p, s, x: fq.forward(p, s, x, eps=0.0))
        x = jnp.asarray(x64, dtype)
        forward(params, s0s, x).block_until_ready()  # compile
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            logits = forward(params, s0s, x).block_until_ready()
            best = min(best, time.perf_counter() - start)
        agree = float(np.mean(majority(np.asarray(logits)) == bench["majority"].astype(np.int64)))
        result[name] = {"seconds": best, "cell_steps_per_second": cell_steps / best, "majority_agreement": agree}
    return result


if __name__ == "__main__":
    args = sys.argv[1:]
    repeats = 3
    if args[:1] == ["--repeats"]:
        repeats, args = int(args[1]), args[2:]
    print(json.dumps({"jax": jax.__version__, "backend": jax.default_backend(),
                      "results": [measure(d, repeats) for d in args]}, indent=2))
