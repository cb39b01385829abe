"""Train one DXAI model (generator, mapping network, discriminator) against a frozen classifier.

Resumable: the full state is checkpointed next to the output every
``checkpoint_every`` iterations. Losses go to W&B and the history table; sample
grids (input, distinct, agnostic, reconstruction) of held-out images go to W&B
at every evaluation, where the PSNR of the reconstruction and the beta-AUC of
the distinct part (Table 1's measure) are also recorded. Runs that serve
Table 4 keep the EMA weights of every evaluation point in the model file.
"""

import time
from pathlib import Path

import pandas as pd
import torch

from common.data import load_split
from common.entry import snakemake_object
from common.io import save_torch
from common.models import load_classifier
from common.tracking import Job
from papers.dxai.decompose import Decomposer
from papers.dxai.evaluation import beta_auc
from papers.dxai.model import Architecture
from papers.dxai.training import LossWeights, Run, Settings, ema_state, psnr, train

LOGGED_IMAGES = 8


def main(smk) -> None:
    params = smk.params
    with Job(smk, seed=int(params.seed)) as job:
        classifier = load_classifier(smk.input.classifier, job.device)
        data = Path(smk.input.manifest).parent
        split, held_out = load_split(data, "train"), load_split(data, "test")
        arch = Architecture(image_size=split.images.shape[-1], channels=split.images.shape[1],
                            classes=len(split.classes), **params.settings["architecture"])
        settings = Settings(**params.settings["training"],
                            weights=LossWeights(**params.settings["loss_weights"]))
        probe_x = held_out.images[:settings.probe_images].to(job.device)
        probe_y = held_out.labels[:settings.probe_images].to(job.device)
        latest = {}  # the probe's decomposition, shown by log_evaluation without a second pass

        def probe(nets) -> dict:
            decomposer = Decomposer.from_state(arch, ema_state(nets)).to(job.device)
            latest["parts"] = parts = decomposer(probe_x, probe_y)
            return {"psnr": float(psnr(parts.reconstruction, probe_x).mean()),
                    "beta_auc": float(beta_auc(classifier, probe_x, parts.distinct, probe_y))}

        def log_evaluation(record: dict, nets) -> None:
            job.log(record, step=record["iteration"])
            parts, shown = latest["parts"], slice(0, LOGGED_IMAGES)
            job.log_images("input | distinct + 0.5 | agnostic | reconstruction",
                           torch.cat([probe_x[shown], parts.distinct[shown] + 0.5,
                                      parts.agnostic[shown], parts.reconstruction[shown]]),
                           step=record["iteration"])

        run = Run(arch, settings, int(params.seed), Path(smk.output.model + ".checkpoint"),
                  keep_snapshots=bool(params.snapshots))
        started = time.perf_counter()
        nets, history, snapshots = train(run, classifier, split.images, split.labels, probe,
                                         job.device, on_evaluate=log_evaluation)
        seconds = time.perf_counter() - started
        job.log({"train_seconds": seconds})
        job.save_table("history", pd.DataFrame(history), smk.output.history)
        save_torch({"arch": arch.as_dict(), "networks": ema_state(nets),
                    "discriminator": nets.discriminator.cpu().state_dict(),
                    "history": history, "snapshots": snapshots,
                    "train_seconds": seconds, "device": job.device}, smk.output.model)
        run.checkpoint.unlink()


if __name__ == "__main__":
    main(snakemake_object())
