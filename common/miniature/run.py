"""Run the paper miniature in a copy of the project and tabulate what each rule cost.

    python -m common.miniature.run                 # on the CPU, every paper's targets
    python -m common.miniature.run --device cuda   # on a GPU (the ready GPU run)

The project is copied (the files git would ship) into ``--workdir``, so the user's own
``results/`` and ``resources/`` are untouched. The paper scale's fetched sources are
fabricated there in their published layouts (:mod:`common.miniature.sources`) and
served on 127.0.0.1, and an overlay points ``downloads`` at that server with the
fabricated files' checksums and ``datasets.imagenet.root`` at a fabricated ImageNet
subset: what a user with the real data would set. Snakemake then builds every target
with ``--configfile config/paper.yaml config/paper_mini.yaml <overlay>``.

Afterwards the provenance records give, per rule, the jobs, their summed wall time,
the peak resident and CUDA memory of any job, and the time extrapolated to the paper's
counts: the measured time times the ratio of the paper's to the miniature's counts
that the rule's work grows with (:data:`GROWS_WITH`), start-up included, so an upper
estimate for jobs that are mostly start-up.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import math
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from common import PROJECT_ROOT
from common.config import layered
from common.miniature import sources
from common.provenance import job_records, read_all_records

PAPER = "config/paper.yaml"
MINIATURE = "config/paper_mini.yaml"

#: How much of each source the miniature fabricates.
FABRICATED = {"voc_train": 16, "voc_val": 12, "mexculture_categories": 4,
              "imagenet_classes": 3, "imagenet_train": 2, "imagenet_val": 1}

#: Split sizes of the datasets that come from sources, at paper scale and in the miniature:
#: VOC 2012's train and val lists, PV's 8000 ImageNet training images and the 100 validation
#: images of CartoonX's Fig. 7, MexCulture142's 284 photographs.
SOURCE_SPLITS = {
    "scenes": ({"train": 5717, "test": 5823},
               {"train": FABRICATED["voc_train"], "test": FABRICATED["voc_val"]}),
    "imagenet": ({"train": 8000, "test": 100},
                 {"train": FABRICATED["imagenet_classes"] * FABRICATED["imagenet_train"],
                  "test": FABRICATED["imagenet_classes"] * FABRICATED["imagenet_val"]}),
    "mexculture": ({"test": 284}, {"test": 2 * FABRICATED["mexculture_categories"]}),
}

#: The counts each rule's work grows with: dotted config keys (``{wildcard}`` filled from
#: the job, ``{invariance}`` with PV's second dataset), ``train:<dataset>`` / ``test:<dataset>``
#: for a split's size. A list counts
#: its items. Rules not listed do work that does not grow with any count (figures, tables).
GROWS_WITH: dict[str, tuple[str, ...]] = {
    "make_dataset": ("train:{dataset}",),
    "make_test_dataset": ("test:{dataset}",),
    "train_classifier": ("training.{arch}.epochs", "train:{dataset}"),
    "train_permuted_classifier": ("training.{arch}.epochs", "train:{dataset}"),
    "prediction_figure": ("test:{dataset}",),
    "evaluate_attributions": ("attribution_evaluation.images",
                              "attribution_evaluation.method_params.rise.masks"),
    "sanity_checks": ("attribution_evaluation.sanity.images",),
    "dxai_train": ("dxai.training.iterations",),
    "dxai_decompose": ("dxai.evaluation.images",),
    "dxai_table3": ("dxai.evaluation.images",),
    "dxai_table4": ("dxai.stability.images",),
    "dxai_ablation": ("dxai.evaluation.images",),
    "dxai_naive": ("dxai.naive.images", "dxai.naive.iterations"),
    "cartoonx_explain": ("cartoonx.evaluations.{evaluation}.images", "cartoonx.rde.steps",
                         "cartoonx.rde.samples"),
    "cartoonx_rate_distortion": ("cartoonx.evaluations.{evaluation}.images",
                                 "cartoonx.rate_distortion.draws"),
    "cartoonx_lambda_sweep": ("cartoonx.lambda_sweep.images", "cartoonx.rde.steps",
                              "cartoonx.rde.samples"),
    "cartoonx_sensitivity": ("cartoonx.rde.steps", "cartoonx.rde.samples"),
    "cartoonx_runtime": ("cartoonx.runtime.timed_steps",),
    "survey_table1": ("survey.human_likeness.images",),
    "survey_perturbation": ("survey.perturbation.images",),
    "survey_sanity_checks": ("survey.sanity.images",),
    "survey_timing": ("survey.timing.images", "survey.timing.repeats"),
    "pv_train_decoder": ("pv.decoder.epochs", "train:scenes"),
    "pv_train_invariance_decoder": ("pv.decoder.epochs", "train:{invariance}"),
    "pv_reconstruction_table": ("pv.evaluation.images",),
    "pv_invariance": ("pv.evaluation.images",),
    "pv_examples": ("test:scenes",),
    "pv_survey_kit": ("test:scenes",),
    "course_cam": ("course.localisation.images",),
    "course_classical": ("course.localisation.images",),
    "course_vit": ("course.vit.probing_images",),
    "course_lrp": ("course.lrp.images",),
    "course_limits": ("course.sanity.images",),
}


# --------------------------------------------------------------------------- the copy


def copy_project(destination: Path, source: Path = PROJECT_ROOT) -> Path:
    """Copy the files git would ship (tracked, and untracked but not ignored) and commit them
    in a new repository, so that provenance records a commit as in a clone."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=source, capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        if (source / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, destination / name)
    identity = ["-c", "user.name=miniature", "-c", "user.email=miniature@invalid"]
    for command in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-qm", "copy"]):
        subprocess.run(["git", *command], cwd=destination, check=True, capture_output=True)
    return destination


