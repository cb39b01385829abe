"""Atomic writes leave either the new file or the old one, never a partial file."""

import pytest

from common.io import atomic_path, read_json, write_json


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
