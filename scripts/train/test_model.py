"""JAX training model (eps = 0, float64) vs the independent numpy reference, and the cell rules.

Run: .venv/bin/python -m pytest -q scripts/train
"""
import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from scripts.train import export, latch, model, reference  # noqa: E402

forward = jax.jit(model.forward, static_argnames=("method", "trace", "readout"))


def random_tensors(rng, n, d, blocks, C):
    """Random format tensors (float32 stored), thresholds in the range the candidates cover."""
    t = {"pre.weight": rng.normal(0, 1, (d, n)), "pre.bias": rng.normal(0, 0.3, d)}
    for k in range(blocks):
        t[f"blocks.{k}.cell.weight"] = rng.normal(0, 1, (d, d))
        t[f"blocks.{k}.cell.bias"] = rng.normal(0.3, 0.5, d)
        t[f"blocks.{k}.cell.alpha"] = rng.uniform(0.2, 2.0, d)
        t[f"blocks.{k}.cell.beta_lo"] = rng.uniform(0.0, 0.8, d)
        t[f"blocks.{k}.cell.delta"] = rng.uniform(0.05, 0.8, d)
        t[f"blocks.{k}.cell.s0"] = rng.integers(0, 2, d).astype(float)
        t[f"blocks.{k}.post.weight"] = rng.normal(0, 1, (d, d))
        t[f"blocks.{k}.post.bias"] = rng.normal(0, 0.3, d)
    t["classifier.weight"] = rng.normal(0, 1, (C, d))
    t["classifier.bias"] = rng.normal(0, 0.3, C)
    return {k: v.astype(np.float32) for k, v in t.items()}


@pytest.mark.parametrize("method,n,d,blocks,seed,readout", [
    ("associative", 13, 4, 2, 0, "relu"), ("associative", 2, 4, 1, 1, "relu"), ("associative", 13, 16, 2, 2, "relu"),
    ("scan", 13, 4, 2, 4, "relu"), ("scan", 5, 3, 3, 3, "relu"),
    ("associative", 13, 4, 2, 0, "linear"), ("scan", 5, 3, 3, 3, "linear")])
def test_jax_matches_reference(method, n, d, blocks, seed, readout):
    rng = np.random.default_rng(seed)
    t = random_tensors(rng, n, d, blocks, 2)
    x = rng.normal(0, 1, (6, 60, n))
    params, s0s = model.from_named_tensors(t, dtype=jnp.float64)
    logits, cands, states = forward(params, s0s, jnp.asarray(x), 0.0, method, trace=True, readout=readout)
    p64 = reference.load_params(t)
    switches = 0
    for g in range(x.shape[0]):
        c_ref, s_ref, l_ref = reference.run(p64, x[g], readout)
        np.testing.assert_array_equal(np.asarray(states[g]), s_ref)
        np.testing.assert_allclose(np.asarray(cands[g]), c_ref, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.asarray(logits[g]), l_ref, rtol=1e-12, atol=1e-12)
        switches += int(np.abs(np.diff(s_ref, axis=0)).sum())
    assert switches > 10, "random parameters should exercise set/reset/hold"


def test_strict_thresholds_hold():
    """c exactly at beta_lo or beta_hi holds the previous state (both code paths)."""
    d = 2
    t = {"pre.weight": np.eye(d), "pre.bias": np.zeros(d),
         "blocks.0.cell.weight": np.eye(d), "blocks.0.cell.bias": np.zeros(d),
         "blocks.0.cell.alpha": np.ones(d), "blocks.0.cell.beta_lo": np.full(d, 0.25),
         "blocks.0.cell.delta": np.full(d, 0.5), "blocks.0.cell.s0": np.array([0.0, 1.0]),
         "blocks.0.post.weight": np.zeros((d, d)), "blocks.0.post.bias": np.zeros(d),
         "classifier.weight": np.eye(d), "classifier.bias": np.zeros(d)}
    t = {k: np.asarray(v, np.float32) for k, v in t.items()}
    # c sequence: at beta_hi (hold), above (set), at beta_lo (hold), below (reset), at beta_hi (hold)
    seq = np.array([0.75, 0.8, 0.25, 0.2, 0.75])
    x = np.stack([seq, seq], axis=1)
    expect = np.array([[0, 1], [1, 1], [1, 1], [0, 0], [0, 0]], dtype=float)
    _, s_ref, _ = reference.run(reference.load_params(t), x)
    np.testing.assert_array_equal(s_ref[:, 0, :], expect)
    params, s0s = model.from_named_tensors(t, dtype=jnp.float64)
    for method in ["associative", "scan"]:
        _, _, s = forward(params, s0s, jnp.asarray(x[None]), 0.0, method, trace=True)
        np.testing.assert_array_equal(np.asarray(s[0, :, 0, :]), expect)


