"""The scorecard page opened in headless Chromium (the ``browser`` fixture): a small run of
the gatherer on fabricated claims tables shows each work's counts, and the filters work."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO
from test_scorecard import fabricated, write

By = pytest.importorskip("selenium.webdriver.common.by").By
Select = pytest.importorskip("selenium.webdriver.support.ui").Select


def _build(tmp_path) -> tuple:
    """Two works' claims tables, the second with a paper-scale claim, gathered by the
    command line as the workflow's script gathers them."""
    from PIL import Image

    Image.new("RGB", (60, 30), "blue").save(tmp_path / "figure.png")
    dxai = fabricated("dxai", [True, False, True, None], figure="figure.png")
    pv = fabricated("pv", [True, True])
    pv.loc[1, ["scale", "data"]] = ["paper", "real participants"]
    paths = [write(tmp_path, "dxai", dxai), write(tmp_path, "pv", pv)]
    subprocess.run([sys.executable, "-m", "common.scorecard", "scorecard.csv", "scorecard.html",
                    *map(str, paths)], cwd=tmp_path, check=True,
                   env={"PYTHONPATH": str(REPO), "PATH": ""})
    return tmp_path / "scorecard.html"


def _counts(browser) -> dict:
    return {row.get_attribute("data-work"): [cell.text for cell in
                                             row.find_elements(By.TAG_NAME, "td")[1:]]
            for row in browser.find_elements(By.CSS_SELECTOR, "#summary tbody tr")}


def _shown(browser) -> int:
    return int(browser.find_element(By.ID, "shown-count").text)


def test_the_page_shows_each_works_counts_and_filters_by_work_and_scale(tmp_path, browser):
    browser.get(_build(tmp_path).as_uri())
    assert _counts(browser) == {"dxai": ["2", "3", "1"], "pv": ["2", "2", "0"]}
    assert _shown(browser) == 6
    images = [image.get_attribute("src") for image in browser.find_elements(By.TAG_NAME, "img")]
    assert len(images) == 4 and all(src.startswith("data:image/png") for src in images)
    Select(browser.find_element(By.ID, "work-filter")).select_by_value("pv")
    assert _shown(browser) == 2
    Select(browser.find_element(By.ID, "scale-filter")).select_by_value("paper: real participants")
    assert _shown(browser) == 1
    visible = [row for row in browser.find_elements(By.CSS_SELECTOR, "#claims tbody tr")
               if row.is_displayed()]
    assert [row.find_element(By.CLASS_NAME, "claim").text.splitlines()[0] for row in visible] \
        == ["pv claim 1"]