# --------------------------------------------------------------------------- the sources


def fabricate(folder: Path) -> tuple[dict[str, dict[str, str]], Path]:
    """Fabricate every source under ``folder``: the files a server will offer (``served/``)
    with the checksum entry of each ``downloads`` source, and an ImageNet subset."""
    served = folder / "served"
    served.mkdir(parents=True, exist_ok=True)
    files = {"voc2012": ("VOCtrainval_11-May-2012.tar", "md5"),
             "mexculture142": ("mexculture142.zip", "sha1"),
             **{name: (f"{name}.pth", "sha256") for name in sources.WEIGHTS}}
    sources.voc_archive(served / files["voc2012"][0], FABRICATED["voc_train"],
                        FABRICATED["voc_val"])
    sources.mexculture_archive(served / files["mexculture142"][0],
                               FABRICATED["mexculture_categories"])
    for name in sources.WEIGHTS:
        sources.torchvision_weights(served / files[name][0], name)
    imagenet = folder / "imagenet"
    sources.imagenet_tree(imagenet, FABRICATED["imagenet_classes"], FABRICATED["imagenet_train"],
                          FABRICATED["imagenet_val"])
    checksums = {name: {"file": file, algorithm: sources.digest(served / file, algorithm)}
                 for name, (file, algorithm) in files.items()}
    return checksums, imagenet


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 for the files in ``folder``; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def sources_overlay(paper: Mapping[str, Any], checksums: Mapping[str, dict], base_url: str,
                    imagenet: Path) -> dict[str, Any]:
    """The configuration a user with the real data would add, pointed at the fabrications:
    each source's URL on the local server (under the paper's own file name, so every path
    that names a fetched file stays the paper's) with its checksum, and the ImageNet root."""
    downloads = {}
    for name, entry in checksums.items():
        published = dict(paper["downloads"][name])
        file = published.get("file") or published["url"].rsplit("/", 1)[-1]
        algorithm = next(key for key in ("sha256", "sha1", "md5") if key in entry)
        downloads[name] = {key: value for key, value in published.items()
                           if key not in ("url", "sha256", "sha1", "md5")}
        downloads[name] |= {"url": f"{base_url}/{entry['file']}", algorithm: entry[algorithm],
                            "file": file}
    return {"downloads": downloads, "datasets": {"imagenet": {"root": str(imagenet)}}}


# --------------------------------------------------------------------------- the run


#: Targets whose chains hold the miniature's longest jobs (the survey's and the course's
#: sanity checks, a single job of minutes each; DXAI's trainings, decompositions and
#: tables; CartoonX's rate-distortion curves of VGG16, 87 s, which otherwise started last
#: and ran 74 s beside an idle core): Snakemake starts them first, so that the run ends on
#: short jobs that keep every core busy. The order changes nothing computed.
LONG_CHAINS = ("results/survey/sanity.csv", "results/course/sanity.csv",
               "results/dxai/claims.csv", "results/cartoonx/rate_distortion_imagenet_vgg16.csv")


def snakemake_command(overlay: Path, device: str, cores: int, extra: list[str]) -> list[str]:
    """Every target at the miniature's configuration, the :data:`LONG_CHAINS` first, each
    job on the configuration's one thread (``torch_threads``), so that the many small jobs
    keep every core busy. On a GPU the jobs that use it run one at a time, as the gpu
    profile runs them: three of DXAI's trainings at once (21 GiB each) exhausted an 80 GiB
    H100."""
    gpu = ["--resources", "gpu=1"] if device == "cuda" else []
    return [sys.executable, "-m", "snakemake", "--cores", str(cores), *gpu, *extra,
            "--prioritize", *LONG_CHAINS, "--configfile", PAPER, MINIATURE, str(overlay),
            "--config", f"device={device}"]