def test_leaky_variant_and_surrogate_gradient():
    """eps = 1 accumulates set events; the surrogate gives nonzero gradients at eps = 0."""
    rng = np.random.default_rng(5)
    t = random_tensors(rng, 3, 4, 1, 2)
    params, s0s = model.from_named_tensors(t, dtype=jnp.float64)
    s0s = [jnp.zeros_like(s) for s in s0s]
    x = jnp.asarray(rng.normal(0, 1, (2, 40, 3)))
    _, _, s1 = forward(params, s0s, x, 1.0, trace=True)
    _, c, _ = forward(params, s0s, x, 0.0, trace=True)
    beta_hi = t["blocks.0.cell.beta_lo"] + t["blocks.0.cell.delta"]
    np.testing.assert_allclose(np.asarray(s1[:, :, 0]),
                               np.cumsum(np.asarray(c[:, :, 0]) > beta_hi, axis=1))

    def loss(p):
        return model.forward(p, s0s, x, 0.0).sum()

    g = jax.jit(jax.grad(loss))(params)
    assert float(jnp.abs(g["blocks"][0]["cell"]["p_lo"]).sum()) > 0


def test_latch_labels_follow_latest_event():
    x, y = latch.make(20, seed=7)
    for i in range(20):
        state = 0
        for t in range(latch.T):
            if x[i, t, 0] > 0.5 and (t == 0 or x[i, t - 1, 0] <= 0.5):
                state = 1
            if x[i, t, 1] > 0.5 and (t == 0 or x[i, t - 1, 1] <= 0.5):
                state = 0
            assert y[i, t] == state


def test_hardware_aware_bounds_and_candidate_noise():
    rng = np.random.default_rng(7)
    t = random_tensors(rng, 13, 4, 2, 2)
    params, s0s = model.from_named_tensors(t, jnp.float64)
    bounded = model.project(params, beta_lo_min=0.5, alpha_min=1.0)
    names = model.to_named_tensors(bounded, s0s)
    for k in range(2):
        assert names[f"blocks.{k}.cell.beta_lo"].min() >= 0.5 - 1e-6
        assert names[f"blocks.{k}.cell.alpha"].min() >= 1.0 - 1e-6
        # Values already inside the bounds are kept.
        keep = t[f"blocks.{k}.cell.beta_lo"] >= 0.5
        assert np.allclose(names[f"blocks.{k}.cell.beta_lo"][keep], t[f"blocks.{k}.cell.beta_lo"][keep])
    x = jnp.asarray(rng.normal(0, 1, (3, 40, 13)))
    clean = forward(params, s0s, x, 0.0, trace=True)
    same = forward(params, s0s, x, 0.0, trace=True, noise=(jax.random.PRNGKey(0), 0.0))
    noisy = forward(params, s0s, x, 0.0, trace=True, noise=(jax.random.PRNGKey(0), 0.2))
    assert np.allclose(clean[1], same[1])           # zero noise: identical candidates
    assert not np.allclose(clean[1], noisy[1])      # noise reaches the candidates...
    assert float(jnp.min(noisy[1])) >= 0.0          # ...which stay non-negative (ReLU after the noise)


def test_linear_readout_reads_the_signed_residual_and_is_exported_as_version_2(tmp_path):
    """A linear readout's logits W_cls u + b differ from the ReLU readout's where u < 0; config.json
    names it in format_version 2, and a ReLU model stays version 1 without the field."""
    rng = np.random.default_rng(9)
    t = random_tensors(rng, 13, 4, 2, 2)
    x = rng.normal(0, 1, (40, 13))
    p64 = reference.load_params(t)
    _, _, relu = reference.run(p64, x, "relu")
    _, _, linear = reference.run(p64, x, "linear")
    assert not np.allclose(relu, linear)
    with pytest.raises(ValueError):
        reference.run(p64, x, "sigmoid")
    for readout, version in [("relu", 1), ("linear", 2)]:
        cfg = export.write_config(tmp_path, "m", 13, 4, 2, ["yes", "other"], {"kind": "raw"}, {}, readout=readout)
        assert cfg["format_version"] == version and cfg.get("readout") == (None if readout == "relu" else "linear")
