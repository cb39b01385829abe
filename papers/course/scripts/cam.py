"""The CAM family on one GAP network: CAM, Grad-CAM, Grad-CAM++ and EigenGrad-CAM of the
same images (figure) and their pointing game against the explained object's mask (table).

The maps are taken at the features that global average pooling sees (after the
network's feature normalisation, if any), so that CAM's weights are the linear
layer's; each image's explained class is its present class with the highest logit.
"""

import pandas as pd

from common.entry import snakemake_object
from common.models import load_classifier
from common.plotting import map_grid, save_figure
from common.tracking import Job
from papers.course.cam import CAM_FAMILY, cam_family_maps
from papers.course.scoring import (
    class_masks,
    explained_class,
    localisation,
    random_maps,
    scenes_images,
)

FIGURE_IMAGES = 4


def main(smk) -> None:
    settings = smk.params.localisation
    with Job(smk, seed=0) as job:
        model = load_classifier(smk.input.weights, job.device)
        scenes = scenes_images(smk.input.scenes, "test", settings["images"])
        x = scenes.images.to(job.device)
        target = explained_class(model, x, scenes.labels)
        masks = class_masks(scenes.masks, target)
        maps = cam_family_maps(model, x, target, layer=model.feature_norm)
        maps["random (baseline)"] = random_maps(masks.shape, seed=0)
        rows = [{"method": name, "images": len(x), **localisation(values, masks,
                                                                   settings["tolerance"])}
                for name, values in maps.items()]
        job.save_table("cam_localisation", pd.DataFrame(rows), smk.output.table)
        shown = {name: values[:FIGURE_IMAGES] for name, values in maps.items()
                 if name in CAM_FAMILY}
        titles = [scenes.classes[int(label)] for label in target[:FIGURE_IMAGES]]
        save_figure(map_grid(x[:FIGURE_IMAGES], titles, shown, signed=True), smk.output.pdf,
                    smk.output.png)
        job.log_figure("cam_family", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
