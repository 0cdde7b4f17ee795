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


def project(params, beta_lo_min=0.0, alpha_min=0.0, delta_min=0.0):
    """Parameters with beta_lo >= beta_lo_min, alpha >= alpha_min and, when delta_min > 0, hysteresis
    width delta >= delta_min (model units): thresholds, gains and widths a circuit can realise; applied
    after every optimizer step (projected gradient). The width floor matters under a power term, which
    otherwise drives every width to DELTA_MIN, below the cell's threshold error."""
    def bounded(cell):
        cell = dict(cell, p_lo=jnp.maximum(jnp.abs(cell["p_lo"]), beta_lo_min),
                    p_alpha=jnp.maximum(jnp.abs(cell["p_alpha"]), alpha_min))
        if delta_min > 0:
            cell["p_delta"] = jnp.maximum(jnp.abs(cell["p_delta"]), delta_min)
        return cell
    return dict(params, blocks=[dict(blk, cell=bounded(blk["cell"])) for blk in params["blocks"]])


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


def forward(params, s0s, x, eps=0.0, method="associative", trace=False, noise=None, readout="relu",
            signals=False, readout_noise=None):
    """Network on x [batch, T, n]. Returns logits [batch, T, C] (and traces if trace).

    noise: None, or (key, sigma) for candidate noise in every block (see cell_forward).
    readout: what the classifier reads of the last residual u, "relu" (ReLU(u)) or "linear" (u).
    signals: return (logits, dict) instead, the dict holding per block the residual u_k it reads,
    candidate c, state s and output p (lists over blocks, each [batch, T, d]) and the last residual
    "u_out": what the power estimate and the margin term read.
    readout_noise: None, or (key, sigma): Gaussian noise of sigma units added to every class current,
    standing in for the readout's current errors, so that training keeps decisions away from A = B."""
    if readout not in READOUTS:
        raise ValueError(f"readout {readout!r}: expected one of {READOUTS}")
    u = x @ params["pre"]["weight"].T + params["pre"]["bias"]
    sig = {"u": [], "c": [], "s": [], "p": []}
    keys = [None] * len(s0s) if noise is None else jax.random.split(noise[0], len(s0s))
    for k, (blk, s0) in enumerate(zip(params["blocks"], s0s)):
        c, s, h = cell_forward(blk["cell"], s0, jax.nn.relu(u), eps, method,
                               None if noise is None else (keys[k], noise[1]))
        p = jax.nn.relu(h @ blk["post"]["weight"].T + blk["post"]["bias"])
        for name, v in (("u", u), ("c", c), ("s", s), ("p", p)):
            sig[name].append(v)
        u = u + p
    features = jax.nn.relu(u) if readout == "relu" else u
    logits = features @ params["classifier"]["weight"].T + params["classifier"]["bias"]
    if readout_noise is not None:
        key, sigma = readout_noise
        logits = logits + sigma * jax.random.normal(key, logits.shape, logits.dtype)
    if signals:
        return logits, dict(sig, u_out=u)
    if trace:
        return logits, jnp.stack(sig["c"], axis=2), jnp.stack(sig["s"], axis=2)
    return logits


# ----------------------------------------------------------------------------- circuit-aware terms

# Fixed currents of a compiled deck, units of I_u (Sources/Netlist/Compiler+Emit.swift): the bias
# reference (I_u into its NMOS diode and I_u through its PMOS copy) and the readout's tail (0.1 I_u
# mirrored from vdd_bias into its diode, and the same again through the differential pair).
BIAS_REFERENCE = 2.0
READOUT_TAIL = 0.1
SUPPLY_VOLTS = 1.8


