"""The Simple classifier and the resumable, deterministic training loop."""

from pathlib import Path

import pytest
import torch
from conftest import torchvision_resnet18_and_zoo_copy

from common import budget
from common.data import ImageSplit, peppers
from common.models import build_classifier
from common.models.train import TrainSettings, predict, train


@pytest.mark.parametrize(("size", "pool"), [(32, 2), (64, 2), (256, 3)])
def test_simple_cnn_follows_the_papers_pooling_rule(size, pool):
    model = build_classifier("simple", num_classes=3, image_size=size)
    assert model.features[1].kernel_size == pool
    assert model(torch.rand(2, 3, size, size)).shape == (2, 3)
    assert not any(getattr(module, "inplace", False) for module in model.modules())


def _data(count=48) -> ImageSplit:
    settings = {"seed": 0, "n_train": count, "n_test": 1, "image_size": 32}
    split = peppers.build(settings)["train"]
    images, labels, masks = split.images, split.labels, split.masks
    tensor = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    return ImageSplit(tensor, torch.from_numpy(labels), torch.from_numpy(masks), peppers.CLASSES)


class Interrupted(Exception):
    pass


def stop_after_first_epoch(record):
    """A kill after the first epoch's checkpoint."""
    if record["epoch"] == 1:
        raise Interrupted


#: Every architecture of the zoo, at small widths where it has them; the VGG-style net and
#: the ResNets with the PV head draw dropout masks from torch's global generator.
SMALL_ZOO = {"simple": {}, "vgg": {"base_width": 4, "dense_width": 16},
             "resnet18": {"base_width": 4, "feature_norm": True},
             "resnet50": {"feature_norm": True},
             "vit": {"patch_size": 8, "dim": 16, "depth": 1, "heads": 2}}


@pytest.mark.parametrize("arch", sorted(SMALL_ZOO))
def test_interrupted_training_resumes_to_identical_weights(tmp_path, arch):
    data = _data()
    settings = TrainSettings(epochs=3, batch_size=16, learning_rate=1e-3, weight_decay=0.0)

    def build():
        return build_classifier(arch, num_classes=3, image_size=32, **SMALL_ZOO[arch])

    torch.manual_seed(0)
    reference = build()
    train(reference, data, settings, seed=5, device="cpu", checkpoint=tmp_path / "a.ckpt")

    torch.manual_seed(0)
    interrupted = build()
    with pytest.raises(Interrupted):
        train(interrupted, data, settings, seed=5, device="cpu", checkpoint=tmp_path / "b.ckpt",
              on_epoch=stop_after_first_epoch)
    torch.manual_seed(1)  # a fresh process would start from other random weights
    resumed = build()
    history = train(resumed, data, settings, seed=5, device="cpu", checkpoint=tmp_path / "b.ckpt")

    assert [record["epoch"] for record in history] == [1, 2, 3]
    for name, tensor in reference.state_dict().items():
        assert torch.equal(tensor, resumed.state_dict()[name]), name


def test_checkpoint_of_other_settings_is_not_resumed(tmp_path):
    data = _data(16)
    quick = TrainSettings(epochs=1, batch_size=16, learning_rate=1e-3, weight_decay=0.0)
    model = build_classifier("simple", num_classes=3, image_size=32)
    train(model, data, quick, seed=0, device="cpu", checkpoint=tmp_path / "c.ckpt")
    longer = TrainSettings(epochs=2, batch_size=8, learning_rate=1e-3, weight_decay=0.0)
    history = train(model, data, longer, seed=0, device="cpu", checkpoint=tmp_path / "c.ckpt")
    assert len(history) == 2 and history[0]["epoch"] == 1


def test_a_checkpoint_of_other_data_is_not_resumed(tmp_path):
    """A dataset rebuilt with another seed has as many images; its checkpoint must not
    be resumed (the record would name the new data)."""
    settings = TrainSettings(epochs=2, batch_size=8, learning_rate=1e-3, weight_decay=0.0)
    model = build_classifier("simple", num_classes=3, image_size=32)
    first = []
    with pytest.raises(Interrupted):
        train(model, _data(16), settings, seed=0, device="cpu", checkpoint=tmp_path / "d.ckpt",
              on_epoch=lambda record: (first.append(record), stop_after_first_epoch(record)))
    other = _data(16)
    other.images[:] = other.images.flip(-1)
    history = train(model, other, settings, seed=0, device="cpu", checkpoint=tmp_path / "d.ckpt")
    assert [record["epoch"] for record in history] == [1, 2]
    assert history[0] != first[0]  # epoch 1 trained again, on the new data


