"""The scorecard: every work's claims table in one table and on one self-contained page.

    python -m common.scorecard results/scorecard.csv results/scorecard.html CLAIMS...

The gatherer only concatenates, validates and links: each paper's claims table is
already in the common schema (common/claims.py). A table that lacks a column is an
error naming the file and the column. No row is dropped: a claim without a paper
value keeps ``no paper value`` there, and a claim whose measurement is missing
(empty ``measured`` or ``holds``) is kept with the verdict ``not measured``.

The page (:func:`render_html`) shows per work the claims held out of those checked,
each claim's row with the paper's value beside ours, the supporting figure as an
embedded thumbnail (each distinct figure embedded once), and filters by work and by
scale; it loads nothing at view time.
"""

from __future__ import annotations

import argparse
import base64
import functools
import html
import io
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from common.claims import COLUMNS

HOLDS, FAILS, NOT_MEASURED = "holds", "does not hold", "not measured"
NO_PAPER_VALUE = "no paper value"
SCORECARD_COLUMNS = (*COLUMNS, "verdict")
THUMBNAIL_WIDTH = 220


class ScorecardError(ValueError):
    """A claims table the scorecard cannot take as it is."""


def _is_blank(value) -> bool:
    return pd.isna(value) or str(value).strip() == ""


def verdict(row: pd.Series) -> str:
    """``holds``, ``does not hold``, or ``not measured`` where the measurement or the
    judgement is missing."""
    if _is_blank(row["measured"]) or _is_blank(row["holds"]):
        return NOT_MEASURED
    value = str(row["holds"]).strip().lower()
    if value not in ("true", "false"):
        raise ScorecardError(f"claim {row['claim']!r}: holds is {row['holds']!r}, not True, "
                             f"False or empty")
    return HOLDS if value == "true" else FAILS


def read_claims(path: str | os.PathLike) -> pd.DataFrame:
    """One work's claims table, checked against the common schema: every column present, each
    row with a claim and a work; the paper value and the verdict filled in explicitly."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    missing = [column for column in COLUMNS if column not in table.columns]
    if missing:
        raise ScorecardError(f"{path}: missing column(s) {', '.join(missing)} of the claims "
                             f"schema (common/claims.py)")
    for column in ("work", "claim", "source"):
        blank = table.index[table[column].map(_is_blank)].tolist()
        if blank:
            raise ScorecardError(f"{path}: column {column} is empty in row(s) "
                                 f"{', '.join(str(row + 2) for row in blank)}")
    try:
        verdicts = table.apply(verdict, axis=1) if len(table) else pd.Series(dtype=str)
    except ScorecardError as error:
        raise ScorecardError(f"{path}: {error}") from None
    table = table[list(COLUMNS)].assign(verdict=verdicts)
    table["paper_value"] = table["paper_value"].where(~table["paper_value"].map(_is_blank),
                                                      NO_PAPER_VALUE)
    table["measured"] = table["measured"].where(~table["measured"].map(_is_blank),
                                                NOT_MEASURED)
    return table


def gather(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Every claims table's rows, in the order given, with their verdicts."""
    tables = [read_claims(path) for path in paths]
    if not tables:
        raise ScorecardError("no claims table to gather")
    return pd.concat(tables, ignore_index=True)[list(SCORECARD_COLUMNS)]


def summary(scorecard: pd.DataFrame) -> pd.DataFrame:
    """Per work, in order of appearance: claims, those checked (measured), held, not held and
    not measured."""
    rows = []
    for work, block in scorecard.groupby("work", sort=False):
        counts = block["verdict"].value_counts()
        rows.append({"work": work, "claims": len(block),
                     "checked": int(counts.get(HOLDS, 0) + counts.get(FAILS, 0)),
                     "held": int(counts.get(HOLDS, 0)), "not_held": int(counts.get(FAILS, 0)),
                     "not_measured": int(counts.get(NOT_MEASURED, 0))})
    return pd.DataFrame(rows)


def data_kind(data: str) -> str:
    """What a claim was measured on, without the dataset names: the scale filter's groups."""
    return re.sub(r" \([^)]*\)", "", str(data))


# --------------------------------------------------------------------------- the page


@functools.cache
def thumbnail(path: str | os.PathLike) -> str:
    """A PNG figure shrunk to :data:`THUMBNAIL_WIDTH` pixels wide, as a data: URI."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
        height = max(1, round(image.height * THUMBNAIL_WIDTH / image.width))
        small = image.resize((THUMBNAIL_WIDTH, height), Image.LANCZOS)
        buffer = io.BytesIO()
        small.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin-bottom:1.5em}
td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;font-size:.9em}
th{background:#f2f2f2}
tr.holds td.verdict{background:#d9f2d9} tr.does-not-hold td.verdict{background:#f8d7d7}
tr.not-measured td.verdict{background:#eee}
td.value{max-width:24em} img{max-width:220px}
.filters{margin:1em 0} .filters label{margin-right:1.5em}
"""

SCRIPT = """
var thumbnails=JSON.parse(document.getElementById('thumbnails').textContent);
document.querySelectorAll('img[data-thumbnail]').forEach(function(image){
  image.src=thumbnails[image.dataset.thumbnail];
});
function applyFilters(){
  var work=document.getElementById('work-filter').value;
  var scale=document.getElementById('scale-filter').value;
  document.querySelectorAll('#claims tbody tr').forEach(function(row){
    var shown=(!work||row.dataset.work===work)&&(!scale||row.dataset.scale===scale);
    row.style.display=shown?'':'none';
  });
  document.getElementById('shown-count').textContent=
    document.querySelectorAll('#claims tbody tr:not([style*="none"])').length;
}
document.getElementById('work-filter').addEventListener('change',applyFilters);
document.getElementById('scale-filter').addEventListener('change',applyFilters);
"""


