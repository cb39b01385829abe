"""Computation time of each white-box method (the survey's speed claim, Fuad et al.).

Each method explains the same batch of the classifier's first test images for
their class (multi-label: the first present one), once untimed (warm-up), then
``repeats`` timed times; the table gives the median, fastest and slowest
milliseconds per image, on the job's device.
"""

import statistics

import pandas as pd

from common.entry import snakemake_object
from common.explain import explain
from common.models import classifier_and_test_split
from common.timing import timed_calls
from common.tracking import Job


def timing_rows(model, x, target, settings: dict, device: str) -> list[dict]:
    """One row per method: milliseconds per image over the timed repeats."""
    rows = []
    for method in settings["methods"]:
        params = settings["method_params"].get(method, {})
        times = timed_calls(lambda method=method, params=params: explain(
            model, x, target, method, **params), settings["repeats"], device)
        per_image = [1000 * seconds / len(x) for seconds in times]
        rows.append({"method": method, "device": device, "images": len(x),
                     "image_size": x.shape[-1], "repeats": len(times),
                     "ms_per_image_median": statistics.median(per_image),
                     "ms_per_image_min": min(per_image), "ms_per_image_max": max(per_image)})
    return rows


def main(smk) -> None:
    settings = smk.params.settings
    with Job(smk, seed=settings["seed"]) as job:
        model, split = classifier_and_test_split(smk.input.weights, smk.input.manifest, job.device)
        x = split.images[:settings["images"]]
        target = split.labels if split.labels.dim() == 1 else split.labels.argmax(1)
        target = target[:settings["images"]]
        table = pd.DataFrame(timing_rows(model, x.to(job.device), target.to(job.device),
                                         settings, job.device))
        job.save_table("timing", table.round(4), smk.output.table)


if __name__ == "__main__":
    main(snakemake_object())
