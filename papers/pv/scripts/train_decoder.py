"""Train one PV decoder (Eq. 6) to invert the classifier's encoder on one dataset's training images.

The decoder for the paper's loss weights on the classifier's own data drives PV;
the ablation weights and the decoder trained on another dataset (the invariance
experiment, Fig. 7) run through the same script. Reconstructions of a fixed set
of training images are logged to W&B as the decoder learns.
"""

import time
from pathlib import Path

from common.data import load_split
from common.entry import snakemake_object
from common.models import load_classifier
from common.tracking import Job
from papers.pv.decoder import Decoder, Encoder
from papers.pv.training import (
    DecoderSettings,
    as_encoder_input,
    decoder_kwargs,
    reconstruct,
    save_decoder,
    train_decoder,
)

LOGGED_IMAGES = 8
LOGGED_EPOCHS = 5


def main(smk) -> None:
    params = smk.params.settings
    settings = DecoderSettings.from_config(params["decoder"], params["loss_weights"])
    with Job(smk, seed=params["seed"]) as job:
        classifier = load_classifier(smk.input.weights, job.device)
        encoder = Encoder(classifier)
        image_size = int(params["image_size"])
        images = as_encoder_input(load_split(smk.input.manifest, "train").images,
                                  image_size)
        kwargs = decoder_kwargs(encoder.cpu(), image_size, 3, settings.width_scale)
        decoder = Decoder(**kwargs)
        shown = images[:LOGGED_IMAGES]
        every = max(1, settings.epochs // LOGGED_EPOCHS)

        def log_epoch(record: dict) -> None:
            job.log(record, step=record["epoch"])
            if record["epoch"] % every == 0 or record["epoch"] == settings.epochs:
                job.log_images("reconstructions", reconstruct(encoder, decoder, shown, job.device),
                               step=record["epoch"])
                decoder.train()

        started = time.perf_counter()
        checkpoint = Path(smk.output.decoder).with_suffix(".checkpoint")
        history = train_decoder(encoder, decoder, images, settings, params["seed"], job.device,
                                checkpoint, on_epoch=log_epoch)
        seconds = time.perf_counter() - started
        job.log({"train_seconds": seconds,
                 "images_per_second": len(images) * settings.epochs / seconds})
        job.log_images("inputs", shown)
        save_decoder(smk.output.decoder, decoder, kwargs,
                     {"history": history, "train_seconds": seconds, "examples": len(images),
                      "dataset": params["dataset"], "device": job.device})
        checkpoint.unlink(missing_ok=True)


if __name__ == "__main__":
    main(snakemake_object())
