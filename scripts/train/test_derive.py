"""derive: a model folder made from a trained one at another unit current, its omitted weights pruned.

Run: .venv/bin/python -m pytest -q scripts/train
"""
import json
import os

import numpy as np
import pytest
from safetensors.numpy import load_file

from scripts.train import derive, reference

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_DATA = os.path.join(os.path.dirname(REPO), "shared", "data", "speech_commands_v0.02_test")
SOURCE = os.path.join(REPO, "results", "models", "kws-yes-d4")


@pytest.mark.skipif(not os.path.isdir(SHARED_DATA), reason="no shared Speech Commands data")
def test_derived_model_keeps_the_network_prunes_omitted_weights_and_recounts_accuracy(tmp_path):
    out = tmp_path / "half"
    derive.main([SOURCE, "--out", str(out), "--unit-current", "2.5e-10", "--prune-below", "0.0055",
                 "--data", SHARED_DATA])
    config = json.loads((out / "config.json").read_text())
    source_config = json.load(open(os.path.join(SOURCE, "config.json")))
    assert config["unit_current"] == 2.5e-10 and config["name"] == "half"
    assert {k: v for k, v in config.items() if k not in ("unit_current", "name", "training")} == \
        {k: v for k, v in source_config.items() if k not in ("unit_current", "name", "training")}
    a, b = load_file(os.path.join(SOURCE, "model.safetensors")), load_file(str(out / "model.safetensors"))
    training = json.loads((out / "training.json").read_text())
    # kws-yes-d4's two weights below GF180's smallest mirror ratio (bmru model lint), and only those.
    assert training["derived_from"]["pruned_weights"] == ["pre.weight[2][12]", "pre.weight[3][9]"]
    changed = np.argwhere(a["pre.weight"] != b["pre.weight"]).tolist()
    assert changed == [[2, 12], [3, 9]] and b["pre.weight"][2, 12] == 0 and b["pre.weight"][3, 9] == 0
    assert all(np.array_equal(a[n], b[n]) for n in a if n != "pre.weight")
    # Accuracies recounted on the clean features of the validation and test clips: the source's counts.
    source_training = json.load(open(os.path.join(SOURCE, "training.json")))
    assert training["accuracy"] == source_training["accuracy"]
    assert config["training"]["val_accuracy"] == training["accuracy"]["val"]
    # Golden vectors: the source's inputs through the derived network.
    golden, source_golden = load_file(str(out / "golden.safetensors")), load_file(os.path.join(SOURCE, "golden.safetensors"))
    assert np.array_equal(golden["inputs"], source_golden["inputs"])
    _, states, logits = reference.run(reference.load_params(b), golden["inputs"][0])
    assert np.array_equal(golden["states"][0], states) and np.allclose(golden["logits"][0], logits)
    assert (out / "split.json").read_text() == open(os.path.join(SOURCE, "split.json")).read()


def test_bad_source_or_existing_folder_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        derive.main([str(tmp_path / "nothing"), "--out", str(tmp_path / "x")])
    assert exit_.value.code == 2 and "nothing/config.json: missing" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        derive.main([SOURCE, "--out", str(tmp_path)])
    assert f"{tmp_path}: exists" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        derive.main([SOURCE, "--out", str(tmp_path / "y"), "--unit-current", "-1"])
    assert "--unit-current -1.0: must be a positive number" in capsys.readouterr().err