def _options(values: Iterable[str]) -> str:
    return "".join(f'<option value="{html.escape(value)}">{html.escape(value)}</option>'
                   for value in dict.fromkeys(values))


def _summary_html(scorecard: pd.DataFrame) -> str:
    rows = "".join(
        f'<tr data-work="{html.escape(row.work)}"><td>{html.escape(row.work)}</td>'
        f'<td class="held">{row.held}</td><td class="checked">{row.checked}</td>'
        f'<td class="not-measured">{row.not_measured}</td></tr>'
        for row in summary(scorecard).itertuples())
    return ('<table id="summary"><thead><tr><th>work</th><th>claims held</th>'
            '<th>claims checked</th><th>not measured</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def thumbnail_keys(scorecard: pd.DataFrame) -> dict[str, str]:
    """Each distinct figure of the scorecard, in order of appearance, by its key on the page
    (``t0``, ``t1``, ...): a figure several claims share is embedded once."""
    figures = dict.fromkeys(str(figure) for figure in scorecard["figure"]
                            if not _is_blank(figure))
    return {figure: f"t{number}" for number, figure in enumerate(figures)}


def _thumbnails_json(keys: dict[str, str], root: Path) -> str:
    """The thumbnails as a JSON object from key to data: URI, safe inside a script element."""
    data = {key: thumbnail(root / figure) for figure, key in keys.items()}
    return json.dumps(data).replace("</", "<\\/")


def _figure_cell(figure, keys: dict[str, str]) -> str:
    if _is_blank(figure):
        return "<td></td>"
    return (f'<td><a href="{html.escape(str(figure))}"><img alt="{html.escape(str(figure))}" '
            f'data-thumbnail="{keys[str(figure)]}"></a></td>')


def _claim_html(row: pd.Series, keys: dict[str, str]) -> str:
    scale = f"{row['scale']}: {data_kind(row['data'])}"
    cells = [html.escape(str(row["work"])), html.escape(str(row["source"])),
             html.escape(str(row["claim"])) + f"<br><small>{html.escape(str(row['evidence']))}"
                                              "</small>",
             html.escape(str(row["paper_value"])), html.escape(str(row["measured"])),
             html.escape(str(row["verdict"])),
             html.escape(f"{row['scale']} scale; {row['data']}"),
             f'<a href="{html.escape(str(row["output"]))}">{html.escape(str(row["output"]))}</a>']
    classes = ["work", "source", "claim", "value paper", "value ours", "verdict", "scale",
               "output"]
    tds = "".join(f'<td class="{name}">{cell}</td>' for name, cell in zip(classes, cells,
                                                                         strict=True))
    return (f'<tr class="{row["verdict"].replace(" ", "-")}" data-work="{html.escape(row["work"])}"'
            f' data-scale="{html.escape(scale)}">{tds}{_figure_cell(row["figure"], keys)}</tr>')


def render_html(scorecard: pd.DataFrame, root: str | os.PathLike = ".") -> str:
    """The scorecard as one self-contained HTML page (inline style and script, thumbnails as
    data: URIs, each distinct figure's once, which the script sets on every image showing
    it); links to outputs are relative to the workflow's directory ``root``."""
    root = Path(root)
    scales = [f"{row.scale}: {data_kind(row.data)}" for row in scorecard.itertuples()]
    keys = thumbnail_keys(scorecard)
    claims = "".join(_claim_html(row, keys) for _, row in scorecard.iterrows())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Scorecard: which claims hold</title>
<style>{STYLE}</style></head><body>
<h1>Scorecard: which of the five works' claims hold when rerun</h1>
<p>Each claim of each work's claims table (results/&lt;work&gt;/claims.csv), the paper's value
beside ours, the scale and data it was measured on, and the file that supports it.
A claim is checked when it was measured; "not measured" claims are listed, not counted.</p>
{_summary_html(scorecard)}
<div class="filters"><label>work <select id="work-filter"><option value="">all</option>
{_options(scorecard["work"])}</select></label>
<label>scale <select id="scale-filter"><option value="">all</option>{_options(scales)}
</select></label> <span><span id="shown-count">{len(scorecard)}</span> claims shown</span></div>
<table id="claims"><thead><tr><th>work</th><th>from</th><th>claim</th><th>paper</th>
<th>ours</th><th>verdict</th><th>scale and data</th><th>output</th><th>figure</th></tr></thead>
<tbody>{claims}</tbody></table>
<script type="application/json" id="thumbnails">{_thumbnails_json(keys, root)}</script>
<script>{SCRIPT}</script></body></html>
"""


def build(claims: Iterable[str], table: str | os.PathLike, page: str | os.PathLike,
          root: str | os.PathLike = ".") -> pd.DataFrame:
    """Gather ``claims`` into the scorecard table and page (written atomically)."""
    from common.io import atomic_path

    scorecard = gather(claims)
    with atomic_path(table) as temporary:
        scorecard.to_csv(temporary, index=False)
    with atomic_path(page) as temporary:
        Path(temporary).write_text(render_html(scorecard, root), encoding="utf-8")
    return scorecard


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table")
    parser.add_argument("page")
    parser.add_argument("claims", nargs="+")
    args = parser.parse_args(argv)
    build(args.claims, args.table, args.page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