def test_predict_batches_match_one_pass():
    model = build_classifier("simple", num_classes=3, image_size=32).eval()
    images = _data(10).images
    with budget.limited(10):
        together = predict(model, images, "cpu")
    with budget.limited(3):
        batched = predict(model, images, "cpu")
    assert torch.allclose(together, batched, atol=1e-6)
    assert torch.allclose(together.sum(1), torch.ones(10))


@pytest.mark.parametrize("arch", ["resnet18", "vgg", "vit"])
@pytest.mark.parametrize("channels", [1, 3])
def test_zoo_architectures_take_small_images(arch, channels):
    model = build_classifier(arch, num_classes=6, image_size=48, in_channels=channels)
    assert model(torch.rand(2, channels, 48, 48)).shape == (2, 6)
    assert not any(getattr(module, "inplace", False) for module in model.modules())


def test_resnet_gives_every_relu_call_its_own_module():
    model = build_classifier("resnet18", num_classes=2, image_size=32, base_width=4)
    calls = {}
    hooks = [module.register_forward_hook(
        lambda module, args, out: calls.__setitem__(module, calls.get(module, 0) + 1))
        for module in model.modules() if isinstance(module, torch.nn.ReLU)]
    model(torch.rand(1, 3, 32, 32))
    for hook in hooks:
        hook.remove()
    assert len(calls) == 17 and set(calls.values()) == {1}  # stem + 2 per block x 8 blocks


def test_vit_records_attention_that_reproduces_its_output():
    model = build_classifier("vit", num_classes=3, image_size=48, patch_size=8, dim=32,
                             depth=2, heads=4).eval()
    attention = model.blocks[0].attention
    attention.record = True
    x = torch.rand(2, 3, 48, 48)
    model(x)
    weights, heads = attention.last["weights"], attention.last["heads"]
    assert weights.shape == (2, 4, 37, 37)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 4, 37))
    tokens = model.blocks[0].norm1(model.tokens(x))
    value = attention.qkv(tokens).reshape(2, 37, 3, 4, 8)[:, :, 2].transpose(1, 2)
    assert torch.allclose(heads, weights @ value, atol=1e-6)


def test_efficientnet_lite0_names_real_photos_as_published():
    from common.data import DATASETS
    from common.models.pretrained import efficientnet_lite0

    photos = DATASETS["photos"].build({"image_size": 224})["test"]
    model = efficientnet_lite0()
    images = torch.from_numpy(photos.images).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        top = model(images).argmax(1)
    predicted = dict(zip(photos.names.tolist(), (model.categories[i] for i in top), strict=True))
    assert predicted["chelsea"] in {"Egyptian cat", "tabby", "tiger cat"}
    assert predicted["coffee"] in {"espresso", "cup"}
    assert not any(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("size", [128, 224])
def test_efficientnet_lite0_pads_inside_its_convolutions_with_the_librarys_bytes(size):
    """Logits, input gradients and LRP's relevance (CartoonX's 128 px, ImageNet's 224) are
    the library network's, bit for bit, and only the stride-1 convolutions lost their pad."""
    from common.explain import explain
    from common.models.pretrained import efficientnet_lite0, shipped_efficientnet_lite0

    ours, library = efficientnet_lite0(), shipped_efficientnet_lite0()
    pads = [type(module.static_padding).__name__ for module in ours.modules()
            if hasattr(module, "static_padding")]
    assert pads.count("ZeroPad2d") == 5  # the stride-2 stem and four depthwise convolutions
    x = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(0))
    for method in ("saliency", "lrp_epsilon"):
        assert torch.equal(explain(ours, x, 1, method), explain(library, x, 1, method)), method
    with torch.no_grad():
        assert torch.equal(ours(x), library(x))


