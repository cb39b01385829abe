"""The survey kit: questions chosen as the paper chose them, and one self-contained page per arm.

Writes the questions (JSON: image, case, prediction, true labels, options) and
the Grad-CAM and PV surveys. Both pages show the same images with the same
options; only the explanation differs (Grad-CAM over the image, or PV).
"""

import logging

from common.data import load_split
from common.entry import snakemake_object
from common.io import atomic_path, write_json
from common.models import load_classifier
from common.models.train import predict
from common.tracking import Job
from papers.pv.decoder import Encoder
from papers.pv.perception import explain_top_class
from papers.pv.survey_kit import gradcam_overlay, png_data_uri, render_survey, select_questions
from papers.pv.training import load_decoder


def main(smk) -> None:
    kit = smk.params.survey_kit
    with Job(smk, seed=kit["seed"]) as job:
        classifier = load_classifier(smk.input.weights, job.device)
        decoder, _ = load_decoder(smk.input.decoder, job.device)
        split = load_split(smk.input.manifest, "test")
        probabilities = predict(classifier, split.images, job.device, multi_label=True)
        questions = select_questions(probabilities, split.labels, split.classes,
                                     {"model_right": kit["model_right"],
                                      "model_wrong": kit["model_wrong"]}, kit["seed"])
        x = split.images[[q.image_index for q in questions]]
        explanation = explain_top_class(classifier, Encoder(classifier), decoder,
                                        x.to(job.device)).cpu()
        images = [png_data_uri(image) for image in x]
        shown = {"gradcam": [png_data_uri(gradcam_overlay(image, saliency))
                             for image, saliency in zip(x, explanation.saliency, strict=True)],
                 "pv": [png_data_uri(pv) for pv in explanation.pv]}
        write_json(smk.output.questions, [vars(q) for q in questions])
        for arm, explanations in shown.items():
            with atomic_path(smk.output[arm]) as temporary:
                temporary.write_text(render_survey(arm, questions, images, explanations))
        for case in ("model_right", "model_wrong"):
            count = sum(q.case == case for q in questions)
            job.log({f"questions_{case}": count})
            if count < kit[case]:
                logging.getLogger("xai").warning(
                    "only %d test images qualify as %s (pv.survey_kit.%s asks for %d)",
                    count, case, case, kit[case])


if __name__ == "__main__":
    main(snakemake_object())
