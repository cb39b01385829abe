"""The scorecard's gatherer (common/scorecard.py) and the claims schema (common/claims.py) on
fabricated claims tables: no claim is ever dropped silently."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import REPO

from common.claims import COLUMNS, claim_row, claims_table, describe_data
from common.scorecard import (
    NO_PAPER_VALUE,
    NOT_MEASURED,
    ScorecardError,
    gather,
    render_html,
    summary,
)

CONFIG = {"scale": "embedded", "datasets": {"cars": {"root": None}, "faces": {"root": None},
                                            "scenes": {"root": "resources/voc"}}}


def fabricated(work: str, verdicts: list, **overrides) -> pd.DataFrame:
    """A claims table in the common schema with one row per verdict (None: not measured)."""
    rows = [{"work": work, "source": f"Fig. {number}", "claim": f"{work} claim {number}",
             "evidence": "how", "paper_value": "0.5", "measured": "0.4" if holds is not None
             else None, "holds": holds, "scale": "embedded", "data": "generated images (cars)",
             "output": f"results/{work}/table.csv", "figure": None}
            for number, holds in enumerate(verdicts)]
    return pd.DataFrame(rows, columns=list(COLUMNS)).assign(**overrides)


def write(tmp_path, work: str, frame: pd.DataFrame):
    path = tmp_path / work / "claims.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def test_gather_counts_each_works_claims_held_out_of_those_checked(tmp_path):
    paths = [write(tmp_path, "dxai", fabricated("dxai", [True, False, True])),
             write(tmp_path, "pv", fabricated("pv", [True, None]))]
    scorecard = gather(paths)
    assert len(scorecard) == 5 and list(scorecard["work"]) == ["dxai"] * 3 + ["pv"] * 2
    counts = summary(scorecard).set_index("work")
    assert counts.loc["dxai", ["held", "checked", "not_measured"]].tolist() == [2, 3, 0]
    assert counts.loc["pv", ["held", "checked", "not_measured"]].tolist() == [1, 1, 1]


def test_a_missing_column_is_an_error_naming_the_file_and_the_column(tmp_path):
    path = write(tmp_path, "survey", fabricated("survey", [True]).drop(columns="paper_value"))
    with pytest.raises(ScorecardError, match=r"survey/claims.csv: missing column\(s\) "
                                             r"paper_value"):
        gather([path])


def test_a_claim_without_a_paper_value_is_kept_and_says_so(tmp_path):
    frame = fabricated("pv", [True, False])
    frame.loc[1, "paper_value"] = None
    scorecard = gather([write(tmp_path, "pv", frame)])
    assert len(scorecard) == 2
    assert scorecard["paper_value"].tolist() == ["0.5", NO_PAPER_VALUE]
    assert scorecard["verdict"].tolist() == ["holds", "does not hold"]


def test_a_nan_measurement_is_kept_as_not_measured_and_not_counted_as_checked(tmp_path):
    frame = fabricated("cartoonx", [True, True])
    frame.loc[1, "measured"] = float("nan")  # a judgement without a measurement: not measured
    scorecard = gather([write(tmp_path, "cartoonx", frame)])
    assert scorecard["verdict"].tolist() == ["holds", NOT_MEASURED]
    assert scorecard["measured"].tolist() == ["0.4", NOT_MEASURED]
    assert summary(scorecard).loc[0, ["held", "checked"]].tolist() == [1, 1]


def test_an_unreadable_verdict_or_a_claim_without_a_work_is_an_error(tmp_path):
    with pytest.raises(ScorecardError, match="holds is 'maybe'"):
        gather([write(tmp_path, "dxai", fabricated("dxai", [True], holds="maybe"))])
    frame = fabricated("dxai", [True])
    frame.loc[0, "work"] = None
    with pytest.raises(ScorecardError, match="column work is empty in row"):
        gather([write(tmp_path, "dxai", frame)])
    with pytest.raises(ScorecardError, match="no claims table"):
        gather([])


def test_claims_table_describes_the_data_and_resolves_the_supporting_files():
    rows = [claim_row("Fig. 1", "a claim", "how", "0.5", "0.4", True, "table", "figure",
                      datasets=["cars"]),
            claim_row("Sec. 4", "a study", "how", None, "p < 0.05", True, "tests", datasets=(),
                      kind="real participants"),
            claim_row("Table 1", "a table", "how", "x", "y", False, "table",
                      kind="simulated observers")]
    table = claims_table(rows, "pv", CONFIG, {"table": "results/pv/t.csv", "tests": "t2.csv",
                                             "figure": "results/pv/f.png"}, ["scenes", "cars"])
    assert list(table.columns) == list(COLUMNS)
    assert table["data"].tolist() == [
        "generated images (cars)", "real participants",
        "simulated observers on real images (scenes); generated images (cars)"]
    assert table["output"].tolist() == ["results/pv/t.csv", "t2.csv", "results/pv/t.csv"]
    assert table["figure"].tolist()[0] == "results/pv/f.png" and (table["work"] == "pv").all()
    with pytest.raises(ValueError, match="its figure 'nowhere' is none of the claims rule"):
        claims_table([claim_row("Fig. 1", "c", "e", "p", "m", True, "table", "nowhere")], "pv",
                     CONFIG, {"table": "t.csv"}, ["cars"])


def test_describe_data_says_shipped_real_and_generated_apart():
    assert describe_data(CONFIG, ["cars", "faces", "cars"]) == \
        "generated images (cars); shipped real images (faces)"


def test_the_page_is_self_contained_and_embeds_the_figure(tmp_path):
    from PIL import Image

    figure = tmp_path / "results" / "dxai" / "figure.png"
    figure.parent.mkdir(parents=True)
    Image.new("RGB", (40, 20), "red").save(figure)
    frame = fabricated("dxai", [True, False]).assign(figure="results/dxai/figure.png")
    page = render_html(gather([write(tmp_path, "dxai", frame)]), root=tmp_path)
    assert "data:image/png;base64," in page
    assert "http://" not in page and "https://" not in page and "<link" not in page
    assert page.count('<tr class="holds"') == 1 and page.count('class="does-not-hold"') == 1


def test_the_readme_points_to_the_scorecard_instead_of_restating_counts():
    """The README's first screen (its first 40 lines) names the scorecard; its status table
    states no count of claims held by hand."""
    readme = (REPO / "README.md").read_text().splitlines()
    assert any("results/scorecard.html" in line for line in readme[:40])
    status = [line for line in readme[:40] if line.startswith("| ") and "papers/" in line]
    assert status and not any(" held" in line or "/ " in line for line in status)


def test_the_page_embeds_each_distinct_figure_once(tmp_path):
    """Three claims share one figure and a fourth has its own: the page holds two thumbnails,
    each once, and every image names one of them."""
    import json
    import re

    from PIL import Image

    from common.scorecard import thumbnail

    for name, colour in (("shared", "red"), ("own", "blue")):
        Image.new("RGB", (40, 20), colour).save(tmp_path / f"{name}.png")
    frame = fabricated("dxai", [True, False, None, True])
    frame["figure"] = ["shared.png", "shared.png", "own.png", "shared.png"]
    page = render_html(gather([write(tmp_path, "dxai", frame)]), root=tmp_path)
    uris = {name: thumbnail(tmp_path / f"{name}.png") for name in ("shared", "own")}
    assert uris["shared"] != uris["own"]
    assert page.count("data:image/png;base64,") == 2
    assert all(page.count(uri) == 1 for uri in uris.values())
    embedded = json.loads(re.search(r'<script type="application/json" id="thumbnails">'
                                    r"(.*?)</script>", page, re.S).group(1))
    shown = re.findall(r'<img alt="([^"]+)" data-thumbnail="(\w+)">', page)
    assert [figure for figure, _ in shown] == list(frame["figure"])
    assert all(embedded[key] == uris[figure.removesuffix(".png")] for figure, key in shown)