def test_the_shipped_imagenet_categories_are_torchvisions():
    from torchvision.models import ResNet50_Weights

    from common.models.pretrained import IMAGENET_CATEGORIES

    assert tuple(ResNet50_Weights.IMAGENET1K_V1.meta["categories"]) == IMAGENET_CATEGORIES


def test_building_and_explaining_a_zoo_model_leaves_torchvision_unimported():
    """torchvision (through zennit, or directly) and torch's compiler settings each cost a job
    over a second of start-up; only LRP and the paper scale's torchvision models import
    torchvision, when they are used, and no job imports the compiler."""
    import subprocess
    import sys

    script = """if True:
        import sys, torch
        from common.explain import explain
        from common.models import build_classifier
        from common.models.pretrained import IMAGENET_CATEGORIES
        from common.tracking import seed_everything
        seed_everything(0)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        model = build_classifier("resnet18", num_classes=4, image_size=16, base_width=4).eval()
        for method in ("gradcam", "integrated_gradients", "occlusion"):
            explain(model, torch.rand(2, 3, 16, 16), torch.tensor([0, 1]), method)
        assert not {"torchvision", "zennit", "torch._inductor.config"} & set(sys.modules)
        explain(model, torch.rand(2, 3, 16, 16), torch.tensor([0, 1]), "lrp_epsilon")
        assert "zennit" in sys.modules
    """
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).parents[1])


def test_torchvision_model_loads_weights_from_a_local_file(tmp_path):
    import torchvision

    from common.models.pretrained import torchvision_imagenet

    reference = torchvision.models.mobilenet_v3_small(weights=None).eval()
    torch.save(reference.state_dict(), tmp_path / "mobilenet.pth")
    model = torchvision_imagenet("mobilenet_v3_small", tmp_path / "mobilenet.pth")
    x = torch.rand(2, 3, 64, 64)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        assert torch.allclose(model(x), reference((x - mean) / std), atol=1e-5)
    with pytest.raises(FileNotFoundError, match="pretrained.vgg16"):
        torchvision_imagenet("vgg16", tmp_path / "absent.pth")


def test_multi_label_training_uses_binary_cross_entropy():
    from common.models.train import loss_and_hits

    logits = torch.tensor([[2.0, -2.0, 0.5]])
    labels = torch.tensor([[1.0, 0.0, 0.0]])
    loss, hits = loss_and_hits(logits, labels)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    assert torch.isclose(loss, expected) and hits == pytest.approx(2 / 3)


@pytest.mark.parametrize(("stem", "side"), [("cifar", 64), ("imagenet", 16)])
def test_resnet18_stem_sets_the_resolution_of_layer3_at_256_px(stem, side):
    """The DXAI authors' torchvision stem quarters the image before layer1, so their CAM layer
    (layer3) is 16 x 16 at 256 px; the small-image stem keeps it at 64 x 64."""
    model = build_classifier("resnet18", num_classes=2, image_size=256, base_width=4,
                             stem=stem).eval()
    with torch.no_grad():
        layer3 = model.layer3(model.layer2(model.layer1(model.stem(torch.rand(1, 3, 256, 256)))))
    assert layer3.shape[-2:] == (side, side)


def test_resnet18_adds_its_residuals_to_the_bits_of_the_stacked_sum_it_replaced():
    """Logits, input gradients and a training step's weights are the same bytes with each block
    adding its two terms (the zoo's forward) as with the stacked sum over a last axis (before;
    the form LRP's canonizer still uses), also for images laid out channels last."""
    from bench.hot_paths import stacked_residual_sums

    def logits_gradients_and_stepped_weights(channels: int):
        torch.manual_seed(0)
        model = build_classifier("resnet18", num_classes=3, image_size=32, base_width=8,
                                 in_channels=channels)
        x = torch.rand(4, 32, 32, channels).permute(0, 3, 1, 2).requires_grad_(True)
        logits = model.eval()(x)
        gradient, = torch.autograd.grad(logits[:, 0].sum(), x)
        optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
        torch.nn.functional.cross_entropy(model.train()(x.detach()), torch.arange(4) % 3).backward()
        optimiser.step()
        return [logits.detach(), gradient, *model.state_dict().values()]

    for channels in (1, 3):  # images laid out channels last, as a grey batch sliced from HWC
        plain = logits_gradients_and_stepped_weights(channels)
        with stacked_residual_sums():
            stacked = logits_gradients_and_stepped_weights(channels)
        assert all(torch.equal(a, b) for a, b in zip(plain, stacked, strict=True)), channels


