"""FQ-BMRU network in JAX (training code path), per docs/reference/model-format.md.

Network, per frame t (u, a, c, h, p of size d):
    u_0 = W_pre x_t + b_pre
    for each block k:  a = ReLU(u_k); c = ReLU(W_c a + b_c)
                       hi = H(c - beta_hi), lo = H(beta_lo - c)   (H(0) = 0: strict)
                       s_t = hold s_{t-1} + (1 - hold)(hi + eps s_{t-1}),  hold = (1-lo)(1-hi)
                       h = alpha s;  p = ReLU(W_post h + b_post);  u_{k+1} = u_k + p
    logits = W_cls ReLU(u_blocks) + b_cls      (readout "relu", the default)
    logits = W_cls u_blocks + b_cls            (readout "linear": the signed residual)

eps = 0 is the hardware cell (set / reset / hold); eps > 0 is the leaky/cumulative training
variant. Trainable threshold parameters: beta_lo = |p_lo|, delta = max(|p_delta|, 1e-3),
beta_hi = beta_lo + delta, alpha = |p_alpha|. s0 is a fixed (non-trained) bit per unit.

H has an exact step forward and the arctan surrogate gradient a / (1 + (pi a x)^2), a = 1.
The recurrence s_t = A_t s_{t-1} + B_t runs as jax.lax.associative_scan (default) or
jax.lax.scan; both give identical results at eps = 0.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

DELTA_MIN = 1e-3
SURROGATE_A = 1.0


@jax.custom_vjp
def heaviside(x):
    """Exact strict step: 1 where x > 0, else 0 (so H(0) = 0)."""
    return (x > 0).astype(x.dtype)


def _heaviside_fwd(x):
    return heaviside(x), x


def _heaviside_bwd(x, g):
    a = SURROGATE_A
    return (g * a / (1.0 + (math.pi * a * x) ** 2),)


heaviside.defvjp(_heaviside_fwd, _heaviside_bwd)


def project(params, beta_lo_min=0.0, alpha_min=0.0):
    """Parameters with beta_lo >= beta_lo_min and alpha >= alpha_min (model units): thresholds and
    gains a circuit can realise; applied after every optimizer step (projected gradient)."""
    blocks = [dict(blk, cell=dict(blk["cell"], p_lo=jnp.maximum(jnp.abs(blk["cell"]["p_lo"]), beta_lo_min),
                                  p_alpha=jnp.maximum(jnp.abs(blk["cell"]["p_alpha"]), alpha_min)))
              for blk in params["blocks"]]
    return dict(params, blocks=blocks)


def cell_constants(cell):
    """(beta_lo, delta, beta_hi, alpha) from the raw trainable parameters."""
    beta_lo = jnp.abs(cell["p_lo"])
    delta = jnp.maximum(jnp.abs(cell["p_delta"]), DELTA_MIN)
    alpha = jnp.abs(cell["p_alpha"])
    return beta_lo, delta, beta_lo + delta, alpha


def _combine(e1, e2):
    """Compose s -> A1 s + B1 followed by s -> A2 s + B2."""
    a1, b1 = e1
    a2, b2 = e2
    return a1 * a2, a2 * b1 + b2


def linear_recurrence(A, B, s0, method="associative"):
    """s_t = A_t s_{t-1} + B_t over axis 1 of [batch, T, d]; s0 [d]. Returns [batch, T, d]."""
    if method == "associative":
        acc_a, acc_b = jax.lax.associative_scan(_combine, (A, B), axis=1)
        return acc_a * s0 + acc_b

    def step(s, ab):
        a, b = ab
        s = a * s + b
        return s, s

    s_init = jnp.broadcast_to(s0, (A.shape[0], A.shape[2])).astype(A.dtype)
    _, ss = jax.lax.scan(step, s_init, (jnp.swapaxes(A, 0, 1), jnp.swapaxes(B, 0, 1)))
    return jnp.swapaxes(ss, 0, 1)


def cell_forward(cell, s0, a, eps, method="associative", noise=None):
    """One FQ-BMRU layer on a = ReLU(u) [batch, T, d]. Returns (c, s, h).

    noise: None, or (key, sigma): Gaussian noise of sigma units added to the candidate before its
    ReLU, standing in for the circuit's candidate-current errors (hardware-aware training)."""
    beta_lo, _, beta_hi, alpha = cell_constants(cell)
    pre = a @ cell["weight"].T + cell["bias"]
    if noise is not None:
        key, sigma = noise
        pre = pre + sigma * jax.random.normal(key, pre.shape, pre.dtype)
    c = jax.nn.relu(pre)
    hi = heaviside(c - beta_hi)
    lo = heaviside(beta_lo - c)
    hold = (1.0 - lo) * (1.0 - hi)
    A = hold + (1.0 - hold) * eps
    B = (1.0 - hold) * hi
    s = linear_recurrence(A, B, s0, method)
    return c, s, alpha * s


READOUTS = ("relu", "linear")


