"""DXAI (papers/dxai): the networks' structure, Eq. 5, resumable training, the measures, and a
known answer: on peppers (classes differ by hue only), removing the distinct part of a
briefly trained DXAI moves a colour classifier towards the uniform prediction."""

import math
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from common.data import build_dataset
from papers.dxai.decompose import Decomposer, naive_agnostic
from papers.dxai.evaluation import (
    beta_probabilities,
    betas,
    mask_share,
    normalised_auc,
    normalised_spread,
)
from papers.dxai.model import (
    Architecture,
    BranchedGenerator,
    Discriminator,
    MappingNetwork,
    average_pool_2x,
    upsample_nearest_2x,
)
from papers.dxai.training import (
    LossWeights,
    Networks,
    Run,
    Settings,
    alpha_blend,
    distinct_mask,
    ema_state,
    psnr,
    train,
)

TINY = Architecture(image_size=16, channels=3, classes=3, branches=3, width=4, max_width=8,
                    stages=2, bottleneck=1, style_dim=8, latent_dim=4, mapping_width=16,
                    discriminator_width=4, discriminator_max_width=8, stage_blocks=(1, 1),
                    skip="add", input_norm=False, init="pytorch")   # the embedded options
AUTHORS_TINY = replace(TINY, stage_blocks=None, skip="concatenate", input_norm=True, init="he")


def settings(**changes) -> Settings:
    base = Settings(iterations=6, batch_size=4, lr_generator=1e-3, lr_mapping=1e-5,
                    lr_discriminator=1e-3, weight_decay=1e-4, ema=0.9, evaluate_every=2,
                    checkpoint_every=3, augment=True, weights=LossWeights())
    return replace(base, **changes)


class MeanColour(nn.Module):
    """A colour classifier: logistic regression on an image's mean colour."""

    def __init__(self, classes: int):
        super().__init__()
        self.linear = nn.Linear(3, classes)

    def forward(self, x):
        return self.linear(x.mean(dim=(2, 3)))


def fit_mean_colour(images: torch.Tensor, labels: torch.Tensor) -> MeanColour:
    torch.manual_seed(0)
    model = MeanColour(int(labels.max()) + 1)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(300):
        optimiser.zero_grad()
        F.cross_entropy(model(images), labels).backward()
        optimiser.step()
    return model.eval().requires_grad_(False)


@pytest.fixture(scope="module")
def peppers():
    splits, _ = build_dataset("peppers", {"image_size": 16, "n_train": 240, "n_test": 60,
                                          "seed": 0, "root": None})
    def tensors(split):
        return (torch.from_numpy(split.images).permute(0, 3, 1, 2).float() / 255,
                torch.from_numpy(split.labels).long())
    return tensors(splits["train"]), tensors(splits["test"])


@pytest.mark.parametrize("arch", [TINY, AUTHORS_TINY], ids=["embedded", "authors"])
def test_each_branch_is_its_own_sub_network(arch):
    """Grouped convolutions: psi_1 depends on no weight of another branch's group."""
    torch.manual_seed(0)
    generator = BranchedGenerator(arch)
    styles = torch.randn(2, arch.style_blocks, arch.style_dim)
    psi = generator(torch.rand(2, 3, 16, 16) * 2 - 1, styles)
    assert psi.shape == (2, arch.branches, 3, 16, 16)
    psi[:, 0].square().sum().backward()
    convolutions = [m for m in generator.modules() if isinstance(m, nn.Conv2d)]
    assert convolutions and all(m.groups == arch.branches for m in convolutions)
    for conv in convolutions:
        per_group = conv.weight.grad.view(arch.branches, -1)
        assert per_group[0].abs().sum() > 0
        assert per_group[1:].abs().max() == 0


@pytest.mark.parametrize("skip", ["concatenate", "add"])
def test_changing_one_branchs_weights_changes_only_its_image(skip):
    """With the skips concatenated branch by branch (or added), perturbing the first
    convolution of branch k moves psi_k and leaves every other psi_j as it was."""
    torch.manual_seed(0)
    arch = replace(AUTHORS_TINY, skip=skip)
    generator = BranchedGenerator(arch).eval()
    x, styles = torch.rand(2, 3, 16, 16) * 2 - 1, torch.randn(2, arch.style_blocks, arch.style_dim)
    with torch.no_grad():
        before = generator(x, styles)
        first = generator.from_image[-1]
        first.weight.view(arch.branches, -1)[1] += 0.5
        after = generator(x, styles)
    changed = (after - before).flatten(2).abs().amax(2).amax(0)
    assert changed[1] > 1e-3
    assert changed[0] == 0 and changed[2] == 0


