"""The paper's user study as a kit: question selection, one HTML survey per arm, simulated answers.

Selection follows Sec. 4 (Experiment Details): images whose predicted label set
equals their true label set are model-right, images with none of their true
labels among a non-empty prediction set are model-wrong;
16 and 14 of them are drawn uniformly. Each question has five options: the
model's top class, up to three other true labels, random classes to fill up,
and "I just can't tell"; the options are fixed once, so both arms show the same
ones. A participant's page shuffles their order with a generator seeded by the
participant's identifier, and on submission writes the participant's row in the
format of the study's scores file (papers/pv/study.py), which the analysis reads.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib import cm
from PIL import Image

from papers.pv.study import ARMS, CASES, COLUMNS

CANT_TELL = "I just can't tell"
OPTIONS_PER_QUESTION = 5
TEMPLATE = Path(__file__).with_name("survey_template.html")


@dataclass(frozen=True)
class Question:
    """One survey question: a test image, whether the model got it right, and its options."""

    number: int
    image_index: int
    case: str  # "model_right" or "model_wrong"
    prediction: str
    true_labels: tuple[str, ...]
    options: tuple[str, ...]  # in a canonical order; pages shuffle them per participant


def question_pools(probabilities: torch.Tensor, labels: torch.Tensor) -> dict[str, np.ndarray]:
    """Indices of model-right and model-wrong images (multi-label, threshold 0.5).

    As in the paper: right when the prediction set equals the label set, wrong when
    none of the labels is in it. The wrong image's prediction set must not be empty
    (its top class is then a false prediction): the survey asks about "the model's
    prediction", which an image with no probability above 0.5 does not have.
    """
    predicted = (probabilities > 0.5).numpy()
    truth = labels.numpy() > 0.5
    right = (predicted == truth).all(1) & truth.any(1)
    wrong = predicted.any(1) & ~(predicted & truth).any(1)
    return {"model_right": np.nonzero(right)[0], "model_wrong": np.nonzero(wrong)[0]}


def _options(prediction: int, truth: np.ndarray, classes, rng) -> tuple[str, ...]:
    others = [c for c in np.nonzero(truth)[0] if c != prediction]
    chosen = list(rng.permutation(others)[:OPTIONS_PER_QUESTION - 2])
    fillers = [c for c in range(len(classes)) if c != prediction and c not in chosen]
    chosen += list(rng.permutation(fillers)[:OPTIONS_PER_QUESTION - 2 - len(chosen)])
    return (classes[prediction], *(classes[c] for c in chosen), CANT_TELL)


def select_questions(probabilities: torch.Tensor, labels: torch.Tensor, classes,
                     counts: dict[str, int], seed: int) -> list[Question]:
    """Draw ``counts[case]`` questions of each case uniformly (fewer if too few images qualify)."""
    if len(classes) < OPTIONS_PER_QUESTION - 1:
        raise ValueError(f"{len(classes)} classes cannot fill {OPTIONS_PER_QUESTION - 1} "
                         f"class options per question")
    rng = np.random.default_rng(seed)
    pools = question_pools(probabilities, labels)
    top = probabilities.argmax(1).numpy()
    questions = []
    for case in CASES:
        drawn = rng.permutation(pools[case])[:counts[case]]
        for index in sorted(drawn.tolist()):
            truth = labels[index].numpy() > 0.5
            questions.append(Question(
                number=len(questions) + 1, image_index=index, case=case,
                prediction=classes[top[index]],
                true_labels=tuple(classes[c] for c in np.nonzero(truth)[0]),
                options=_options(top[index], truth, classes, rng)))
    return questions


def png_data_uri(image: torch.Tensor) -> str:
    """A (3, H, W) image in [0, 1] as an inline PNG, so that the page needs no other file."""
    array = (image.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def gradcam_overlay(image: torch.Tensor, saliency: torch.Tensor,
                    opacity: float = 0.5) -> torch.Tensor:
    """Grad-CAM as shown to users: the jet-coloured map blended over the image (3, H, W)."""
    heat = torch.from_numpy(cm.jet(saliency[0].numpy())[..., :3]).permute(2, 0, 1).float()
    return (1 - opacity) * image + opacity * heat


def render_survey(arm: str, questions: list[Question], images: list[str],
                  explanations: list[str]) -> str:
    """The self-contained HTML page of one arm; images and explanations are data URIs."""
    if arm not in ARMS:
        raise ValueError(f"arm must be one of {ARMS}, not {arm!r}")
    payload = {"arm": arm, "columns": list(COLUMNS), "cases": list(CASES),
               "questions": [{**asdict(q), "image": image, "explanation": explanation}
                             for q, image, explanation in zip(questions, images, explanations,
                                                              strict=True)]}
    title = {"gradcam": "Grad-CAM", "pv": "Perception Visualization"}[arm]
    return (TEMPLATE.read_text()
            .replace("{{TITLE}}", html.escape(title))
            .replace("{{PAYLOAD}}", json.dumps(payload).replace("</", "<\\/")))


def simulate_scores(questions: list[Question], participants: dict[str, int],
                    p_prediction: dict[str, dict[str, float]], seed: int) -> pd.DataFrame:
    """SIMULATED respondents in the scores format: each names the model's prediction on each
    question of a case independently with probability ``p_prediction[arm][case]``, so that
    their score is binomial; the analysis should recover these planted accuracies."""
    rng = np.random.default_rng(seed)
    totals = {case: sum(q.case == case for q in questions) for case in CASES}
    rows = []
    for arm in ARMS:
        for number in range(1, participants[arm] + 1):
            row = {"participant": f"simulated-{arm}-{number:03d}", "arm": arm}
            for case in CASES:
                row[f"correct_when_{case}"] = int(rng.binomial(totals[case],
                                                               p_prediction[arm][case]))
                row[f"n_questions_{case}"] = totals[case]
            rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))
