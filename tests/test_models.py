"""The Simple classifier and the resumable, deterministic training loop."""

import pytest
import torch

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
    images, labels, masks = peppers.generate(0, "train", count, 32)
    tensor = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    return ImageSplit(tensor, torch.from_numpy(labels), torch.from_numpy(masks), peppers.CLASSES)


class Interrupted(Exception):
    pass


def test_interrupted_training_resumes_to_identical_weights(tmp_path):
    data = _data()
    settings = TrainSettings(epochs=3, batch_size=16, learning_rate=1e-3, weight_decay=0.0)

    torch.manual_seed(0)
    reference = build_classifier("simple", num_classes=3, image_size=32)
    train(reference, data, settings, seed=5, device="cpu", checkpoint=tmp_path / "a.ckpt")

    def stop_after_first_epoch(record):
        if record["epoch"] == 1:
            raise Interrupted

    torch.manual_seed(0)
    interrupted = build_classifier("simple", num_classes=3, image_size=32)
    with pytest.raises(Interrupted):
        train(interrupted, data, settings, seed=5, device="cpu", checkpoint=tmp_path / "b.ckpt",
              on_epoch=stop_after_first_epoch)
    torch.manual_seed(1)  # a fresh process would start from other random weights
    resumed = build_classifier("simple", num_classes=3, image_size=32)
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


def test_predict_batches_match_one_pass():
    model = build_classifier("simple", num_classes=3, image_size=32).eval()
    images = _data(10).images
    together = predict(model, images, "cpu", batch_size=10)
    batched = predict(model, images, "cpu", batch_size=3)
    assert torch.allclose(together, batched, atol=1e-6)
    assert torch.allclose(together.sum(1), torch.ones(10))
