"""Fig. 5 analogue: CartoonX next to Pixel RDE and the heatmap methods, one row per image.

Each row: the image with the predicted (often wrong) label, CartoonX's greyscale
cartoon, Pixel RDE's mask, then every heatmap's channel sum on a symmetric
blue-white-red scale.
"""


from common.entry import snakemake_object
from common.io import load_torch
from common.plotting import plt, save_figure, show_image
from common.tracking import Job


def draw(record: dict):
    heatmaps = record["heatmaps"]
    columns = 3 + len(heatmaps)
    rows = len(record["images"])
    figure, axes = plt.subplots(rows, columns, squeeze=False,
                                figsize=(1.35 * columns, 1.5 * rows))
    for row in range(rows):
        show_image(axes[row, 0], record["images"][row].permute(1, 2, 0).numpy())
        axes[row, 0].set_title(f"{record['names'][row]}:\n{record['label_names'][row]}",
                               fontsize=6)
        show_image(axes[row, 1], record["explanations"]["cartoonx"][row].permute(1, 2, 0).numpy())
        axes[row, 2].imshow(record["explanations"]["pixel_rde"][row, 0], cmap="viridis",
                            vmin=0, vmax=1)
        for column, attribution in enumerate(heatmaps.values(), start=3):
            heat = attribution[row].sum(0)
            limit = heat.abs().max().clamp(min=1e-12).item()
            axes[row, column].imshow(heat, cmap="bwr", vmin=-limit, vmax=limit)
        if row == 0:
            for column, title in enumerate(["CartoonX", "Pixel RDE", *heatmaps], start=1):
                axes[row, column].set_title(title, fontsize=6)
    for axis in axes.flat:
        axis.axis("off")
    return figure


def main(smk) -> None:
    with Job(smk) as job:
        record = load_torch(smk.input.explanations)
        save_figure(draw(record), smk.output.pdf, smk.output.png)
        job.log_figure("figure5", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
