"""split.json: the record of the kws-yes split (data.split_record, export_split).

Run: .venv/bin/python -m pytest -q scripts/train
"""
import json
import os

import pytest

from scripts.train import data, export_split

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_DATA = os.path.join(os.path.dirname(REPO), "shared", "data", "speech_commands_v0.02_test")


def make_folder(root, files):
    for rel in files:
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "wb").close()
    return str(root)


def test_record_lists_task_clips_per_split_and_extra_negatives_apart(tmp_path):
    # sha1 buckets: aaa 21 (train), bbb 94 (test), ccc 66 (train); _silence_ 971.wav 89 (test).
    folder = make_folder(tmp_path / "sc", ["yes/aaa_nohash_0.wav", "yes/bbb_nohash_0.wav", "no/ccc_nohash_0.wav",
                                           "_silence_/971.wav", "go/aaa_nohash_1.wav", "go/bbb_nohash_1.wav"])
    clips = data.list_clips(folder, ["yes"] + data.NEGATIVE_WORDS + ["go"])
    record = data.split_record(folder, clips, ("go",))
    assert (record["format"], record["format_version"], record["data"]) == ("bmru-split", 1, "sc")
    assert record["keyword"] == "yes" and record["negative_words"] == data.NEGATIVE_WORDS
    assert record["clips"] == {"train": ["yes/aaa_nohash_0.wav", "no/ccc_nohash_0.wav"], "validation": [],
                               "test": ["yes/bbb_nohash_0.wav", "_silence_/971.wav"]}
    assert record["balanced"] == {"train": ["yes/aaa_nohash_0.wav", "no/ccc_nohash_0.wav"], "validation": [],
                                  "test": ["yes/bbb_nohash_0.wav", "_silence_/971.wav"]}
    assert record["extra_training_words"] == ["go"]
    assert record["extra_training_clips"] == ["go/aaa_nohash_1.wav"]


@pytest.mark.skipif(not os.path.isdir(SHARED_DATA), reason="no shared Speech Commands data")
@pytest.mark.parametrize("model", ["kws-yes-d4", "kws-yes-d4-lowpower", "kws-yes-d16"])
def test_committed_split_files_are_the_pipelines_split(model, tmp_path):
    model_dir = os.path.join(REPO, "results", "models", model)
    out = tmp_path / model
    out.mkdir()
    for name in ["config.json", "training.json"]:
        (out / name).write_text(open(os.path.join(model_dir, name)).read())
    export_split.main([str(out), SHARED_DATA])
    with open(os.path.join(model_dir, "split.json")) as committed:
        assert json.loads((out / "split.json").read_text()) == json.load(committed)
    training = json.load(open(os.path.join(model_dir, "training.json")))
    record = json.loads((out / "split.json").read_text())
    assert [len(record["balanced"][s]) for s in ["validation", "test"]] == [
        training["accuracy"][s]["n"] for s in ["val", "test"]]
