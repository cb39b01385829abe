"""Table 3: DXAI trained with each classifier (rows), its normalised beta-AUC measured with
each classifier (columns), per dataset. The paper expects the lowest AUC on the diagonal.
A last column measures it with the run's own discriminator, the paper's third classifier."""


import pandas as pd

from common.data import load_split
from common.entry import snakemake_object
from common.models import load_classifier
from common.tracking import Job
from papers.dxai.decompose import load_decomposer, load_discriminator
from papers.dxai.evaluation import beta_auc, evaluation_sample
from papers.dxai.plan import evaluation_images


def dataset_rows(smk, dataset: str, arches: list[str], settings: dict, device: str) -> list:
    test = load_split(smk.input[dataset], "test")
    index = evaluation_sample(test, *evaluation_images(settings, dataset))
    x, labels = test.images[index].to(device), test.labels[index].to(device)
    classifiers = {arch: load_classifier(smk.input[f"classifier_{dataset}_{arch}"], device)
                   for arch in arches}
    rows = []
    for trained_by in arches:
        decomposer = load_decomposer(smk.input[f"model_{dataset}_{trained_by}"]).to(device)
        distinct = decomposer(x, labels).distinct
        measured_by = {**classifiers, "own_discriminator": load_discriminator(
            smk.input[f"model_{dataset}_{trained_by}"]).to(device)}
        rows.append({"dataset": dataset, "trained_by": trained_by,
                     **{f"auc_{name}": beta_auc(model, x, distinct, labels, settings["betas"])
                        for name, model in measured_by.items()}})
    return rows


def main(smk) -> None:
    cross = smk.params.cross_classifier
    with Job(smk, seed=0) as job:
        rows = [row for dataset in cross["datasets"]
                for row in dataset_rows(smk, dataset, cross["classifiers"],
                                        smk.params.evaluation, job.device)]
        job.save_table("table3", pd.DataFrame(rows), smk.output.table)


if __name__ == "__main__":
    main(snakemake_object())
