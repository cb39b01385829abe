"""bench.same_results: two results trees compared, wall-clock fields aside."""

import json

import pandas as pd
import torch

from bench.same_results import differences


def _tree(root, weight, seconds, mean, seconds_per_image):
    (root / "models").mkdir(parents=True)
    torch.save({"state": {"w": weight}, "train_seconds": seconds}, root / "models/m.pt")
    (root / "models/m.json").write_text(json.dumps({"accuracy": mean, "train_seconds": seconds}))
    pd.DataFrame({"method": ["ig"], "mean": [mean], "seconds_per_image": [seconds_per_image]}
                 ).to_csv(root / "summary.csv", index=False)
    (root / "provenance").mkdir()
    (root / "provenance/m.json").write_text(json.dumps({"wall_seconds": seconds}))
    return root


def test_runs_that_differ_only_in_their_timings_hold_the_same_results(tmp_path):
    first = _tree(tmp_path / "a", torch.ones(3), 1.5, 0.25, 0.01)
    second = _tree(tmp_path / "b", torch.ones(3), 9.0, 0.25, 0.07)
    assert differences(first, second) == []


def test_a_changed_weight_value_or_table_cell_is_reported(tmp_path):
    first = _tree(tmp_path / "a", torch.ones(3), 1.5, 0.25, 0.01)
    second = _tree(tmp_path / "b", torch.tensor([1.0, 1.0, 1.0 + 1e-7]), 1.5, 0.2501, 0.01)
    assert differences(first, second) == [("models/m.json", "differs"),
                                          ("models/m.pt", "differs"),
                                          ("summary.csv", "differs")]
    (second / "summary.csv").unlink()
    assert ("summary.csv", "missing") in differences(first, second)