def run(workdir: Path, device: str = "cpu", cores: int = 2, extra: list[str] | None = None,
        log=None) -> float:
    """Copy the project into ``workdir``, fabricate and serve the sources, build every target
    of the miniature; returns the wall time in seconds. Raises if Snakemake fails."""
    copy_project(workdir)
    checksums, imagenet = fabricate(workdir / ".miniature")
    paper = yaml.safe_load((workdir / PAPER).read_text())
    with serve(workdir / ".miniature" / "served") as base_url:
        overlay = workdir / ".miniature" / "sources.yaml"
        overlay.write_text(yaml.safe_dump(sources_overlay(paper, checksums, base_url, imagenet)))
        started = time.perf_counter()
        result = subprocess.run(snakemake_command(overlay, device, cores, extra or []),
                                cwd=workdir, stdout=log or subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        elapsed = time.perf_counter() - started
    if result.returncode != 0:
        tail = failure_lines(Path(log.name).read_text()) if log else result.stdout[-6000:]
        raise RuntimeError(f"the paper miniature failed in {workdir} "
                           f"({result.returncode}):\n{tail}")
    return elapsed


def failure_lines(log: str) -> str:
    """What a failed run's log says about its failures: every error block Snakemake printed
    (the rule, its log file) with the traceback before it, else the log's last lines."""
    lines = log.splitlines()
    starts = [index for index, line in enumerate(lines) if line.startswith("Error in rule")]
    if not starts:
        return "\n".join(lines[-60:])
    blocks = ["\n".join(lines[max(0, start - 30):start + 8]) for start in starts]
    return "\n...\n".join(blocks)[-8000:]


# --------------------------------------------------------------------------- the table


def _count(config: Mapping[str, Any], scale: int, expression: str,
           wildcards: Mapping[str, str]) -> float:
    """The value of one count expression of :data:`GROWS_WITH` (``scale`` 0: paper, 1: mini)."""
    expression = expression.format(invariance=config["pv"]["invariance"]["dataset"], **wildcards)
    if expression.startswith(("train:", "test:")):
        split, dataset = expression.split(":")
        if dataset in SOURCE_SPLITS:
            return SOURCE_SPLITS[dataset][scale][split]
        return config["datasets"][dataset].get(f"n_{split}", 1)
    value: Any = config
    for key in expression.split("."):
        value = value[key]
    return len(value) if isinstance(value, list) else value


def growth(rule: str, wildcards: Mapping[str, str], paper: Mapping[str, Any],
           mini: Mapping[str, Any]) -> float:
    """Paper count over miniature count, multiplied over what ``rule``'s work grows with."""
    return math.prod(_count(paper, 0, item, wildcards) / _count(mini, 1, item, wildcards)
                     for item in GROWS_WITH.get(rule, ()))


def scale_configs(root: Path) -> tuple[dict, dict]:
    """The merged paper-scale configuration and the merged miniature."""
    return layered(PAPER, root=root), layered(PAPER, MINIATURE, root=root)


def rule_table(workdir: Path) -> list[dict[str, Any]]:
    """Per rule: jobs, summed wall seconds, the largest peak RSS and CUDA memory of a job,
    and the summed seconds extrapolated to the paper's counts."""
    paper, mini = scale_configs(workdir)
    rows: dict[str, dict[str, Any]] = {}
    for record in job_records(read_all_records(workdir)[0]):
        row = rows.setdefault(record["rule"], {"rule": record["rule"], "jobs": 0, "seconds": 0.0,
                                               "peak_rss_mib": 0.0, "peak_cuda_mib": None,
                                               "paper_seconds": 0.0})
        execution = record.get("execution", {})
        row["jobs"] += 1
        row["seconds"] += record["wall_seconds"]
        row["paper_seconds"] += record["wall_seconds"] * growth(record["rule"],
                                                                record["wildcards"], paper, mini)
        row["peak_rss_mib"] = max(row["peak_rss_mib"], execution.get("peak_rss_mib") or 0.0)
        if execution.get("peak_cuda_mib") is not None:
            row["peak_cuda_mib"] = max(row["peak_cuda_mib"] or 0.0, execution["peak_cuda_mib"])
    return sorted(rows.values(), key=lambda row: -row["paper_seconds"])


def markdown(rows: list[dict[str, Any]]) -> str:
    """The table as Markdown, slowest at paper scale first, with a total line."""
    lines = ["| rule | jobs | miniature s | peak RSS MiB | peak CUDA MiB | paper scale (est.) |",
             "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        cuda = "" if row["peak_cuda_mib"] is None else f"{row['peak_cuda_mib']:.0f}"
        lines.append(f"| {row['rule']} | {row['jobs']} | {row['seconds']:.1f} | "
                     f"{row['peak_rss_mib']:.0f} | {cuda} | {_duration(row['paper_seconds'])} |")
    total, paper = sum(row["seconds"] for row in rows), sum(row["paper_seconds"] for row in rows)
    jobs = sum(row["jobs"] for row in rows)
    lines.append(f"| all | {jobs} | {total:.1f} | | | {_duration(paper)} |")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h" if seconds < 172800 else f"{seconds / 86400:.1f} d"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=PROJECT_ROOT / ".miniature-run")
    parser.add_argument("snakemake_args", nargs="*", help="passed on to Snakemake (targets)")
    args = parser.parse_args(argv)
    if args.workdir.exists():
        shutil.rmtree(args.workdir)
    args.workdir.mkdir(parents=True)
    with (args.workdir.parent / f"{args.workdir.name}.log").open("w") as log:
        elapsed = run(args.workdir, args.device, args.cores, args.snakemake_args, log)
    print(f"paper miniature on {args.device}: {elapsed:.0f} s wall, {args.cores} cores")
    print(markdown(rule_table(args.workdir)))


if __name__ == "__main__":
    main()
