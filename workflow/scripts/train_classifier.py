"""Train one zoo classifier on one dataset with one seed; save weights and test metrics.

With ``params.permute_labels`` the training labels are permuted first (the data
randomisation test of Adebayo et al.); the test metrics then measure chance.
"""

import time
from pathlib import Path

from common.data import load_split
from common.entry import snakemake_object
from common.io import save_torch, write_json
from common.metrics.sanity import permuted_labels
from common.models import build_classifier, start_from_backbone
from common.models.evaluate import test_scores
from common.models.train import TrainSettings, predict, train
from common.tracking import Job


def main(smk) -> None:
    data_dir = Path(smk.input.manifest).parent
    settings = TrainSettings(**smk.params.training)
    arch, seed = smk.wildcards.arch, int(smk.wildcards.seed)
    with Job(smk, seed=seed) as job:
        train_split, test_split = load_split(data_dir, "train"), load_split(data_dir, "test")
        if getattr(smk.params, "permute_labels", False):
            train_split = permuted_labels(train_split, seed)
        arch_kwargs = {"num_classes": len(train_split.classes),
                       "image_size": train_split.images.shape[-1],
                       "in_channels": train_split.images.shape[1], **settings.options}
        model = build_classifier(arch, **arch_kwargs)
        if settings.init_weights is not None:
            start_from_backbone(model, settings.init_weights, arch)
        checkpoint = Path(smk.output.weights).with_suffix(".checkpoint")
        started = time.perf_counter()
        history = train(model, train_split, settings, seed, job.device, checkpoint,
                        on_epoch=lambda record: job.log(record, step=record["epoch"]))
        multi_label = train_split.task == "multi_label"
        probabilities = predict(model, test_split.images, job.device, multi_label)
        metrics = {**test_scores(probabilities, test_split), "n_test": len(test_split),
                   "task": train_split.task, "history": history,
                   "train_seconds": time.perf_counter() - started, "device": job.device}
        save_torch({"arch": arch, "arch_kwargs": arch_kwargs, "classes": train_split.classes,
                    "task": train_split.task, "state_dict": model.cpu().state_dict()},
                   smk.output.weights)
        write_json(smk.output.metrics, metrics)
        job.log({key: value for key, value in metrics.items() if isinstance(value, float)})
        checkpoint.unlink(missing_ok=True)


if __name__ == "__main__":
    main(snakemake_object())
