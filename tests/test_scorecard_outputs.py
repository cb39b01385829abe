"""The scorecard of the tiny run: built by the workflow from every work's claims table, its
counts those of the tables, each row's supporting files there, each thumbnail once."""

import re

import pandas as pd
import pytest

from common.claims import COLUMNS
from common.scorecard import FAILS, HOLDS, NOT_MEASURED, SCORECARD_COLUMNS

pytestmark = pytest.mark.workflow

WORKS = ("dxai", "survey", "pv", "cartoonx", "course")


@pytest.fixture(scope="module")
def scorecard(tiny_run):
    table = pd.read_csv(tiny_run / "results/scorecard.csv", dtype=str, keep_default_na=False)
    page = (tiny_run / "results/scorecard.html").read_text(encoding="utf-8")
    claims = {work: pd.read_csv(tiny_run / f"results/{work}/claims.csv", dtype=str,
                                keep_default_na=False) for work in WORKS}
    return tiny_run, table, page, claims


def test_every_work_is_on_the_scorecard_with_each_of_its_claims(scorecard):
    _, table, _, claims = scorecard
    assert list(table.columns) == list(SCORECARD_COLUMNS)
    assert list(dict.fromkeys(table["work"])) == list(WORKS)
    for work, own in claims.items():
        assert list(own.columns) == list(COLUMNS), work
        rows = table[table["work"] == work]
        assert len(rows) == len(own) > 0, work
        assert rows["claim"].tolist() == own["claim"].tolist()


def test_the_verdicts_are_those_of_the_claims_tables(scorecard):
    _, table, _, claims = scorecard
    for work, own in claims.items():
        rows = table[table["work"] == work].reset_index(drop=True)
        unmeasured = (own["measured"].str.strip() == "") | (own["holds"].str.strip() == "")
        expected = [NOT_MEASURED if missing else HOLDS if holds.lower() == "true" else FAILS
                    for missing, holds in zip(unmeasured, own["holds"], strict=True)]
        assert rows["verdict"].tolist() == expected, work


def test_the_page_counts_match_the_table(scorecard):
    _, table, page, _ = scorecard
    shown = {work: tuple(map(int, counts)) for work, *counts in re.findall(
        r'<tr data-work="(\w+)"><td>\w+</td><td class="held">(\d+)</td>'
        r'<td class="checked">(\d+)</td><td class="not-measured">(\d+)</td></tr>', page)}
    assert list(shown) == list(WORKS)
    for work, (held, checked, not_measured) in shown.items():
        verdicts = table.loc[table["work"] == work, "verdict"]
        assert held == (verdicts == HOLDS).sum(), work
        assert checked == verdicts.isin([HOLDS, FAILS]).sum(), work
        assert not_measured == (verdicts == NOT_MEASURED).sum(), work
    assert page.count('<tr class="') == len(table)


def test_each_rows_output_and_figure_exist_and_each_thumbnail_is_embedded_once(scorecard):
    run, table, page, _ = scorecard
    for row in table.itertuples():
        assert (run / row.output).is_file(), (row.work, row.claim, row.output)
        if row.figure:
            assert row.figure.endswith(".png") and (run / row.figure).is_file(), row.figure
    figures = set(table["figure"]) - {""}
    assert set(table.loc[table["figure"] != "", "work"]) == set(WORKS)  # each shows figures
    uris = re.findall(r'"(data:image/png;base64,[^"]+)"', page)
    assert len(uris) == len(set(uris)) == len(figures)
    assert page.count("<img ") == (table["figure"] != "").sum()
