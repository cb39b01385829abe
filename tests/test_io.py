"""Atomic writes leave either the new file or the old one, never a partial file."""

import re
from pathlib import Path

import pytest

from common.io import atomic_path, read_json, save_torch, write_json


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["table.csv"]


def test_write_keeps_the_suffix_for_format_sniffing_writers(tmp_path):
    with atomic_path(tmp_path / "figure.pdf") as temporary:
        assert temporary.suffix == ".pdf" and temporary.parent == tmp_path
        temporary.write_text("pdf")
    assert (tmp_path / "figure.pdf").read_text() == "pdf"


def test_json_round_trip(tmp_path):
    write_json(tmp_path / "a" / "b.json", {"b": 1, "a": [1.5, "x"]})
    assert read_json(tmp_path / "a" / "b.json") == {"a": [1.5, "x"], "b": 1}


def test_saved_checkpoints_have_the_same_bytes_whatever_their_name(tmp_path):
    """torch names an archive's records after the file it writes; the workflow's .pt files
    must not carry their temporary name (with its process id) in their bytes."""
    import torch

    from common.models import build_classifier
    from common.models.train import save_checkpoint

    torch.manual_seed(0)
    model = build_classifier("simple", num_classes=2, image_size=16)
    optimiser = torch.optim.Adam(model.parameters())
    paths = [tmp_path / "first" / "seed0.pt", tmp_path / "second" / "other.pt"]
    for path in paths:
        save_checkpoint(path, {"seed": 0}, [], model, optimiser)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    loaded = torch.load(paths[1], weights_only=True)
    torch.testing.assert_close(loaded["model"], model.state_dict())
    assert sorted(path.name for path in (tmp_path / "first").iterdir()) == ["seed0.pt"]


def test_a_killed_writes_leftover_is_removed_when_the_output_is_written_again(tmp_path):
    leftover = tmp_path / ".table.tmp4242.csv"
    leftover.write_text("half")
    unrelated = tmp_path / ".other.tmp4242.csv"
    unrelated.write_text("someone else's")
    with atomic_path(tmp_path / "table.csv") as temporary:
        temporary.write_text("whole")
    assert sorted(path.name for path in tmp_path.iterdir()) == [".other.tmp4242.csv",
                                                                "table.csv"]


def test_a_full_disk_names_the_output_and_keeps_the_old_one(tmp_path, monkeypatch):
    """The device is full (Linux's /dev/full): torch alone says "No space left on device"."""
    import torch

    target = tmp_path / "model.pt"
    target.write_bytes(b"the model of the last good run")
    opened = Path.open

    def full_disk(path, mode="r", *args, **kwargs):
        return opened(Path("/dev/full") if ".tmp" in path.name else path, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", full_disk)
    with pytest.raises(OSError, match=rf"no space left .* to write {re.escape(str(target))}"):
        save_torch({"weights": torch.zeros(100_000)}, target)
    assert target.read_bytes() == b"the model of the last good run"
    assert [path.name for path in tmp_path.iterdir()] == ["model.pt"]
