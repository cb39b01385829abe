"""Benchmark: PV decoder training and PV explanation throughput at both scales.

    python -m papers.pv.bench [--device cpu|cuda] [--repeats 3] [--scales embedded paper]
                              [--batch N]

For each scale, with the sizes of config/config.yaml (embedded: 48 px, ResNet18
width 16, decoder widths x 0.25) or config/paper.yaml (224 px, ResNet18 width
64, decoder widths x 1), on random images and untrained weights (throughput does
not depend on the values): training images per second of the decoder with the
paper's loss (DSIM backpropagates through the encoder) and with MSE only, and
PV images per second (classifier, Grad-CAM, decoder, Eq. 2). The median of
``repeats`` timed batches after one warm-up batch. ``--batch`` replaces the
scales' batch sizes (32 and the paper's 64; at 224 px a batch of 64 needs about
20 GB on the CPU). Prints a Markdown table.
"""

from __future__ import annotations

import argparse

import torch

from common.models import build_classifier
from common.timing import images_per_second
from papers.pv.decoder import Decoder, Encoder, LossWeights, loss_terms, total_loss
from papers.pv.perception import explain_top_class
from papers.pv.training import decoder_kwargs

SCALES = {"embedded": {"image_size": 48, "base_width": 16, "width_scale": 0.25, "batch": 32},
          "paper": {"image_size": 224, "base_width": 64, "width_scale": 1.0, "batch": 64}}
LOSSES = {"paper loss": LossWeights(0.2, 0.4, 0.4), "MSE only": LossWeights(1.0, 0.0, 0.0)}


def bench_scale(scale: str, device: str, repeats: int, batch: int | None = None) -> list[dict]:
    settings = SCALES[scale]
    size, batch = settings["image_size"], batch or settings["batch"]
    classifier = build_classifier("resnet18", num_classes=20, image_size=size,
                                  base_width=settings["base_width"], feature_norm=True).eval()
    encoder = Encoder(classifier)
    decoder = Decoder(**decoder_kwargs(encoder, size, 3, settings["width_scale"]))
    classifier.to(device)
    decoder.to(device)
    x = torch.rand(batch, 3, size, size, device=device)
    optimiser = torch.optim.Adam(decoder.parameters(), lr=1e-4)
    rows = []
    for name, weights in LOSSES.items():
        def train_step(weights=weights):
            decoder.train()
            with torch.no_grad():
                features = encoder(x)
            loss = total_loss(loss_terms(encoder, decoder(features), x, features), weights)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()

        rows.append({"scale": scale, "what": f"decoder training, {name}",
                     "images/s": images_per_second(train_step, batch, repeats, device)})
    rows.append({"scale": scale, "what": "PV explanation (Grad-CAM + decoder)",
                 "images/s": images_per_second(
                     lambda: explain_top_class(classifier, encoder, decoder, x), batch, repeats,
                     device)})
    for row in rows:
        row |= {"image size": size, "batch": batch, "device": device}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scales", nargs="+", default=list(SCALES), choices=list(SCALES))
    parser.add_argument("--batch", type=int, default=None)
    arguments = parser.parse_args()
    rows = [row for scale in arguments.scales
            for row in bench_scale(scale, arguments.device, arguments.repeats, arguments.batch)]
    print("| scale | image size | batch | device | what | images/s |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['scale']} | {row['image size']} | {row['batch']} | {row['device']} | "
              f"{row['what']} | {row['images/s']:.1f} |")


if __name__ == "__main__":
    main()
