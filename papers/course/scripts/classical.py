"""Classical saliency: every bottom-up model on real photos (figure), and how well each
localises the objects of the scenes data (table, all objects' masks as the target).

A centre-bias map (a Gaussian at the image centre) and uniform noise are scored too:
they are what a model must beat to be said to find objects rather than the middle. Where a
paper's text and its authors' code differ (region contrast's spatial weight), the code's
reading is scored in the table beside the paper's.
"""


import pandas as pd
import torch

from common.data import load_split
from common.entry import snakemake_object
from common.plotting import map_grid, save_figure
from common.tracking import Job
from papers.course.classical import CLASSICAL_MAPS, CODE_READINGS
from papers.course.scoring import localisation, random_maps, scenes_images


def centre_bias(count: int, side: int) -> torch.Tensor:
    """A Gaussian of standard deviation side / 4 at the centre, the same for every image."""
    offsets = torch.arange(side, dtype=torch.float32) - (side - 1) / 2
    profile = torch.exp(-offsets**2 / (2 * (side / 4) ** 2))
    return (profile.view(-1, 1) * profile.view(1, -1)).expand(count, side, side)


def photo_figure(manifest: str, names: list[str]):
    photos = load_split(manifest, "test")
    missing = sorted(set(names) - set(photos.names))
    if missing:
        raise KeyError(f"config key 'course.classical.photos': {missing} are not among the "
                       f"photos {list(photos.names)}")
    chosen = [photos.names.index(name) for name in names]
    x = photos.images[chosen]
    return map_grid(x, names, {name: model(x) for name, model in CLASSICAL_MAPS.items()},
                    signed=False)


def main(smk) -> None:
    with Job(smk, seed=0) as job:
        settings = smk.params.localisation
        scenes = scenes_images(smk.input.scenes, "test", settings["images"])
        objects = scenes.masks.any(1)
        maps = {name: model(scenes.images)
                for name, model in {**CLASSICAL_MAPS, **CODE_READINGS}.items()}
        maps["centre bias (baseline)"] = centre_bias(len(objects), objects.shape[-1])
        maps["random (baseline)"] = random_maps(objects.shape, seed=0)
        rows = [{"model": name, "images": len(objects),
                 **localisation(values, objects, settings["tolerance"])}
                for name, values in maps.items()]
        job.save_table("classical_localisation", pd.DataFrame(rows), smk.output.table)
        save_figure(photo_figure(smk.input.photos, smk.params.photos), smk.output.pdf,
                    smk.output.png)
        job.log_figure("classical_photos", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
