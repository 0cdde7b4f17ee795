"""JAX training model (eps = 0, float64) vs the independent numpy reference, and the cell rules.

Run: .venv/bin/python -m pytest -q scripts/train
"""
import json

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


def test_hysteresis_floor_and_readout_noise():
    """delta_min lifts every hysteresis width to the floor and keeps wider ones; readout noise moves
    the logits only, and zero noise changes nothing."""
    rng = np.random.default_rng(8)
    t = random_tensors(rng, 13, 4, 2, 2)
    t["blocks.0.cell.delta"][:2] = 1e-3
    params, s0s = model.from_named_tensors(t, jnp.float64)
    names = model.to_named_tensors(model.project(params, delta_min=0.05), s0s)
    unbounded = model.to_named_tensors(model.project(params), s0s)
    for k in range(2):
        wide = t[f"blocks.{k}.cell.delta"] >= 0.05
        assert names[f"blocks.{k}.cell.delta"].min() >= 0.05 - 1e-9
        assert np.allclose(names[f"blocks.{k}.cell.delta"][wide], t[f"blocks.{k}.cell.delta"][wide])
        assert np.allclose(unbounded[f"blocks.{k}.cell.delta"], t[f"blocks.{k}.cell.delta"])
    assert np.allclose(names["blocks.0.cell.delta"][:2], 0.05)
    x = jnp.asarray(rng.normal(0, 1, (3, 40, 13)))
    clean = forward(params, s0s, x, 0.0, trace=True)
    same = forward(params, s0s, x, 0.0, trace=True, readout_noise=(jax.random.PRNGKey(0), 0.0))
    noisy = forward(params, s0s, x, 0.0, trace=True, readout_noise=(jax.random.PRNGKey(0), 0.3))
    assert np.allclose(clean[0], same[0])
    assert np.allclose(clean[2], noisy[2])          # the states do not see the readout's noise...
    spread = np.std(np.asarray(noisy[0] - clean[0]))
    assert 0.25 < spread < 0.35                     # ...the logits carry it at its sigma


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


def tiny_model():
    """n = 1, d = 1, one block, ReLU readout: u0 = 2x + 0.5, c = ReLU(-0.4 ReLU(u0) + 1.5),
    beta_lo 0.2, delta 0.6 (beta_hi 0.8), alpha 1, p = ReLU(0.7 h - 0.2), logits [1, -0.5] ReLU(u1) + [0.1, -0.3]."""
    t = {"pre.weight": [[2.0]], "pre.bias": [0.5], "blocks.0.cell.weight": [[-0.4]], "blocks.0.cell.bias": [1.5],
         "blocks.0.cell.alpha": [1.0], "blocks.0.cell.beta_lo": [0.2], "blocks.0.cell.delta": [0.6],
         "blocks.0.cell.s0": [0.0], "blocks.0.post.weight": [[0.7]], "blocks.0.post.bias": [-0.2],
         "classifier.weight": [[1.0], [-0.5]], "classifier.bias": [0.1, -0.3]}
    return model.from_named_tensors({k: np.asarray(v, np.float64) for k, v in t.items()}, jnp.float64)


def test_power_estimate_by_hand():
    """x = [1, -1]: u0 = [2.5, -1.5], c = [0.5, 1.5] (hold 0, then set), p = [0, 0.5], u1 = [2.5, -1]."""
    params, s0s = tiny_model()
    x = jnp.asarray([[[1.0], [-1.0]]])
    _, sig = model.forward(params, s0s, x, 0.0, signals=True)
    est = {k: float(v) for k, v in model.power_estimate(params, x, sig).items()}
    # vdd_bias: reference 2, readout tail 0.1, pre.bias 0.5 into u0 and u1, the cell's 0.8 + 0.6 + 1,
    # the readout's |0.1| + |-0.3|; the negative post bias and the positive candidate bias are sinks.
    assert est["bias"] == pytest.approx(2 + 0.1 + 2 * 0.5 + 2.4 + 0.4)
    # vdd_cell: frame 0 comparator min(0.5, 0.8); frame 1 min(1.5 + 0.6, 0.8) + output 2 x 1 + feedback 0.6.
    assert est["cells"] == pytest.approx((0.5 + 0.8 + 2.6) / 2)
    ff = (0.1                        # the differential pair's tail
          + 2 * (2 * 1 + 0) / 2      # pre.weight 2 on x+ into u0 and u1 (x- carries no positive term)
          + 0.5                      # x+ copied (a PMOS weight on an NMOS line)
          + 1.5                      # candidate bias: an NMOS sink, drawn through the candidate's diode
          + (2.5 + 0) / 2            # ReLU(u0) copied for the negative candidate weight
          + (0 + 0.7) / 2 + 0.5      # post.weight on the state, and the state copied
          + 0.25 + 0.25              # p into u1, and p copied
          + 1.5 * 2.5 / 2 + 2.5 / 2)  # readout |1| + |-0.5| on ReLU(u1), and u1 copied
    assert est["feedforward"] == pytest.approx(ff)
    assert est["total"] == pytest.approx(est["bias"] + est["cells"] + ff)