def test_resnet18_with_the_imagenet_stem_is_torchvisions_resnet18():
    """torchvision's resnet18 weights load into the zoo's (only the names of the stem and of the
    projection shortcuts differ) and give the same logits."""
    reference, model = torchvision_resnet18_and_zoo_copy(num_classes=3)
    x = torch.rand(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(model(x), reference(x), atol=1e-4)


@pytest.mark.parametrize("stem", ["cifar", "imagenet"])
def test_resnet18_stem_is_rebuilt_from_a_checkpoint_and_keeps_the_configured_layers(stem,
                                                                                       tmp_path):
    import yaml

    from common import PROJECT_ROOT
    from common.models import load_classifier

    arch_kwargs = {"num_classes": 2, "image_size": 64, "in_channels": 3, "base_width": 4,
                   "stem": stem}
    model = build_classifier("resnet18", **arch_kwargs)
    torch.save({"arch": "resnet18", "arch_kwargs": arch_kwargs,
                "state_dict": model.state_dict()}, tmp_path / "model.pt")
    loaded = load_classifier(tmp_path / "model.pt")
    assert [type(m) for m in loaded.stem] == [type(m) for m in model.stem]
    dxai = yaml.safe_load((PROJECT_ROOT / "config/config.yaml").read_text())["dxai"]
    for layer in [dxai["evaluation"]["gradcam_layer"], *dxai["stability"]["layers"]]:
        assert isinstance(loaded.get_submodule(layer), torch.nn.Conv2d), layer


def test_a_diverging_training_stops_naming_its_run(tmp_path):
    """A loss or weight that is no longer finite stops the run instead of saving a model
    that predicts one class (weight decay .inf used to train to NaN weights silently)."""
    data = _data(16)
    settings = TrainSettings(epochs=2, batch_size=8, learning_rate=1e-3,
                             weight_decay=float("inf"))
    model = build_classifier("simple", num_classes=3, image_size=32)
    with pytest.raises(FloatingPointError, match=r"training of .*seed0 diverged at epoch 1"):
        train(model, data, settings, seed=0, device="cpu", checkpoint=tmp_path / "seed0.ckpt")
    assert not (tmp_path / "seed0.ckpt").exists()


def test_an_unreadable_checkpoint_is_deleted_and_the_run_starts_afresh(tmp_path, caplog):
    data = _data(16)
    settings = TrainSettings(epochs=1, batch_size=8, learning_rate=1e-3, weight_decay=0.0)
    torch.manual_seed(0)
    clean = build_classifier("simple", num_classes=3, image_size=32)
    expected = train(clean, data, settings, seed=0, device="cpu", checkpoint=tmp_path / "a.ckpt")
    (tmp_path / "b.ckpt").write_bytes(bytes(range(256)) * 4)  # killed while writing
    torch.manual_seed(0)
    model = build_classifier("simple", num_classes=3, image_size=32)
    with caplog.at_level("WARNING"):
        history = train(model, data, settings, seed=0, device="cpu",
                        checkpoint=tmp_path / "b.ckpt")
    assert history == expected
    assert f"deleting {tmp_path / 'b.ckpt'}" in caplog.text


def test_an_unreadable_model_names_its_file_and_the_rule_that_wrote_it(tmp_path, monkeypatch):
    from common import provenance
    from common.io import UnreadableFile, write_json
    from common.models import load_classifier

    monkeypatch.chdir(tmp_path)
    model = tmp_path / "results/models/cars/simple/seed0.pt"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"PK\x03\x04 not a whole archive")
    write_json(provenance.record_path("results/models/cars/simple/seed0.pt"),
               {"rule": "train_classifier", "output": "results/models/cars/simple/seed0.pt",
                "output_sha256": "0" * 64, "inputs": [], "code": {}})
    with pytest.raises(UnreadableFile, match=r"seed0\.pt is not a readable torch file .*"
                                             r"snakemake --forcerun train_classifier"):
        load_classifier("results/models/cars/simple/seed0.pt")