def test_the_authors_generator_has_four_blocks_in_the_first_three_stages_and_two_after():
    generator = BranchedGenerator(Architecture(image_size=256, channels=3, classes=2))
    assert [len(stage) for stage in generator.down] == [4, 4, 4, 2]
    for stage in generator.down:
        assert [block.downsample for block in stage] == [False] * (len(stage) - 1) + [True]
    norm, activation, _ = generator.from_image
    assert isinstance(norm, nn.InstanceNorm2d) and norm.affine
    assert isinstance(activation, nn.LeakyReLU) and activation.negative_slope == 0.2
    assert len(generator.up) == 4 and len(generator.decode_bottleneck) == 2


@pytest.mark.parametrize(("init", "gain"), [("he", 2.0), ("pytorch", 1 / 3)])
def test_he_initialisation_of_generator_discriminator_and_mapping(init, gain):
    """He: std sqrt(2 / fan_in) and zero biases; PyTorch's default: U(+-1/sqrt(fan_in)),
    std sqrt(1 / (3 fan_in)). Checked on every layer with enough weights to estimate it."""
    torch.manual_seed(0)
    arch = Architecture(image_size=32, channels=3, classes=2, width=8, max_width=32, stages=2,
                        style_dim=32, mapping_width=128, discriminator_width=32,
                        discriminator_max_width=64, init=init)
    layers = [layer for network in (BranchedGenerator(arch), Discriminator(arch),
                                    MappingNetwork(arch))
              for layer in network.modules() if isinstance(layer, (nn.Conv2d, nn.Linear))]
    checked = 0
    for layer in layers:
        if layer.bias is not None and init == "he":
            assert layer.bias.abs().max() == 0
        if layer.weight.numel() >= 4096:
            fan_in = layer.weight[0].numel()
            std = float(layer.weight.detach().std())
            assert std == pytest.approx(math.sqrt(gain / fan_in), rel=0.1)
            checked += 1
    assert checked >= 10


