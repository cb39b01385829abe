"""Figs. 2 and 4 analogues: PV beside Grad-CAM for correctly and incorrectly classified images.

Rows are test images the classifier gets right (predicted label set = true
label set) and wrong (no true label predicted), chosen as the survey kit
chooses questions; columns are the input, Grad-CAM of the top class over the
image (as the survey shows it), the reconstruction y and PV (Eq. 2).
"""


import torch

from common.data import load_split
from common.entry import snakemake_object
from common.models import load_classifier
from common.models.train import predict
from common.plotting import plt, save_figure
from common.tracking import Job
from papers.pv.decoder import Encoder
from papers.pv.perception import explain_top_class
from papers.pv.survey_kit import gradcam_overlay, question_pools
from papers.pv.training import load_decoder

CASE_TITLES = {"model_right": "model right", "model_wrong": "model wrong"}


def names(classes, indices) -> str:
    return ", ".join(classes[int(index)] for index in indices) or "none"


def examples_figure(split, indices: dict, explanation, probabilities):
    rows = [(case, index) for case, chosen in indices.items() for index in chosen]
    figure, axes = plt.subplots(len(rows), 4, squeeze=False, figsize=(7.2, 2.5 * len(rows)))
    for row, (case, index) in enumerate(rows):
        image = split.images[index]
        panels = {"input": image,
                  "Grad-CAM": gradcam_overlay(image, explanation.saliency[row]),
                  "reconstruction y": explanation.reconstruction[row],
                  "PV": explanation.pv[row]}
        for column, (title, panel) in enumerate(panels.items()):
            axes[row, column].imshow(panel.permute(1, 2, 0).clamp(0, 1).numpy())
            axes[row, column].axis("off")
            axes[row, column].set_title(title, fontsize=7)
        predicted = torch.nonzero(probabilities[index] > 0.5)[:, 0]
        true = torch.nonzero(split.labels[index])[:, 0]
        axes[row, 0].set_title(
            f"{CASE_TITLES[case]}\ntrue: {names(split.classes, true)}"
            f"\npredicted: {names(split.classes, predicted)}\nexplained: "
            f"{split.classes[int(explanation.target[row])]}", fontsize=6)
    return figure


def main(smk) -> None:
    with Job(smk, seed=0) as job:
        classifier = load_classifier(smk.input.weights, job.device)
        decoder, _ = load_decoder(smk.input.decoder, job.device)
        split = load_split(smk.input.manifest, "test")
        probabilities = predict(classifier, split.images, job.device, multi_label=True)
        pools = question_pools(probabilities, split.labels)
        indices = {case: pool[:smk.params.images].tolist() for case, pool in pools.items()}
        chosen = [index for pool in indices.values() for index in pool]
        explanation = explain_top_class(classifier, Encoder(classifier), decoder,
                                        split.images[chosen].to(job.device)).cpu()
        save_figure(examples_figure(split, indices, explanation, probabilities),
                    smk.output.pdf, smk.output.png)
        job.log_figure("examples", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
