"""Fig. 10 of the survey: LRP-epsilon, LRP-epsilon without bias, LRP-alpha1-beta0 and FEM
on the same images, explained for their class by the survey's classifier."""


from common.entry import snakemake_object
from common.explain import explain
from common.metrics.evaluate import images_with_objects
from common.models import classifier_and_test_split
from common.plotting import map_grid, save_figure
from common.tracking import Job

METHODS = {"lrp_epsilon": "LRP-epsilon", "lrp_epsilon_no_bias": "LRP-epsilon, no bias",
           "lrp_alpha1_beta0": "LRP-alpha1-beta0", "fem": "FEM"}


def main(smk) -> None:
    settings = smk.params.settings
    with Job(smk, seed=0) as job:
        model, split = classifier_and_test_split(smk.input.weights, smk.input.manifest, job.device)
        x, target, _ = images_with_objects(split, settings["images"],
                                           key="survey.classifier.dataset")
        x, target = x.to(job.device), target.to(job.device)
        maps = {title: explain(model, x, target, method).sum(1)
                for method, title in METHODS.items()}
        titles = [split.classes[int(label)] for label in target]
        figure = map_grid(x, titles, maps,
                          signed=True)
        save_figure(figure, smk.output.pdf, smk.output.png)
        job.log_figure("figure10", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
