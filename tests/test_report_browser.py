"""The HTML report of a partly built tree, opened in headless Chromium (the ``browser``
fixture): a figure is on the page with its caption and its provenance beside it."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import snakemake

By = pytest.importorskip("selenium.webdriver.common.by").By
WebDriverWait = pytest.importorskip("selenium.webdriver.support.ui").WebDriverWait

TINY = ["--configfile", "tests/tiny.yaml"]
FIGURE = "results/models/figures/predictions_peppers_simple_seed0.png"
CAPTION = "row-normalised confusion matrix on the test split"


def _open(browser, report, category: str, action: str) -> str:
    """Open the report, go to a category, press a row's button (``eye`` shows the file,
    ``information-circle`` its details); the page's text."""
    browser.get(report.as_uri())
    wait = WebDriverWait(browser, 30)
    wait.until(lambda page: page.find_elements(By.LINK_TEXT, category))[0].click()
    wait.until(lambda page: page.find_elements(By.CSS_SELECTOR,
                                               f"tr a[iconname='{action}']"))[0].click()
    wait.until(lambda page: len(page.find_element(By.TAG_NAME, "body").text) > 0)
    return browser.find_element(By.TAG_NAME, "body").text


def test_the_report_of_what_was_built_shows_a_figure_its_caption_and_provenance(
        pristine_copy, tmp_path, browser):
    copy = shutil.copytree(pristine_copy, tmp_path / "copy", symlinks=True)
    snakemake([FIGURE, "--cores", "2", *TINY], copy)
    snakemake([FIGURE, "--cores", "1", *TINY, "--report", "report.html"], copy)  # README's
    record = json.loads((copy / "results/provenance" / f"{FIGURE}.json").read_text())
    assert len(record["inputs"]) == 3

    details = _open(browser, copy / "report.html", "Classifiers", "information-circle")
    assert CAPTION in details
    for shown in (record["code"]["commit"][:12], record["wandb"]["run_id"],
                  *(item["sha256"][:12] for item in record["inputs"])):
        assert shown in details

    _open(browser, copy / "report.html", "Classifiers", "eye")
    images = [image.get_attribute("src") for image in browser.find_elements(By.TAG_NAME, "img")]
    assert any(src.startswith("data:image/png") and "predictions_peppers_simple_seed0" in src
               for src in images)
