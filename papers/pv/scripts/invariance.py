"""Fig. 7 analogue: reconstructions of two decoders of one encoder, trained on different datasets.

Decoder A is trained on the classifier's own training images, decoder B on
another dataset's (the paper: PASCAL VOC vs 8000 ImageNet images). On held-out
images of the classifier's dataset we measure how similar the two decoders'
reconstructions are to each other (SSIM and MSE of y_A against y_B) and how
similar each is to the input. If PV shows the encoder's perception rather than
the decoder's training data, y_A and y_B agree with each other more than either
agrees with the input: both lose what the encoder discards.

SSIM and MSE also reward what every reconstruction shares (a blurry average
scene), so the table adds the image-specific agreement: Pearson's correlation
of each image's deviation from its set's mean image (``pcc_centred``). As a
control, y_A is also compared with decoder B's reconstruction of a different
image (the next one); ``p_matched`` is the one-sided Wilcoxon signed-rank test
that matched pairs correlate more than these mismatched ones.

Every row names the images each decoder was trained on (``decoder_a_data``,
``decoder_b_data``; papers/pv/plan.py): at the paper scale decoder B sees the
generated cars unless ImageNet is configured, and the table says so.
"""


import pandas as pd
import torch.nn.functional as F
from scipy import stats

from common.data import load_split
from common.entry import snakemake_object
from common.metrics.comparison import pcc
from common.models import load_classifier
from common.plotting import save_figure
from common.tracking import Job
from papers.pv.decoder import Encoder, image_ssim
from papers.pv.figures import reconstruction_figure
from papers.pv.training import load_decoder, reconstruct

FIGURE_IMAGES = 6
PAIRS = {"A vs B": ("A", "B"), "A vs B, other image": ("A", "B shifted"),
         "A vs input": ("A", "input"), "B vs input": ("B", "input")}


def main(smk) -> None:
    with Job(smk, seed=0) as job:
        encoder = Encoder(load_classifier(smk.input.weights, job.device))
        x = load_split(smk.input.manifest, "test").images[:smk.params.images]
        images = {"input": x}
        decoders = smk.params.decoders
        for name, path in (("A", smk.input.own), ("B", smk.input.other)):
            decoder, saved = load_decoder(path, job.device)
            if saved["dataset"] != decoders[name]["dataset"]:
                raise ValueError(f"{path} was trained on {saved['dataset']}, not on "
                                 f"{decoders[name]['dataset']} as configured")
            images[name] = reconstruct(encoder, decoder, x, job.device)
            job.log({f"decoder_{name}_training_data": decoders[name]["data"]})
        images["B shifted"] = images["B"].roll(1, dims=0)
        rows, centred = [], {}
        for pair, (first, second) in PAIRS.items():
            a, b = images[first], images[second]
            centred[pair] = pcc((a - a.mean(0)).flatten(1, 2), (b - b.mean(0)).flatten(1, 2))
            rows.append({"decoder_a_data": decoders["A"]["data"],
                         "decoder_b_data": decoders["B"]["data"],
                         "pair": pair, "ssim": image_ssim(a, b).mean().item(),
                         "mse": F.mse_loss(a, b).item(),
                         "pcc_centred": centred[pair].nanmean().item(), "images": len(x)})
        rows[0]["p_matched"] = stats.wilcoxon(
            (centred["A vs B"] - centred["A vs B, other image"]).numpy(), alternative="greater",
            nan_policy="omit").pvalue
        table = pd.DataFrame(rows)
        job.save_table("invariance", table, smk.output.table)
        shown = {f"decoder {name}, trained on {decoders[name]['data']}":
                 images[name][:FIGURE_IMAGES] for name in ("A", "B")}
        save_figure(reconstruction_figure(x[:FIGURE_IMAGES], shown), smk.output.pdf,
                    smk.output.png)
        job.log_figure("invariance", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
