"""The PV survey pages in headless Chromium: answer by clicking, and the analysis reads the result.

Needs Debian's chromium and chromium-driver (the ``browser`` fixture, tests/conftest.py).
"""

from __future__ import annotations

import pytest
import torch

from papers.pv import study
from papers.pv.survey_kit import CANT_TELL, png_data_uri, render_survey, select_questions

By = pytest.importorskip("selenium.webdriver.common.by").By

CLASSES = ("disc", "square", "triangle", "ring", "cross", "star")


def _questions():
    """Four images: two the model gets right, two it gets wrong (top class not a true label)."""
    probabilities = torch.tensor([[0.9, 0.8, 0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.9, 0.1, 0.1, 0.1],
                                  [0.1, 0.2, 0.9, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1, 0.1, 0.8]])
    labels = torch.tensor([[1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0],
                           [1, 1, 0, 1, 1, 1], [1, 0, 0, 1, 0, 0]])
    return select_questions(probabilities, labels, CLASSES,
                            {"model_right": 2, "model_wrong": 2}, seed=0)


def _page(tmp_path, arm, questions):
    image = png_data_uri(torch.rand(3, 8, 8))
    path = tmp_path / f"{arm}.html"
    path.write_text(render_survey(arm, questions, [image] * len(questions),
                                  [image] * len(questions)))
    return path.as_uri()


def _start(browser, url, participant):
    browser.get(url)
    browser.find_element(By.ID, "participant").send_keys(participant)
    browser.find_element(By.ID, "begin").click()


def _shown_options(browser, number):
    return [element.get_attribute("value")
            for element in browser.find_elements(By.NAME, f"q{number}")]


def _answer(browser, url, participant, questions) -> tuple[str, dict[str, int]]:
    """Name the prediction on the first question of each case and "can't tell" on the others;
    submit, and return the page's scores CSV and how many answers named the prediction."""
    _start(browser, url, participant)
    expected = {"model_wrong": 0, "model_right": 0}
    answered = set()
    for question in questions:
        choice = question.prediction if question.case not in answered else CANT_TELL
        expected[question.case] += choice == question.prediction
        answered.add(question.case)
        browser.find_element(
            By.CSS_SELECTOR, f'input[name="q{question.number}"][value="{choice}"]').click()
    browser.find_element(By.ID, "submit").click()
    return browser.find_element(By.ID, "scores").get_attribute("value"), expected


def test_clicked_surveys_give_the_scores_the_analysis_reads(browser, tmp_path):
    """Two participants, one per arm, each saving their page's file into one folder: the
    analysis reads the folder and computes Table 1 and the tests from it."""
    questions = _questions()
    answers = tmp_path / "answers"
    answers.mkdir()
    for arm, participant in (("pv", "tester-1"), ("gradcam", "tester-2")):
        csv, expected = _answer(browser, _page(tmp_path, arm, questions), participant,
                                questions)
        (answers / f"{participant}.csv").write_text(csv)
        assert expected == {"model_wrong": 1, "model_right": 1}
    scores = study.read_scores(answers)
    assert scores[["participant", "arm"]].values.tolist() == [["tester-1", "pv"],
                                                              ["tester-2", "gradcam"]]
    assert (scores["correct_when_model_wrong"] == 1).all()
    assert (scores["correct_when_model_right"] == 1).all()
    assert (scores["n_questions_model_wrong"] == 2).all()
    assert (scores["n_questions_model_right"] == 2).all()
    assert (study.accuracy_table(scores)["accuracy"] == 0.5).all()
    tests = study.test_table(scores)  # one participant per arm, tied: no evidence either way
    assert tests["u"].tolist() == [0.5, 0.5] and tests["p_exact"].tolist() == [1.0, 1.0]


def test_option_order_is_per_participant_and_options_are_shared_by_the_arms(browser, tmp_path):
    questions = _questions()
    orders = {}
    for arm, participant in (("gradcam", "alice"), ("pv", "alice"), ("pv", "bob")):
        _start(browser, _page(tmp_path, arm, questions), participant)
        orders[arm, participant] = [_shown_options(browser, q.number) for q in questions]
    assert orders["gradcam", "alice"] == orders["pv", "alice"]  # same person, same order
    assert orders["pv", "alice"] != orders["pv", "bob"]
    for shown, question in zip(orders["pv", "bob"], questions, strict=True):
        assert sorted(shown) == sorted(question.options)