def test_generator_parameter_count_matches_a_hand_count():
    """One branch pair, one stage of two blocks, one bottleneck block each side, concatenated
    skips and the input norm: every tensor counted by hand."""
    arch = Architecture(image_size=8, channels=1, classes=2, branches=2, width=2, max_width=4,
                        stages=1, stage_blocks=(2,), bottleneck=1, style_dim=3, latent_dim=2,
                        mapping_width=4, discriminator_width=2, discriminator_max_width=4)

    def conv(cin, cout, kernel, bias=True, groups=2):  # grouped by the two branches
        return cout * (cin // groups) * kernel * kernel + (cout if bias else 0)

    def norm(channels):  # affine InstanceNorm: a scale and a shift per channel
        return 2 * channels

    def adain(channels):  # a linear map from the style to a scale and shift per channel
        return 3 * 2 * channels + 2 * channels

    # channels of all branches: input 1 x 2, stage input 2 x 2, stage output and bottom 4 x 2
    from_image = norm(2) + conv(2, 4, 3)
    stage = (norm(4) + conv(4, 4, 3) + norm(4) + conv(4, 4, 3)                 # 2 -> 2
             + norm(4) + conv(4, 4, 3) + norm(4) + conv(4, 8, 3) + conv(4, 8, 1, False))  # 2 -> 4
    encode_bottom = norm(8) + conv(8, 8, 3) + norm(8) + conv(8, 8, 3)
    decode_bottom = adain(8) + conv(8, 8, 3) + adain(8) + conv(8, 8, 3)
    up = adain(16) + conv(16, 4, 3) + adain(4) + conv(4, 4, 3) + conv(16, 4, 1, False)  # 4 + 4 -> 2
    head = norm(4) + conv(4, 2, 1)
    expected = from_image + stage + encode_bottom + decode_bottom + up + head
    assert expected == 2390
    assert sum(p.numel() for p in BranchedGenerator(arch).parameters()) == expected


def test_alpha_blending_keeps_the_distinct_branch_out_of_the_alternative_image():
    psi_own = torch.randn(2, 4, 3, 8, 8, requires_grad=True)
    psi_other = torch.randn(2, 4, 3, 8, 8, requires_grad=True)
    alpha = torch.rand(2, 3)
    own, other = alpha_blend(psi_own, psi_other, alpha)
    other.sum().backward()
    assert psi_own.grad[:, 0].abs().max() == 0 and psi_other.grad[:, 0].abs().max() == 0
    weight = alpha[:, :, None, None, None]
    expected = psi_own[:, 0] + (weight * psi_own[:, 1:] + (1 - weight) * psi_other[:, 1:]).sum(1)
    assert torch.allclose(own, expected, atol=1e-6)
    own_whole, _ = alpha_blend(psi_own, psi_other, torch.ones(2, 3))
    assert torch.allclose(own_whole, psi_own.sum(1), atol=1e-6)  # alpha = 1: own style only


def test_mapping_and_discriminator_shapes():
    mapping, discriminator = MappingNetwork(TINY), Discriminator(TINY)
    styles = mapping(torch.randn(5, TINY.latent_dim), torch.tensor([0, 1, 2, 0, 1]))
    assert styles.shape == (5, TINY.style_blocks, TINY.style_dim)
    assert discriminator(torch.rand(5, 3, 16, 16)).shape == (5, TINY.classes)


def _layouts(shape: tuple[int, ...]) -> list[torch.Tensor]:
    """Random tensors of ``shape`` in the default layout, channels-last, and a slice of a
    larger tensor whose strides read as channels-last (as DXAI's grey images have). The
    first 2 x 2 block of every channel is -0: PyTorch's kernels sum from a zero, which
    makes it +0."""
    batch, channels, height, width = shape
    default = torch.randn(shape)
    default[:, :, :2, :2] = -0.0
    sliced = torch.randn(batch, height, width, channels + 1).permute(0, 3, 1, 2)[:, :channels]
    return [default, default.contiguous(memory_format=torch.channels_last), sliced]


def _bytes_and_strides(*tensors: torch.Tensor) -> list:
    return [(tensor.detach().numpy().tobytes(), tensor.stride()) for tensor in tensors]


def _first_and_second_order(operation, x: torch.Tensor) -> list:
    """The output, input gradient and, through the gradient's square (R1's form), the second
    derivative reaching a parameter before ``operation``, with bytes and strides."""
    scale = torch.linspace(0.5, 2.0, x.shape[1])[None, :, None, None].requires_grad_(True)
    inputs = x.detach().clone().requires_grad_(True)
    output = operation(inputs * scale)
    weights = torch.randn(output.shape, generator=torch.Generator().manual_seed(1))
    weights[:, :, -2:, -2:] = -0.0   # gradients of -0, which the kernels' backwards make +0
    gradient, = torch.autograd.grad((output * weights).sum(), inputs, create_graph=True)
    second, = torch.autograd.grad(gradient.square().sum(), scale)
    return _bytes_and_strides(output, gradient, second)


@pytest.mark.parametrize("shape", [(16, 40, 16, 16), (3, 5, 7, 6), (2, 1, 4, 4), (2, 6, 5, 4)])
def test_dxais_pooling_gives_the_bytes_of_pytorchs_kernel(shape):
    """The generator's and discriminator's 2 x 2 average pooling (strided additions in the
    default layout) against F.avg_pool2d: output, gradient and R1's second derivative,
    bitwise and in the same layout, whatever the input's layout or size (odd sizes pool
    through F.avg_pool2d)."""
    for x in _layouts(shape):
        assert (_first_and_second_order(average_pool_2x, x)
                == _first_and_second_order(lambda t: F.avg_pool2d(t, 2), x))


@pytest.mark.parametrize("shape", [(16, 40, 16, 16), (3, 5, 7, 6), (2, 1, 4, 4), (4, 3, 1, 1)])
def test_dxais_upsampling_gives_the_bytes_of_pytorchs_kernel(shape):
    """The generator's nearest 2x upsampling (broadcast copies in the default layout) against
    F.interpolate, as the pooling above."""
    for x in _layouts(shape):
        assert (_first_and_second_order(upsample_nearest_2x, x) == _first_and_second_order(
            lambda t: F.interpolate(t, scale_factor=2, mode="nearest"), x))


def test_dxais_networks_pool_and_upsample_without_pytorchs_kernels_in_the_default_layout(
        monkeypatch):
    """On the CPU F.interpolate's nearest kernel takes about six times as long as a copy in the
    default layout, and F.avg_pool2d's forward 2.5 to 4 times as long as strided additions."""
    def refuse(*args, **kwargs):
        raise AssertionError("a pooling or interpolation kernel was called")

    monkeypatch.setattr(F, "interpolate", refuse)
    monkeypatch.setattr(F, "avg_pool2d", refuse)
    generator, discriminator = BranchedGenerator(TINY), Discriminator(TINY)
    x = torch.rand(2, TINY.channels, TINY.image_size, TINY.image_size)
    psi = generator(x, torch.randn(2, TINY.style_blocks, TINY.style_dim))
    assert psi.shape == (2, TINY.branches, TINY.channels, TINY.image_size, TINY.image_size)
    assert discriminator(x).shape == (2, TINY.classes)


def test_dxai_training_is_bitwise_that_with_pytorchs_kernels(peppers, tmp_path):
    """Three iterations (R1's double backward included) give the same weights, bit for bit,
    with PyTorch's pooling and interpolation kernels put back."""
    from bench.hot_paths import pytorchs_pooling_and_upsampling

    (images, labels), _ = peppers
    classifier = fit_mean_colour(images, labels)

    def weights(name):
        run = Run(TINY, settings(iterations=3), seed=0, checkpoint=tmp_path / f"{name}.pt")
        return train(run, classifier, images, labels, _no_probe, "cpu")[0].state_dict()

    ours = weights("ours")
    with pytorchs_pooling_and_upsampling():
        pytorchs = weights("pytorchs")
    assert all(torch.equal(ours[name], pytorchs[name]) for name in ours)


def test_the_eq12_mask_marks_elements_above_their_channels_image_mean():
    distinct = torch.zeros(1, 3, 4, 4)
    distinct[0, 0, 0, 0] = 1.0
    distinct[0, 1, 1, 1] = -2.0
    mask = distinct_mask(distinct)
    assert mask.shape == (1, 3, 4, 4) and mask.sum() == 2
    assert mask[0, 0, 0, 0] and mask[0, 1, 1, 1] and not mask[0, 2].any()


def _no_probe(nets):
    return {}


def test_resuming_from_a_checkpoint_continues_the_same_loss_curve(peppers, tmp_path):
    (images, labels), _ = peppers
    classifier = fit_mean_colour(images, labels)
    straight = Run(TINY, settings(), seed=3, checkpoint=tmp_path / "straight.pt")
    _, history, _ = train(straight, classifier, images, labels, _no_probe, "cpu")
    resumed = Run(TINY, settings(), seed=3, checkpoint=tmp_path / "resumed.pt")
    train(resumed, classifier, images, labels, _no_probe, "cpu", stop_after=3)
    nets, again, snapshots = train(resumed, classifier, images, labels, _no_probe, "cpu")
    assert [record["iteration"] for record in again] == [2, 4, 6]
    assert again == history
    assert len(snapshots) == 3
    final = torch.load(straight.checkpoint, weights_only=True)["nets"]
    for key, value in nets.state_dict().items():
        assert torch.equal(value, final[key]), key


def test_a_checkpoint_of_other_data_is_not_resumed(peppers, tmp_path):
    """Data rebuilt with another seed has as many images; the run starts afresh on it."""
    (images, labels), _ = peppers
    classifier = fit_mean_colour(images, labels)
    interrupted = Run(TINY, settings(), seed=3, checkpoint=tmp_path / "interrupted.pt")
    train(interrupted, classifier, images, labels, _no_probe, "cpu", stop_after=3)
    flipped = images.flip(-1)
    _, again, _ = train(interrupted, classifier, flipped, labels, _no_probe, "cpu")
    fresh = Run(TINY, settings(), seed=3, checkpoint=tmp_path / "fresh.pt")
    _, history, _ = train(fresh, classifier, flipped, labels, _no_probe, "cpu")
    assert again == history


@pytest.fixture(scope="module")
def trained(peppers, tmp_path_factory):
    """A DXAI model trained for 300 iterations against the mean-colour classifier."""
    (images, labels), _ = peppers
    classifier = fit_mean_colour(images, labels)
    run = Run(TINY, settings(iterations=300, batch_size=8, evaluate_every=300,
                             checkpoint_every=300, ema=0.95), seed=0,
              checkpoint=tmp_path_factory.mktemp("dxai") / "dxai.pt")
    nets, history, _ = train(run, classifier, images, labels, _no_probe, "cpu")
    return classifier, Decomposer.from_state(TINY, ema_state(nets)), history


def test_the_branches_sum_to_the_input_after_a_short_training(trained, peppers):
    classifier, decomposer, _ = trained
    _, (x, _) = peppers
    predicted = classifier(x).argmax(1)
    torch.manual_seed(0)
    untrained = Decomposer.from_state(TINY, ema_state(Networks(TINY)))
    before = float(psnr(untrained(x, predicted).reconstruction, x).mean())
    after = float(psnr(decomposer(x, predicted).reconstruction, x).mean())
    assert after > 17 and after > before + 5, (before, after)  # 19.7 dB measured


def test_removing_the_distinct_part_moves_the_prediction_towards_uniform(trained, peppers):
    """Known answer on hue-only classes: without its distinct part an image is classified at
    chance, and the agnostic part is far closer to a uniform prediction than the image."""
    classifier, decomposer, _ = trained
    _, (x, labels) = peppers
    parts = decomposer(x, classifier(x).argmax(1))
    uniform = torch.full((len(x), 3), 1 / 3)

    def kl_to_uniform(images):
        return F.kl_div(classifier(images).log_softmax(1), uniform, reduction="batchmean")

    assert kl_to_uniform(x - parts.distinct) < kl_to_uniform(x)
    assert kl_to_uniform(parts.agnostic) < 0.5 * kl_to_uniform(x)  # 0.08 vs 0.43 measured
    probabilities = beta_probabilities(classifier, x, parts.distinct, torch.tensor([0.0, 1.0]))
    accuracy = (probabilities.argmax(2) == labels.view(-1, 1)).float().mean(0)
    assert accuracy[0] > 0.8 and accuracy[1] < 0.5  # 0.90 and 0.32 (chance 0.33) measured


def test_the_naive_baseline_reaches_a_uniform_prediction(peppers):
    (images, labels), _ = peppers
    classifier = fit_mean_colour(images, labels)
    agnostic, kl = naive_agnostic(classifier, images[:4], step=1.0, iterations=500)
    assert (kl < 1e-2).all()
    assert (agnostic - images[:4]).abs().max() > 0


def test_normalised_auc_known_answers():
    grid = betas(11)
    assert normalised_auc(torch.ones(11), grid) == pytest.approx(1.0)
    assert normalised_auc(1 - grid, grid) == pytest.approx(0.5)
    assert normalised_auc(torch.full((11,), 0.5) * (1 - grid), grid) == pytest.approx(0.5)


def test_beta_zero_is_the_classifier_on_the_input():
    model = MeanColour(3)
    x, distinct = torch.rand(4, 3, 8, 8), torch.rand(4, 3, 8, 8)
    probabilities = beta_probabilities(model, x, distinct, torch.tensor([0.0, 1.0]))
    assert torch.allclose(probabilities[:, 0], model(x).softmax(1))
    assert torch.allclose(probabilities[:, 1], model(x - distinct).softmax(1))


def test_mask_share_and_spread_known_answers():
    distinct = torch.zeros(2, 3, 4, 4)
    distinct[:, :, :2] = 1.0
    mask = torch.zeros(2, 4, 4)
    mask[0, :2] = 1
    mask[1, :1] = 1
    assert mask_share(distinct, mask).tolist() == pytest.approx([1.0, 0.5])
    same = torch.rand(1, 5, 3, 4, 4).expand(3, -1, -1, -1, -1)
    assert normalised_spread(same).abs().max() == 0
    two = torch.stack([torch.zeros(1, 4), torch.ones(1, 4)])  # std 0.5, range 1
    assert normalised_spread(two).tolist() == pytest.approx([0.5])


def test_a_decomposition_does_not_depend_on_the_memory_budget():
    """The latents are drawn for all images at once, the images pass in budget-sized chunks."""
    from common import budget
    from papers.dxai.decompose import Decomposer

    torch.manual_seed(0)
    decomposer = Decomposer(TINY).eval()
    x = torch.rand(5, TINY.channels, TINY.image_size, TINY.image_size)
    classes = torch.tensor([0, 1, 0, 1, 1])
    with budget.limited(64):
        whole = decomposer(x, classes)
    with budget.limited(2):
        chunked = decomposer(x, classes)
    torch.testing.assert_close(chunked.distinct, whole.distinct, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(chunked.agnostic, whole.agnostic, atol=1e-5, rtol=1e-5)
