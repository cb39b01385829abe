"""Benchmark: every attribution method's speed and peak memory next to its library's.

    python -m common.explain.bench [--device cpu|cuda] [--batch 16] [--size 32]

For each registered method: images per second and peak extra memory of our
``explain`` call, and of the same method called the way its library documents
(Captum, pytorch-grad-cam, zennit) where one exists, on the zoo's ResNet18.
Then two known answers on the trained classifier of the attribution evaluation,
if the workflow has built it: how often Grad-CAM's peak falls on the object
compared with a random map, and how much randomising all weights changes
gradient maps. Prints Markdown tables (docs/benchmarks.md keeps one).

Peak memory is the CUDA allocator's peak on a GPU; on the CPU it is the
process's resident-set peak above its level before the call, sampled every
millisecond by a thread, so it is approximate and includes allocator caching.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import torch
from captum import attr
from pytorch_grad_cam import EigenGradCAM, GradCAM, GradCAMPlusPlus
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from zennit.attribution import Gradient

from common.explain import METHODS, explain, lime, lrp_rules
from common.explain.cam import feature_layer
from common.models import build_classifier


class PeakMemory:
    """Peak extra memory in MiB of the code inside the context (see the module docstring)."""

    def __init__(self, device: str):
        self.device, self.peak_mib = device, 0.0

    def _sample(self):
        process = psutil.Process()
        while not self._stop.is_set():
            self._peak = max(self._peak, process.memory_info().rss)
            time.sleep(0.001)

    def __enter__(self):
        if self.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._start = torch.cuda.memory_allocated()
            return self
        self._start = self._peak = psutil.Process().memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.device == "cuda":
            torch.cuda.synchronize()
            self.peak_mib = (torch.cuda.max_memory_allocated() - self._start) / 2**20
        else:
            self._stop.set()
            self._thread.join()
            self.peak_mib = (self._peak - self._start) / 2**20


def measure(call: Callable[[], torch.Tensor], images: int, device: str,
            repeats: int = 3, slow_seconds: float = 2.0) -> tuple[float, float]:
    """Images per second (median of ``repeats`` after one warm-up) and peak extra MiB.

    A method whose warm-up call takes longer than ``slow_seconds`` is timed once:
    its run time dwarfs the timer's noise, and three more runs of LIME or RISE
    would dominate the benchmark's own run time.
    """
    started = time.perf_counter()
    call()
    if time.perf_counter() - started > slow_seconds:
        repeats = 1
    times, peaks = [], []
    for _ in range(repeats):
        with PeakMemory(device) as memory:
            started = time.perf_counter()
            call()
            if device == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - started)
        peaks.append(memory.peak_mib)
    return images / statistics.median(times), max(peaks)


def library_calls(model, x, target) -> dict[str, Callable[[], torch.Tensor]]:
    """Each method as its library's documentation calls it, with the registry's parameters."""
    def grad_cam_call(cls):
        def call():
            with cls(model=model, target_layers=[feature_layer(model)]) as cam:
                return cam(input_tensor=x, targets=[ClassifierOutputTarget(int(t))
                                                    for t in target])
        return call

    def zennit_call(rule_name):
        def call():
            rules = lrp_rules.composite(model, **METHODS[rule_name].defaults)
            with Gradient(model, rules) as attributor:
                return attributor(x, torch.eye(model(x[:1]).shape[1], device=x.device)[target])[1]
        return call

    spread = 0.15 * float(x.max() - x.min())
    segments = lime.superpixels(x, segments=METHODS["lime"].defaults.get("segments", 50))
    layer = feature_layer(model)
    return {
        "gradient": lambda: attr.Saliency(model).attribute(x, target=target, abs=False),
        "saliency": lambda: attr.Saliency(model).attribute(x, target=target),
        "gradient_x_input": lambda: attr.InputXGradient(model).attribute(x, target=target),
        "smoothgrad": lambda: attr.NoiseTunnel(attr.Saliency(model)).attribute(
            x, target=target, nt_type="smoothgrad", nt_samples=50, stdevs=spread, abs=False),
        "integrated_gradients": lambda: attr.IntegratedGradients(model).attribute(
            x, target=target, n_steps=50, method="gausslegendre"),
        "gradient_shap": lambda: attr.GradientShap(model).attribute(
            x, baselines=torch.zeros_like(x[:1]), target=target, n_samples=25),
        "deeplift": lambda: attr.DeepLift(model).attribute(x, target=target),
        "guided_backprop": lambda: attr.GuidedBackprop(model).attribute(x, target=target),
        "deconvnet": lambda: attr.Deconvolution(model).attribute(x, target=target),
        "guided_gradcam": lambda: attr.GuidedGradCam(model, feature_layer(model)).attribute(
            x, target=target),
        "internal_influence": lambda: attr.InternalInfluence(model, layer).attribute(
            x, target=target, n_steps=50),
        "gradcam": grad_cam_call(GradCAM),
        "gradcam_plus_plus": grad_cam_call(GradCAMPlusPlus),
        "eigen_gradcam": grad_cam_call(EigenGradCAM),
        "lime": lambda: attr.Lime(model).attribute(
            x, target=target, feature_mask=segments.unsqueeze(1), n_samples=1000,
            perturbations_per_eval=64),
        **{name: zennit_call(name) for name in METHODS if name.startswith("lrp_")},
    }


def speed_table(device: str, batch: int, size: int) -> Iterator[str]:
    """Markdown rows, one per method as it is measured: ours and the library's
    images per second and peak MiB, and the speed ratio."""
    torch.manual_seed(0)
    model = build_classifier("resnet18", num_classes=2, image_size=size, base_width=16)
    model = model.to(device).eval()
    x = torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(0)).to(device)
    target = torch.arange(batch, device=device) % 2
    theirs = library_calls(model, x, target)
    yield ("| method | ours img/s | ours MiB | library | library img/s | library MiB |"
           " ours / library |")
    yield "|---|---:|---:|---|---:|---:|---:|"
    for name in sorted(METHODS):
        ours = measure(lambda name=name: explain(model, x, target, name), batch, device)
        line = f"| {name} | {ours[0]:.1f} | {ours[1]:.0f} |"
        if name in theirs:
            library = measure(theirs[name], batch, device)
            line += (f" {_library_name(name)} | {library[0]:.1f} | {library[1]:.0f} |"
                     f" {ours[0] / library[0]:.2f} |")
        else:
            line += " none | | | |"
        yield line


def _library_name(method: str) -> str:
    if method.startswith("lrp_"):
        return "zennit"
    if method in ("gradcam", "gradcam_plus_plus", "eigen_gradcam"):
        return "pytorch-grad-cam"
    return "captum"


def known_answers(classifier: Path, data: Path, device: str, images: int = 64) -> list[str]:
    """Grad-CAM's pointing game against a random map, and SSIM after randomising all weights."""
    from common.data import load_split
    from common.metrics.localisation import pointing_game
    from common.metrics.sanity import randomisation_stages, reinitialise, similarities
    from common.models import load_classifier

    model = load_classifier(classifier, device).eval()
    test = load_split(data, "test")
    with_object = test.masks.flatten(1).any(1).nonzero().squeeze(1)[:images]
    x, target = test.images[with_object].to(device), test.labels[with_object].to(device)
    mask = test.masks[with_object].to(device)
    hits = {name: pointing_game(explain(model, x, target, name), mask, tolerance=0).mean()
            for name in ("gradcam", "random")}
    randomised = reinitialise(model, randomisation_stages(model), seed=0)
    change = similarities(explain(model, x, target, "gradient"),
                          explain(randomised, x, target, "gradient"))
    return [f"Grad-CAM peak on the object: {hits['gradcam']:.2f} of {len(x)} images "
            f"(random map: {hits['random']:.2f}) — {classifier}",
            f"gradient maps after re-initialising every layer: SSIM {change['ssim'].mean():.2f}, "
            f"Spearman {change['spearman'].mean():.2f}, HOG-PCC {change['hog_pcc'].mean():.2f} "
            f"(1 = unchanged)"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--classifier", type=Path,
                        default=Path("results/models/cars/resnet18/seed0.pt"))
    parser.add_argument("--data", type=Path, default=Path("resources/data/cars"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"ResNet18 (base width 16), {args.batch} images of {args.size} px, {args.device}, "
          f"{torch.get_num_threads()} threads, registry defaults\n")
    for row in speed_table(args.device, args.batch, args.size):
        print(row, flush=True)
    print()
    if args.classifier.is_file():
        print("\n".join(known_answers(args.classifier, args.data, args.device)))
    else:
        print(f"known answers skipped: {args.classifier} is missing "
              f"(snakemake --cores all explanations builds it)")


if __name__ == "__main__":
    main()
