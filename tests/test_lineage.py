"""The lineage audit on a hand-made provenance tree: a broken record is named and the
audit goes on with the others."""

import json

import pytest

from common import lineage, provenance
from common.io import sha256_file


def _record(output: str, inputs: list[str]) -> dict:
    return {"rule": "make", "wildcards": {}, "params": {}, "seed": 0, "device": "cpu",
            "code": {"commit": None, "dirty": None, "script": "make.py", "modules": {}},
            "packages": {}, "started": "t0", "finished": "t1", "wall_seconds": 1.0,
            "wandb": {"mode": "disabled", "run_id": None, "dir": None},
            "inputs": [{"path": path, "sha256": sha256_file(path)} for path in inputs]}


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """data/raw.txt -> results/good.txt; results/cut.txt's record cut off mid-write."""
    monkeypatch.chdir(tmp_path)
    lineage._current_sha.cache_clear()  # hashes are cached by relative path, per process
    for path, text in {"data/raw.txt": "raw", "results/good.txt": "good",
                       "results/cut.txt": "cut"}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    provenance.write_records(_record("results/good.txt", ["data/raw.txt"]), ["results/good.txt"])
    provenance.write_records(_record("results/cut.txt", []), ["results/cut.txt"])
    cut = provenance.record_path("results/cut.txt")
    cut.write_text(cut.read_text()[:40])
    return tmp_path


def test_verify_names_a_broken_record_and_audits_the_others(tree, capsys):
    (tree / "data/raw.txt").write_text("changed")
    found = {(item["role"], item["path"]) for item in lineage.verify()}
    cut = str(provenance.record_path("results/cut.txt"))
    assert found == {("record", cut), ("input", "data/raw.txt")}
    assert lineage.main(["verify"]) == 1
    printed = capsys.readouterr().out
    assert f"BROKEN record {cut} (of results/cut.txt)" in printed
    assert "MISMATCH input data/raw.txt" in printed


def test_show_and_stale_name_a_broken_record(tree, capsys):
    assert lineage.main(["show", "results/good.txt"]) == 0
    capsys.readouterr()
    assert lineage.main(["show", "results/cut.txt"]) == 1
    assert "BROKEN record" in capsys.readouterr().out
    assert lineage.main(["--json", "stale"]) == 0
    stale = json.loads(capsys.readouterr().out)
    assert list(stale) == ["results/cut.txt"]
    assert stale["results/cut.txt"][0].startswith("broken record")


def test_a_record_without_the_audited_keys_is_broken(tree):
    provenance.record_path("results/good.txt").write_text("{}")
    with pytest.raises(provenance.BrokenRecord, match="missing output"):
        provenance.read_record("results/good.txt")


def _timed(rule: str, wildcards: dict, started: str, finished: str, wall: float,
           process: float | None) -> dict:
    return {"rule": rule, "wildcards": wildcards, "started": started, "finished": finished,
            "wall_seconds": wall, "execution": {"process_seconds": process}}


def test_timings_count_each_job_once_and_span_the_run(tmp_path, monkeypatch, capsys):
    """Known answer: a job with two outputs wrote two records and counts once; rules are
    ordered by their summed seconds; the span runs from the first start to the last end."""
    monkeypatch.chdir(tmp_path)
    jobs = [(_timed("train", {"data": "a"}, "2026-01-01T00:00:00+00:00",
                    "2026-01-01T00:01:40+00:00", 100.0, 103.0), ["m/a.pt", "m/a.json"]),
            (_timed("train", {"data": "b"}, "2026-01-01T00:00:00+00:00",
                    "2026-01-01T00:00:50+00:00", 50.0, 52.5), ["m/b.pt"]),
            (_timed("figure", {}, "2026-01-01T00:01:41+00:00",
                    "2026-01-01T00:02:00+00:00", 19.0, None), ["f.pdf"])]
    for job, outputs in jobs:
        for output in outputs:
            provenance.write_json(provenance.record_path(output),
                                  {**job, "output": output, "output_sha256": "0", "inputs": [],
                                   "code": {}})
    rows = lineage.rule_timings(provenance.read_all_records()[0])
    assert [(row["rule"], row["jobs"], row["seconds"], row["longest"], row["process_seconds"])
            for row in rows] == [("train", 2, 150.0, 100.0, 155.5), ("figure", 1, 19.0, 19.0, None)]
    assert lineage.run_span(provenance.read_all_records()[0]) == 120.0
    assert lineage.main(["timings", "--cores", "2"]) == 0
    printed = capsys.readouterr().out
    assert "| train | 2 | 150 | 88.8 % | 100 | 156 |" in printed
    assert "| figure | 1 | 19 | 11.2 % | 19 |  |" in printed
    assert "| all | 3 | 169 | 100 % | |  |" in printed
    assert "last job's end: 120 s" in printed


def test_timings_give_the_bounds_no_schedule_goes_below(tmp_path, monkeypatch, capsys):
    """Known answer on a run of four jobs: the chain data -> train a (process 103 s) ->
    figure (19 s, no process seconds recorded: its clock) is the longest (122 s), longer than
    data -> train b (52.5 s); a job reading its own output does not loop."""
    monkeypatch.chdir(tmp_path)
    jobs = [(_timed("data", {}, "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:02+00:00",
                    2.0, 0.0), ["d.npz"], ["d.npz"]),
            (_timed("train", {"data": "a"}, "2026-01-01T00:00:02+00:00",
                    "2026-01-01T00:01:42+00:00", 100.0, 103.0), ["m/a.pt", "m/a.json"],
             ["d.npz"]),
            (_timed("train", {"data": "b"}, "2026-01-01T00:00:02+00:00",
                    "2026-01-01T00:00:52+00:00", 50.0, 52.5), ["m/b.pt"], ["d.npz"]),
            (_timed("figure", {}, "2026-01-01T00:01:43+00:00", "2026-01-01T00:02:02+00:00",
                    19.0, None), ["f.pdf"], ["m/a.json", "m/b.pt", "code.py"])]
    for job, outputs, inputs in jobs:
        for output in outputs:
            provenance.write_json(provenance.record_path(output),
                                  {**job, "output": output, "output_sha256": "0", "code": {},
                                   "inputs": [{"path": path, "sha256": "0"} for path in inputs]})
    records = provenance.read_all_records()[0]
    assert lineage.longest_chain(records) == (122.0, ("data", "train", "figure"))
    assert lineage.main(["timings", "--cores", "2"]) == 0
    assert ("No schedule on 2 cores ends sooner than the jobs' processes shared by the cores "
            "(174 s / 2 = 87 s) or the longest chain of jobs each reading the one before's "
            "output (122 s: data -> train -> figure).") in capsys.readouterr().out
