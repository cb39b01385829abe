"""Benchmark: PV decoder training and PV explanation throughput at both scales.

    python -m papers.pv.bench [--device cpu|cuda] [--repeats 3] [--scales embedded paper]
                              [--batch N]

Each scale builds the classifier and decoder of its config: embedded
(config/config.yaml) the zoo's ResNet18 of width 16 at 48 px, decoder widths x
0.25; paper (config/paper.yaml) the zoo's ResNet-50 with the authors' head at
224 px, whose 7 x 7 x 2048 features the full five-stage decoder inverts. On
random images and untrained weights (throughput does not depend on the values),
it times training images per second of the decoder with the paper's loss (DSIM
backpropagates through the encoder) and with MSE only, and PV images per second
(classifier, Grad-CAM, decoder, Eq. 2): the median of ``repeats`` timed batches
after one warm-up batch. ``--batch`` replaces the scales' batch sizes (32 and
the paper's 64). Prints a Markdown table.
"""

from __future__ import annotations

import argparse

import torch

from common.models import build_classifier
from common.timing import images_per_second
from papers.pv.decoder import Decoder, Encoder, LossWeights, loss_terms, total_loss
from papers.pv.perception import explain_top_class
from papers.pv.training import decoder_kwargs

SCALES = {"embedded": {"arch": "resnet18", "arch_kwargs": {"base_width": 16}, "image_size": 48,
                       "width_scale": 0.25, "batch": 32},
          "paper": {"arch": "resnet50", "arch_kwargs": {}, "image_size": 224, "width_scale": 1.0,
                    "batch": 64}}
LOSSES = {"paper loss": LossWeights(0.2, 0.4, 0.4), "MSE only": LossWeights(1.0, 0.0, 0.0)}


def bench_scale(scale: str, device: str, repeats: int, batch: int | None = None) -> list[dict]:
    settings = SCALES[scale]
    size, batch = settings["image_size"], batch or settings["batch"]
    classifier = build_classifier(settings["arch"], num_classes=20, image_size=size,
                                  feature_norm=True, **settings["arch_kwargs"]).eval()
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
        row |= {"classifier": settings["arch"], "image size": size, "batch": batch,
                "device": device}
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
    print("| scale | classifier | image size | batch | device | what | images/s |")
    print("|---|---|---|---|---|---|---:|")
    for row in rows:
        print(f"| {row['scale']} | {row['classifier']} | {row['image size']} | {row['batch']} | "
              f"{row['device']} | {row['what']} | {row['images/s']:.2f} |")


if __name__ == "__main__":
    main()
