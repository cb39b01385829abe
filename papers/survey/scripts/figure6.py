"""Fig. 6 of the survey: one ReLU passed backwards by gradient, DeconvNet and guided backprop.

The values are computed by common.explain on the network of papers/survey/relu_rules.py.
"""

from common.entry import snakemake_object
from common.plotting import plt, save_figure
from common.tracking import Job
from papers.survey.relu_rules import FORWARD_INPUT, RULES, SIGNAL_FROM_ABOVE, backward_signals


def numbers(axis, values, title: str) -> None:
    """A grid of numbers, cells shaded by sign (blue negative, red positive, white zero)."""
    limit = values.abs().max().item() or 1.0
    axis.imshow(values, cmap="bwr", vmin=-limit, vmax=limit)
    for (row, column), value in zip(((r, c) for r in range(values.shape[0])
                                     for c in range(values.shape[1])), values.flatten().tolist(),
                                    strict=True):
        axis.text(column, row, f"{value:g}", ha="center", va="center", fontsize=8)
    axis.set_title(title, fontsize=8)
    axis.set_xticks([])
    axis.set_yticks([])


def main(smk) -> None:
    with Job(smk, seed=0) as job:
        panels = {"(a) forward input x": FORWARD_INPUT,
                  "(a) ReLU(x)": FORWARD_INPUT.clamp(min=0),
                  "signal from above": SIGNAL_FROM_ABOVE,
                  **{f"({letter}) {RULES[method]}": values for letter, (method, values)
                     in zip("bcd", backward_signals().items(), strict=True)}}
        figure, axes = plt.subplots(1, len(panels), figsize=(2.0 * len(panels), 2.3))
        for axis, (title, values) in zip(axes, panels.items(), strict=True):
            numbers(axis, values, title)
        save_figure(figure, smk.output.pdf, smk.output.png)
        job.log_figure("figure6", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