def forward(params, s0s, x, eps=0.0, method="associative", trace=False, noise=None, readout="relu"):
    """Network on x [batch, T, n]. Returns logits [batch, T, C] (and traces if trace).

    noise: None, or (key, sigma) for candidate noise in every block (see cell_forward).
    readout: what the classifier reads of the last residual u, "relu" (ReLU(u)) or "linear" (u)."""
    if readout not in READOUTS:
        raise ValueError(f"readout {readout!r}: expected one of {READOUTS}")
    u = x @ params["pre"]["weight"].T + params["pre"]["bias"]
    cands, states = [], []
    keys = [None] * len(s0s) if noise is None else jax.random.split(noise[0], len(s0s))
    for k, (blk, s0) in enumerate(zip(params["blocks"], s0s)):
        c, s, h = cell_forward(blk["cell"], s0, jax.nn.relu(u), eps, method,
                               None if noise is None else (keys[k], noise[1]))
        p = jax.nn.relu(h @ blk["post"]["weight"].T + blk["post"]["bias"])
        u = u + p
        cands.append(c)
        states.append(s)
    features = jax.nn.relu(u) if readout == "relu" else u
    logits = features @ params["classifier"]["weight"].T + params["classifier"]["bias"]
    if trace:
        return logits, jnp.stack(cands, axis=2), jnp.stack(states, axis=2)
    return logits


def init_params(key, n, d, blocks, classes, dtype=jnp.float32):
    """Random initial parameters (pytree of dicts/lists) and the fixed s0 bits (all 0)."""
    keys = jax.random.split(key, 2 + 5 * blocks)
    ki = iter(keys)

    def normal(k, shape, scale):
        return (jax.random.normal(k, shape) * scale).astype(dtype)

    def uniform(k, shape, lo, hi):
        return jax.random.uniform(k, shape, minval=lo, maxval=hi).astype(dtype)

    params = {
        "pre": {"weight": normal(next(ki), (d, n), 1.0 / math.sqrt(n)),
                "bias": jnp.zeros((d,), dtype)},
        "blocks": [],
        "classifier": {"weight": normal(next(ki), (classes, d), 1.0 / math.sqrt(d)),
                       "bias": jnp.zeros((classes,), dtype)},
    }
    for _ in range(blocks):
        params["blocks"].append({
            "cell": {
                "weight": normal(next(ki), (d, d), 1.5 / math.sqrt(d)),
                "bias": uniform(next(ki), (d,), 0.2, 0.8),
                "p_lo": uniform(next(ki), (d,), 0.1, 0.5),
                "p_delta": jnp.full((d,), 0.4, dtype),
                "p_alpha": jnp.ones((d,), dtype),
            },
            "post": {"weight": normal(next(ki), (d, d), 1.0 / math.sqrt(d)),
                     "bias": jnp.zeros((d,), dtype)},
        })
    s0s = [jnp.zeros((d,), dtype) for _ in range(blocks)]
    return params, s0s


def to_named_tensors(params, s0s):
    """The format's tensor dict (float32 numpy) from the training parameters."""
    out = {"pre.weight": params["pre"]["weight"], "pre.bias": params["pre"]["bias"]}
    for k, (blk, s0) in enumerate(zip(params["blocks"], s0s)):
        beta_lo, delta, _, alpha = cell_constants(blk["cell"])
        out[f"blocks.{k}.cell.weight"] = blk["cell"]["weight"]
        out[f"blocks.{k}.cell.bias"] = blk["cell"]["bias"]
        out[f"blocks.{k}.cell.alpha"] = alpha
        out[f"blocks.{k}.cell.beta_lo"] = beta_lo
        out[f"blocks.{k}.cell.delta"] = delta
        out[f"blocks.{k}.cell.s0"] = s0
        out[f"blocks.{k}.post.weight"] = blk["post"]["weight"]
        out[f"blocks.{k}.post.bias"] = blk["post"]["bias"]
    out["classifier.weight"] = params["classifier"]["weight"]
    out["classifier.bias"] = params["classifier"]["bias"]
    return {k: np.asarray(v, dtype=np.float32) for k, v in out.items()}


def from_named_tensors(t, dtype=jnp.float32):
    """Training parameters from a format tensor dict (inverse of to_named_tensors)."""
    blocks = sorted({int(k.split(".")[1]) for k in t if k.startswith("blocks.")})
    c = lambda k: jnp.asarray(np.asarray(t[k]), dtype)
    params = {
        "pre": {"weight": c("pre.weight"), "bias": c("pre.bias")},
        "blocks": [],
        "classifier": {"weight": c("classifier.weight"), "bias": c("classifier.bias")},
    }
    s0s = []
    for k in blocks:
        params["blocks"].append({
            "cell": {"weight": c(f"blocks.{k}.cell.weight"), "bias": c(f"blocks.{k}.cell.bias"),
                     "p_lo": c(f"blocks.{k}.cell.beta_lo"), "p_delta": c(f"blocks.{k}.cell.delta"),
                     "p_alpha": c(f"blocks.{k}.cell.alpha")},
            "post": {"weight": c(f"blocks.{k}.post.weight"), "bias": c(f"blocks.{k}.post.bias")},
        })
        s0s.append(c(f"blocks.{k}.cell.s0"))
    return params, s0s
