"""Reconstruction quality of the decoders (paper's loss weights and ablations) on held-out images.

For each decoder: MSE and SSIM between y = D(E(x)) and x, and DSIM, the MSE
between E(y) and E(x) (how much of the classifier's perception survives), as
the mean and sample std over the first ``images`` test images; and a figure
with the inputs and each decoder's reconstructions.
"""


import pandas as pd
import torch

from common.data import load_split
from common.entry import snakemake_object
from common.models import load_classifier
from common.plotting import save_figure
from common.tracking import Job
from papers.pv.decoder import Encoder
from papers.pv.figures import reconstruction_figure
from papers.pv.training import load_decoder, reconstruct, reconstruction_quality

FIGURE_IMAGES = 6


def quality_row(variant: str, weights: dict, quality: dict[str, torch.Tensor]) -> dict:
    row = {"decoder": variant, **{f"alpha_{name}": value for name, value in weights.items()},
           "images": len(quality["mse"])}
    for name, values in quality.items():
        row[f"{name}_mean"], row[f"{name}_std"] = values.mean().item(), values.std().item()
    return row


def main(smk) -> None:
    with Job(smk, seed=0) as job:
        encoder = Encoder(load_classifier(smk.input.weights, job.device))
        x = load_split(smk.input.manifest, "test").images[:smk.params.images]
        rows, shown = [], {}
        for variant, path in zip(smk.params.variants, smk.input.decoders, strict=True):
            decoder, _ = load_decoder(path, job.device)
            y = reconstruct(encoder, decoder, x, job.device)
            rows.append(quality_row(variant, smk.params.loss_weights[variant],
                                    reconstruction_quality(encoder, y, x, job.device)))
            shown[variant] = y[:FIGURE_IMAGES]
        table = pd.DataFrame(rows)
        job.save_table("reconstruction_quality", table, smk.output.table)
        save_figure(reconstruction_figure(x[:FIGURE_IMAGES], shown), smk.output.pdf,
                    smk.output.png)
        job.log_figure("reconstructions", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