def power_estimate(params, x, sig, readout="relu"):
    """The compiled circuit's supply current per frame, units of I_u, mean over x [batch, T, n] with
    `sig` = forward(..., signals=True)[1]: a dict of "bias", "cells", "feedforward" and "total".

    Built as Compiler+Plan.swift builds the deck. Every summing node draws, whether its net current
    is positive or not, the sum of its terms of the positive direction (a PMOS source into an NMOS
    diode's node, an NMOS sink out of a PMOS diode's node): relu(w) times the source's current for
    a weight, relu(b) for a bias; the negative terms only divert that current from the diode. So an
    input weight, realised on x+ and (negated) on x-, draws relu(w x). The readout's terms all draw
    |w| (each sign goes to its own input A or B). A line feeding a term of the other polarity is
    copied once by a 1:1 converter (its current again). Each cell draws its three bias diodes
    (I_thresh ~ beta_hi, I_width ~ delta, I_gain ~ alpha: the nominal feedback cell; the calibration
    moves them a few %) and, from vdd_cell, its comparator min(c + s delta, beta_hi), output diode
    and state copy 2 alpha s, and feedback diode s delta. "bias" is what vdd_bias supplies (the
    manifest's bias_power / 1.8 V / I_u)."""
    relu = jax.nn.relu
    mean = lambda v: jnp.mean(jnp.sum(v, axis=-1))   # sum over units, mean over batch and frames
    blocks = len(params["blocks"])
    wp, bp = params["pre"]["weight"], params["pre"]["bias"]
    wc, bc = params["classifier"]["weight"], params["classifier"]["bias"]
    xp, xn = relu(x), relu(-x)
    # The relu readout reads u_B from its own nodes; the linear one is folded into the terms.
    copies = blocks + 1 if readout == "relu" else blocks
    # Learned biases are mirrors of the reference on vdd_bias: a positive one into an NMOS-diode node
    # (u, p, readout) or a negative one out of a PMOS-diode node (candidate) is a PMOS from vdd_bias.
    bias = copies * jnp.sum(relu(bp)) + BIAS_REFERENCE + READOUT_TAIL
    ff = copies * mean(xp @ relu(wp).T + xn @ relu(-wp).T) + READOUT_TAIL
    uses_xp, uses_xn = jnp.any(wp > 0, axis=0), jnp.any(wp < 0, axis=0)
    cells = 0.0
    for k, blk in enumerate(params["blocks"]):
        _, delta, beta_hi, alpha = cell_constants(blk["cell"])
        # The hardware state is a bit: the leaky variant's counts (eps > 0) weigh as "on".
        a, c, s, p = relu(sig["u"][k]), sig["c"][k], jnp.minimum(sig["s"][k], 1.0), sig["p"][k]
        w, b = blk["cell"]["weight"], blk["cell"]["bias"]
        wpost, bpost = blk["post"]["weight"], blk["post"]["bias"]
        bias += jnp.sum(beta_hi + delta + alpha) + jnp.sum(relu(-b)) + jnp.sum(relu(bpost))
        cells += mean(jnp.minimum(c + s * delta, beta_hi) + s * (2 * alpha + delta))
        # Candidate node (PMOS diode): its NMOS sinks draw through the diode, less what a negative
        # bias sources from vdd_bias; u_k is copied for its negative (PMOS) weights.
        ff += mean(a @ relu(w).T) + jnp.sum(relu(b)) - jnp.sum(relu(-b))
        ff += mean(a * jnp.any(w < 0, axis=0))
        # Post node: PMOS copies of the states (one converter per state with a positive weight).
        ff += mean((alpha * s) @ relu(wpost).T) + mean(alpha * s * jnp.any(wpost > 0, axis=0))
        # p_k into every later residual node, through one converter (also for a linear readout's terms).
        later = copies - 1 - k
        ff += later * mean(p)
        ff += mean(p * ((later > 0) | ((readout == "linear") & jnp.any(wc != 0, axis=0))))
    if readout == "relu":
        ub = relu(sig["u_out"])
        ff += mean(ub @ jnp.abs(wc).T) + mean(ub * jnp.any(wc != 0, axis=0))
        bias += jnp.sum(jnp.abs(bc))
    else:
        fold = wc @ wp
        ff += mean(jnp.abs(x) @ jnp.abs(fold).T) + sum(mean(p @ jnp.abs(wc).T) for p in sig["p"])
        bias += jnp.sum(jnp.abs(bc + wc @ bp))
        uses_xp, uses_xn = uses_xp | jnp.any(fold != 0, axis=0), uses_xn | jnp.any(fold != 0, axis=0)
    ff += mean(xp * uses_xp) + mean(xn * uses_xn)
    return {"bias": bias, "cells": cells, "feedforward": ff, "total": bias + cells + ff}


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


# The GF180 cell's deterministic threshold error at I_u = 0.5 nA, units of I_u: ModelLint's
# `cellThresholdError` (RMS of the measured switch-on/off currents minus the fits over the grid of
# results/characterization/gf180mcu, 0.479 pA). ModelLint flags a margin below 3 such sigmas.
THRESHOLD_ERROR = 0.479e-12 / 0.5e-9
LINT_SIGMAS = 3.0


def margin_penalty(params, s0s, sig, sigmas, mismatch, threshold_error=THRESHOLD_ERROR):
    """Hinge on what `bmru model lint` reports, mean over frames, cells and batch (units of I_u).

    Each frame's candidate is decided by beta_lo while the cell was on and by beta_hi while it was
    off (the previous state); it is penalised by relu(sigmas r - |c - threshold|), r being that
    threshold's resolution as ModelLint computes it for a feedback cell: the threshold error and
    `mismatch` (relative sigma of a 1:1 mirror) on sqrt(2) beta_hi to set, sqrt(beta_hi^2 + 2
    delta^2 + beta_lo^2) to reset. Each cell's hysteresis adds relu(sigmas threshold_error - |p_delta|)."""
    relu = jax.nn.relu
    frames, widths = [], []
    for blk, s0, c, s in zip(params["blocks"], s0s, sig["c"], sig["s"]):
        beta_lo, delta, beta_hi, _ = cell_constants(blk["cell"])
        r_set = jnp.sqrt(threshold_error ** 2 + 2 * (mismatch * beta_hi) ** 2)
        r_reset = jnp.sqrt(threshold_error ** 2 + mismatch ** 2 * (beta_hi ** 2 + 2 * delta ** 2 + beta_lo ** 2))
        # The previous state (s0 first); clipped, so that the leaky variant's counts weigh as "on".
        prev = jax.lax.stop_gradient(jnp.clip(jnp.concatenate(
            [jnp.broadcast_to(s0, s[:, :1].shape), s[:, :-1]], axis=1), 0.0, 1.0))
        # beta_lo = 0 never resets (c >= 0), as ModelLint skips it.
        on = prev * (beta_lo > 0) * relu(sigmas * r_reset - jnp.abs(c - beta_lo))
        frames.append(on + (1 - prev) * relu(sigmas * r_set - jnp.abs(c - beta_hi)))
        # On |p_delta|, not delta: below DELTA_MIN the clamp passes no gradient, and a width the power
        # term pushed there would stay.
        widths.append(relu(sigmas * threshold_error - jnp.abs(blk["cell"]["p_delta"])))
    return jnp.mean(jnp.stack(frames)) + jnp.mean(jnp.stack(widths))