def test_margin_penalty_by_hand_and_gradients():
    params, s0s = tiny_model()
    x = jnp.asarray([[[1.0], [-1.0]]])
    _, sig = model.forward(params, s0s, x, 0.0, signals=True)
    # Frame 0 (off): |0.5 - 0.8| = 0.3 against 3 x 0.2 sqrt(2) 0.8 (no threshold error); frame 1 (off): 0.7.
    r = 3 * 0.2 * np.sqrt(2) * 0.8
    got = float(model.margin_penalty(params, s0s, sig, 3.0, 0.2, threshold_error=0.0))
    assert got == pytest.approx((max(r - 0.3, 0) + max(r - 0.7, 0)) / 2)
    assert float(model.margin_penalty(params, s0s, sig, 0.0, 0.2)) == 0.0

    def terms(p):
        _, sig = model.forward(p, s0s, x, 0.0, signals=True)
        return model.power_estimate(p, x, sig)["total"], model.margin_penalty(p, s0s, sig, 3.0, 0.2)

    g_power = jax.grad(lambda p: terms(p)[0])(params)
    g_margin = jax.grad(lambda p: terms(p)[1])(params)
    for g in (g_power["pre"]["weight"], g_power["blocks"][0]["cell"]["p_alpha"], g_power["classifier"]["weight"],
              g_margin["blocks"][0]["cell"]["p_delta"], g_margin["blocks"][0]["cell"]["bias"]):
        assert float(jnp.abs(g).sum()) > 0


def test_new_terms_off_by_default_and_at_zero(tmp_path):
    """The margin is off by default; weights 0 give the original run bit for bit, a power weight
    changes it."""
    from scripts.train import train
    from safetensors.numpy import load_file

    def run(name, *extra):
        out = tmp_path / name
        train.main(["--task", "latch-d4", "--epochs", "2", "--golden", "2", "--no-progress", "--out", str(out), *extra])
        return load_file(str(out / "model.safetensors")), json.load(open(out / "training.json"))

    base, info = run("base")
    assert info["hyperparameters"]["margin"] == 0.0 and "power_nW" in info["circuit_estimate"]
    zero, _ = run("zero", "--power-weight", "0", "--margin", "0")
    power, _ = run("power", "--power-weight", "0.05")
    assert all(np.array_equal(base[k], zero[k]) for k in base)
    assert not all(np.array_equal(base[k], power[k]) for k in base)


def test_prune_zeroes_small_weights_only_and_names_them():
    """export.prune sets the weights below the floor to 0 (those the compiler omits), names each, and
    keeps biases and cell constants however small."""
    rng = np.random.default_rng(10)
    t = random_tensors(rng, 13, 4, 2, 2)
    t["pre.weight"][2, 12] = 0.003
    t["blocks.1.post.weight"][0, 3] = -0.001
    t["blocks.0.cell.bias"][1] = 0.001
    small = {n: int(np.sum(np.abs(v) < 0.0055)) for n, v in t.items() if n.endswith(".weight")}
    pruned, names = export.prune(t, 0.0055)
    assert "pre.weight[2][12]" in names and "blocks.1.post.weight[0][3]" in names
    assert len(names) == sum(small.values())
    assert pruned["pre.weight"][2, 12] == 0 and pruned["blocks.1.post.weight"][0, 3] == 0
    assert pruned["blocks.0.cell.bias"][1] == t["blocks.0.cell.bias"][1]
    for n, v in t.items():
        keep = np.abs(v) >= 0.0055 if n.endswith(".weight") else np.ones(v.shape, bool)
        assert np.array_equal(pruned[n][keep], v[keep])
        assert pruned[n].dtype == v.dtype
