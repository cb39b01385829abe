"""LRP as the course builds it up: the linear counterexample, conservation layer by layer,
LRP-0 against gradient x input, and the effect of epsilon and gamma on real photographs.

- Linear model: multinomial logistic regression on the digits' pixels (scikit-learn,
  fitted here); each test digit's predicted-class logit decomposed both ways.
- Trained network: the course's CNN (config ``course.lrp.classifier``) on its test
  photos; relevance sums at each stage's output over the explained logit, per rule.
- Rules: LRP-0, LRP-epsilon and LRP-gamma maps of the same photos, with the share of
  negative relevance and the share held by the top 10 % of pixels.
"""

from pathlib import Path

import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression

from common.data import load_split
from common.entry import snakemake_object
from common.models import load_classifier
from common.plotting import map_grid, save_figure
from common.tracking import Job
from papers.course.relevance import (
    concentration,
    conservation_by_layer,
    linear_counterexample,
    lrp_zero_gap,
    negative_share,
    rule_maps,
)


def linear_rows(manifest: str, seed: int) -> list[dict]:
    digits = Path(manifest).parent
    train, test = load_split(digits, "train"), load_split(digits, "test")
    model = LogisticRegression(max_iter=2000, random_state=seed)
    model.fit(train.images.flatten(1).numpy(), train.labels.numpy())
    weights = torch.from_numpy(model.coef_).float()
    bias = torch.from_numpy(model.intercept_).float()
    x = test.images.flatten(1)
    predicted = (x @ weights.T + bias).argmax(1)
    rows = linear_counterexample(weights, bias, x, predicted)
    accuracy = (predicted == test.labels).float().mean().item()
    return [{**row, "model_test_accuracy": accuracy} for row in rows]


def rule_settings(settings: dict) -> dict[str, dict]:
    """Display name -> LRP keyword arguments, for LRP-0 and each epsilon and gamma."""
    rules = {"LRP-0": {"rule": "zero"}}
    rules |= {f"LRP-eps {value:g}": {"rule": "epsilon", "epsilon": value}
              for value in settings["epsilons"]}
    rules |= {f"LRP-gamma {value:g}": {"rule": "gamma", "gamma": value}
              for value in settings["gammas"]}
    return rules


def conservation_rows(model, x, target, rules: dict[str, dict]) -> list[dict]:
    stages = {name: module for name, module in model.named_children()
              if any(True for _ in module.parameters())}
    rows = []
    for name, rule in rules.items():
        for bias in (True, False):
            ratios = conservation_by_layer(model, x, target, stages, bias=bias, **rule)
            rows += [{"rule": name, "bias_in_rule": bias, "layer": layer,
                      "median_sum_over_logit": ratio.median().item(),
                      "max_abs_deviation_from_1": (ratio - 1).abs().max().item()}
                     for layer, ratio in ratios.items()]
    return rows


def main(smk) -> None:
    settings = smk.params.lrp
    seed = settings["classifier"]["seed"]
    with Job(smk, seed=seed) as job:
        job.save_table("lrp_linear", pd.DataFrame(linear_rows(smk.input.digits, seed)),
                       smk.output.linear)
        model = load_classifier(smk.input.weights, job.device)
        photos = load_split(Path(smk.input.lrp_data).parent, "test")
        x = photos.images[:settings["images"]].to(job.device)
        with torch.no_grad():
            target = model(x).argmax(1)
        rules = rule_settings(settings)
        job.save_table("lrp_conservation",
                       pd.DataFrame(conservation_rows(model, x, target, rules)),
                       smk.output.conservation)
        maps = rule_maps(model, x, target, rules)
        gap = lrp_zero_gap(model, x, target)
        rows = [{"rule": name, "images": len(x),
                 "negative_share": negative_share(values).mean().item(),
                 "top10_share": concentration(values).mean().item(),
                 "lrp0_vs_gradient_x_input": gap}
                for name, values in maps.items()]
        job.save_table("lrp_rules", pd.DataFrame(rows), smk.output.rules)
        titles = [photos.classes[int(label)] for label in target]
        save_figure(map_grid(x, titles, maps, signed=True), smk.output.pdf, smk.output.png)
        job.log_figure("lrp_rules", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
