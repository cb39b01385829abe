"""Perception Visualization: encoder, decoder, loss, PV image, study statistics, survey kit."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from bench.hot_paths import decoder_training_encoding_every_batch
from common import PROJECT_ROOT, budget
from common.io import sha256_file
from common.models import ARCHITECTURES, build_classifier
from papers.pv import study
from papers.pv.decoder import Decoder, Encoder, LossWeights, decoder_stages, loss_terms
from papers.pv.perception import explain_top_class, normalised_saliency, perception_visualisation
from papers.pv.plan import ENCODER_ARCHITECTURES
from papers.pv.survey_kit import CANT_TELL, question_pools, select_questions, simulate_scores
from papers.pv.training import DecoderSettings, decoder_kwargs, encoded, train_decoder

SCORES = PROJECT_ROOT / "papers/pv/data/participant_scores.csv"
SIZE = 32


@pytest.fixture()
def classifier():
    torch.manual_seed(0)
    model = build_classifier("resnet18", num_classes=6, image_size=SIZE, base_width=4,
                             feature_norm=True)
    model.train()
    model(torch.rand(8, 3, SIZE, SIZE))  # non-trivial batch-norm running statistics
    return model.eval()


def _decoder(encoder, width_scale=0.05):
    return Decoder(**decoder_kwargs(encoder, SIZE, 3, width_scale))


def test_encoder_is_the_classifiers_normalised_last_features(classifier):
    x = torch.rand(3, 3, SIZE, SIZE)
    seen = {}
    handle = classifier.feature_norm.register_forward_hook(
        lambda module, args, output: seen.update(features=output))
    logits = classifier(x)
    handle.remove()
    features = Encoder(classifier)(x)
    assert torch.equal(features, seen["features"])
    assert torch.allclose(classifier.fc(features.mean((2, 3))), logits, atol=1e-6)
    assert isinstance(classifier.feature_norm[1], torch.nn.BatchNorm2d)


def test_encoder_stays_in_eval_mode(classifier):
    encoder = Encoder(classifier).train()
    assert not encoder.training and not classifier.training
    assert not any(parameter.requires_grad for parameter in classifier.parameters())


def test_decoder_output_shape_and_range(classifier):
    encoder = Encoder(classifier)
    decoder = _decoder(encoder)
    y = decoder(encoder(torch.rand(2, 3, SIZE, SIZE)))
    assert y.shape == (2, 3, SIZE, SIZE)
    assert y.min() > 0 and y.max() < 1
    assert len(decoder.stages) == 3  # 4 px features doubled three times


def test_decoder_stages_follow_the_paper():
    assert decoder_stages(224, 7) == ((512, 2), (512, 2), (256, 2), (128, 1), (64, 1))
    assert decoder_stages(48, 6) == ((256, 2), (128, 1), (64, 1))
    with pytest.raises(ValueError, match="must be 2, 4"):
        decoder_stages(48, 5)


def test_loss_weights_must_sum_to_one():
    with pytest.raises(ValueError, match="sum to one"):
        LossWeights(mse=0.5, ssim=0.4, dsim=0.4)


def test_ssim_term_is_minus_the_channel_sum(classifier):
    encoder = Encoder(classifier)
    x = torch.rand(2, 3, SIZE, SIZE)
    terms = loss_terms(encoder, x.clone(), x, encoder(x))
    assert terms["mse"].item() == 0 and terms["dsim"].item() == 0
    assert terms["ssim"].item() == pytest.approx(-3.0, abs=1e-5)


def _settings(epochs, weights=(0.2, 0.4, 0.4)):
    return DecoderSettings(epochs=epochs, batch_size=4, learning_rate=1e-2, width_scale=0.05,
                           weights=LossWeights(*weights))


def test_decoder_training_leaves_the_encoder_unchanged_and_dsim_reaches_the_decoder(
        classifier, tmp_path):
    encoder = Encoder(classifier)
    before = {name: value.clone() for name, value in classifier.state_dict().items()}
    decoder = _decoder(encoder)
    start = {name: value.clone() for name, value in decoder.state_dict().items()}
    images = torch.rand(8, 3, SIZE, SIZE)
    train_decoder(encoder, decoder, images, _settings(2, (0.0, 0.0, 1.0)), 0, "cpu",
                  tmp_path / "decoder.checkpoint")
    after = classifier.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert any(not torch.equal(start[name], value) for name, value in decoder.state_dict().items()
               if name.endswith("weight"))


def test_features_encoded_once_equal_those_of_each_batch(classifier, tmp_path, monkeypatch):
    encoder = Encoder(classifier)
    images = torch.rand(10, 3, SIZE, SIZE)
    monkeypatch.setattr(budget, "_images_per_pass", 3)  # chunks unlike any training batch
    cached = encoded(encoder, images, "cpu")
    assert len(cached) == len(images)
    for index in range(len(images)):
        assert torch.allclose(cached[index], encoder(images[index:index + 1])[0], atol=1e-6)
    torch.manual_seed(1)
    reference = _decoder(encoder)
    torch.manual_seed(1)
    trained = _decoder(encoder)
    decoder_training_encoding_every_batch(encoder, reference, images, _settings(1), seed=0)
    train_decoder(encoder, trained, images, _settings(1), 0, "cpu", tmp_path / "c.ckpt")
    # A transposed convolution's bias feeds batch norm, which subtracts it again: its gradient
    # is zero up to rounding, which Adam scales to full steps, and the running mean follows.
    # Neither changes what the decoder computes on a batch (batch norm removes the bias); in
    # eval mode the running mean lags the bias, a difference of rounding's making as well.
    degenerate = ("0.bias", "1.running_mean")
    for name, value in reference.state_dict().items():
        if not name.endswith(degenerate):
            assert torch.allclose(value, trained.state_dict()[name], atol=1e-6), name
    with torch.no_grad():
        assert torch.allclose(reference(cached), trained(cached), atol=1e-5)
        assert torch.allclose(reference.eval()(cached), trained.eval()(cached), atol=1e-3)


def test_resumed_decoder_training_continues_the_same_run(classifier, tmp_path):
    encoder = Encoder(classifier)
    images = torch.rand(8, 3, SIZE, SIZE)
    torch.manual_seed(1)
    whole = _decoder(encoder)
    history = train_decoder(encoder, whole, images, _settings(3), 0, "cpu", tmp_path / "a.ckpt")
    torch.manual_seed(1)
    interrupted = _decoder(encoder)
    with pytest.raises(_Interrupted):
        train_decoder(encoder, interrupted, images, _settings(3), 0, "cpu", tmp_path / "b.ckpt",
                      on_epoch=lambda record: _stop_after(record, 2))
    torch.manual_seed(2)  # a different initialisation: resuming must replace it
    resumed = _decoder(encoder)
    resumed_history = train_decoder(encoder, resumed, images, _settings(3), 0, "cpu",
                                    tmp_path / "b.ckpt")
    assert [r["train_loss"] for r in resumed_history] == [r["train_loss"] for r in history]
    for name, value in whole.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name


class _Interrupted(Exception):
    pass


def _stop_after(record, epoch):
    if record["epoch"] == epoch:
        raise _Interrupted


def test_pv_formula_on_hand_made_mask_and_reconstruction():
    y = torch.rand(1, 3, 4, 4)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2, :] = 1.0
    mask[..., 2, :] = 0.5
    pv = perception_visualisation(mask, y)
    assert torch.equal(pv[..., :2, :], y[..., :2, :])
    assert torch.equal(pv[..., 3, :], torch.ones(1, 3, 4))
    assert torch.allclose(pv[..., 2, :], 0.5 * y[..., 2, :] + 0.5)


def test_saliency_is_normalised_to_a_maximum_of_one():
    maps = torch.tensor([[[[0.0, 2.0], [1.0, 4.0]]], [[[0.0, 0.0], [0.0, 0.0]]]])
    normalised = normalised_saliency(maps)
    assert torch.equal(normalised[0], maps[0] / 4)
    assert torch.equal(normalised[1], maps[1])


def test_explain_top_class_masks_the_reconstruction(classifier):
    encoder = Encoder(classifier)
    decoder = _decoder(encoder).eval()
    x = torch.rand(2, 3, SIZE, SIZE)
    explanation = explain_top_class(classifier, encoder, decoder, x)
    assert torch.equal(explanation.target, classifier(x).argmax(1))
    assert torch.allclose(explanation.reconstruction, decoder(encoder(x)))
    assert explanation.saliency.amax((1, 2, 3)).max() <= 1
    assert torch.allclose(explanation.pv, perception_visualisation(explanation.saliency,
                                                                   explanation.reconstruction))


def test_table1_reproduces_the_papers_accuracies_to_the_printed_precision():
    table = study.accuracy_table(study.read_scores(SCORES))
    for row in table.itertuples():
        assert round(row.accuracy, 3) == pytest.approx(row.paper_accuracy, abs=1e-9), row
        assert round(row.standard_error, 3) == pytest.approx(row.paper_standard_error,
                                                             abs=1e-9), row
    assert dict(table.groupby("arm")["participants"].first()) == {"gradcam": 58, "pv": 40}


def test_standard_error_is_the_sample_std_over_root_n():
    """Accuracies 0, 1, 1, 0: sample std sqrt(1/3), so SE 0.2887 (the population std gives
    0.25); the vendored data cannot tell the two apart at the printed precision."""
    scores = pd.DataFrame({"participant": list("abcd"), "arm": "pv",
                           "correct_when_model_wrong": [0, 1, 1, 0], "n_questions_model_wrong": 1,
                           "correct_when_model_right": 0, "n_questions_model_right": 0})
    row = study.accuracy_table(scores).set_index(["arm", "case"]).loc[("pv", "model_wrong")]
    assert row["accuracy"] == 0.5
    assert row["standard_error"] == pytest.approx(np.sqrt(1 / 3) / 2, rel=1e-12)
    assert row["accuracy_minus_paper"] == pytest.approx(0.5 - 0.350, rel=1e-12)


def test_the_tables_state_our_difference_from_the_paper():
    scores = study.read_scores(SCORES)
    tests = study.test_table(scores).set_index("case")
    assert tests["z_minus_paper"].round(2).to_dict() == {"model_wrong": 0.17,
                                                         "model_right": -0.11}
    table = study.accuracy_table(scores)
    assert (table["accuracy_minus_paper"].abs() < 5e-4).all()


def test_mann_whitney_agrees_with_scipy_on_the_study():
    scores = study.read_scores(SCORES)
    for case, alternative in study.ALTERNATIVES.items():
        a, b = study.accuracy(scores, "gradcam", case), study.accuracy(scores, "pv", case)
        ours = study.mann_whitney(a, b, alternative)
        theirs = stats.mannwhitneyu(a, b, alternative=alternative, method="asymptotic",
                                    use_continuity=False)
        assert ours.u == theirs.statistic
        assert ours.p_normal == pytest.approx(theirs.pvalue, rel=1e-9)


def test_exact_p_equals_scipys_without_ties():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=7), rng.normal(0.8, size=9)
    for alternative in ("less", "greater", "two-sided"):
        ours = study.mann_whitney(a, b, alternative).p_exact
        theirs = stats.mannwhitneyu(a, b, alternative=alternative, method="exact").pvalue
        assert ours == pytest.approx(theirs, rel=1e-9)


def test_exact_p_with_ties_equals_brute_force_enumeration():
    a, b = np.array([1, 2, 2, 3]), np.array([2, 3, 3, 4, 4])
    pooled = np.concatenate([a, b])
    observed = stats.mannwhitneyu(a, b).statistic
    counts = [stats.mannwhitneyu(pooled[list(group)], np.delete(pooled, list(group))).statistic
              for group in itertools.combinations(range(len(pooled)), len(a))]
    brute = np.mean(np.array(counts) <= observed + 1e-9)
    assert study.mann_whitney(a, b, "less").p_exact == pytest.approx(brute, rel=1e-12)


def test_read_scores_names_the_bad_column_and_participant(tmp_path):
    frame = pd.read_csv(SCORES)
    frame.drop(columns="arm").to_csv(tmp_path / "a.csv", index=False)
    with pytest.raises(study.StudyDataError, match="missing columns \\['arm'\\]"):
        study.read_scores(tmp_path / "a.csv")
    frame.loc[0, "correct_when_model_wrong"] = 15
    frame.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(study.StudyDataError, match="gradcam-01"):
        study.read_scores(tmp_path / "b.csv")


def test_a_folder_of_participant_files_reads_as_one_table(tmp_path):
    frame = pd.read_csv(SCORES)
    for row in range(3):  # one file per participant, each with its header, as pages save them
        frame.iloc[[row]].to_csv(tmp_path / f"{frame.participant[row]}.csv", index=False)
    pd.testing.assert_frame_equal(study.read_scores(tmp_path), frame.iloc[:3])
    pd.testing.assert_frame_equal(study.read_scores(study.scores_files(tmp_path)), frame.iloc[:3])
    frame.iloc[[0]].to_csv(tmp_path / "again.csv", index=False)
    with pytest.raises(study.StudyDataError, match="gradcam-01.*more than once"):
        study.read_scores(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(study.StudyDataError, match="no scores files"):
        study.read_scores(tmp_path / "empty")


CLASSES = ("disc", "square", "triangle", "ring", "cross", "star")


def _predictions():
    """Image 0: right; 1: wrong (top class false, no true label predicted); 2: partly right;
    3: no prediction at all (every probability below 0.5), so neither right nor wrong."""
    probabilities = torch.tensor([[0.9, 0.8, 0.1, 0.1, 0.1, 0.1],
                                  [0.1, 0.2, 0.9, 0.1, 0.1, 0.1],
                                  [0.9, 0.1, 0.1, 0.1, 0.1, 0.1],
                                  [0.1, 0.1, 0.4, 0.1, 0.1, 0.1]])
    labels = torch.tensor([[1, 1, 0, 0, 0, 0], [1, 1, 0, 1, 1, 1], [1, 1, 0, 0, 0, 0],
                           [1, 0, 0, 0, 0, 0]])
    return probabilities, labels


def test_question_pools_follow_the_papers_rules():
    pools = question_pools(*_predictions())
    assert pools["model_right"].tolist() == [0]
    assert pools["model_wrong"].tolist() == [1]


def test_questions_offer_the_prediction_true_labels_fillers_and_cant_tell():
    questions = select_questions(*_predictions(), CLASSES, {"model_right": 5, "model_wrong": 5},
                                 seed=0)
    wrong, right = questions  # model-wrong questions first (study.CASES)
    assert (right.case, right.prediction, wrong.case, wrong.prediction) == (
        "model_right", "disc", "model_wrong", "triangle")
    for question in questions:
        assert len(question.options) == len(set(question.options)) == 5
        assert question.options[0] == question.prediction and question.options[-1] == CANT_TELL
    assert set(right.options[1:4]) >= {"square"}  # the other true label, then fillers
    assert set(wrong.options[1:4]) <= {"disc", "square", "ring", "cross", "star"}


def test_simulated_respondents_recover_the_planted_accuracies():
    questions = select_questions(*_predictions(), CLASSES, {"model_right": 1, "model_wrong": 1},
                                 seed=0)
    planted = {"gradcam": {"model_wrong": 0.1, "model_right": 0.9},
               "pv": {"model_wrong": 0.4, "model_right": 0.7}}
    scores = simulate_scores(questions, {"gradcam": 4000, "pv": 4000}, planted, seed=0)
    assert scores["participant"].str.startswith("simulated-").all()
    table = study.accuracy_table(scores)
    for row in table.itertuples():
        assert abs(row.accuracy - planted[row.arm][row.case]) < 4 * row.standard_error


def test_a_case_without_questions_has_no_accuracy_and_no_test():
    scores = pd.read_csv(SCORES)
    scores["correct_when_model_right"] = scores["n_questions_model_right"] = 0
    table = study.accuracy_table(scores).set_index(["arm", "case"])
    assert np.isnan(table.loc[("pv", "model_right"), "accuracy"])
    assert table.loc[("pv", "model_right"), "participants"] == 0
    assert study.test_table(scores)["case"].tolist() == ["model_wrong"]


def test_vendored_scores_are_the_published_file():
    readme = (SCORES.parent / "README.md").read_text()
    assert sha256_file(SCORES) in readme


def test_resnet50_starts_from_a_torchvision_state_dict_and_keeps_its_own_head(tmp_path):
    from torchvision.models import resnet50

    from common.explain.cam import feature_layer
    from common.models import start_from_backbone

    torch.manual_seed(0)
    reference = resnet50(weights=None)
    torch.save(reference.state_dict(), tmp_path / "resnet50.pth")
    model = build_classifier("resnet50", num_classes=20, image_size=64)
    head = model.fc.weight.clone()
    start_from_backbone(model, tmp_path / "resnet50.pth", "resnet50")
    assert torch.equal(model.stem[0].weight, reference.conv1.weight)
    assert torch.equal(model.layer4[2].bn3.running_var, reference.layer4[2].bn3.running_var)
    assert torch.equal(model.fc.weight, head)
    model.eval()
    x = torch.rand(1, 3, 64, 64)
    assert Encoder(model)(x).shape == (1, 2048, 2, 2)
    assert feature_layer(model) is model.layer4
    torch.save({"fc.weight": head}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="not a torchvision ResNet-50"):
        model.load_backbone(tmp_path / "other.pth")
    with pytest.raises(ValueError, match="no pretrained backbone"):
        start_from_backbone(build_classifier("resnet18", num_classes=2, image_size=8),
                            tmp_path / "resnet50.pth", "resnet18")


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_encoder_architectures_are_those_with_a_features_stage(arch):
    model = build_classifier(arch, num_classes=2, image_size=32)
    assert hasattr(model, "features") == (arch in ENCODER_ARCHITECTURES)


def _pv_config(scale: str) -> dict:
    """config.yaml, or at ``paper`` scale with paper.yaml's classifier data and PV section laid
    over it (the keys Fig. 7's data depends on)."""
    from common.config import layered

    return layered(*(["config/paper.yaml"] if scale == "paper" else []))


def test_fig7_names_the_images_each_decoder_saw_and_whether_they_are_the_papers():
    """The embedded decoder B trains on generated cars, the paper scale's on the user's
    ImageNet subset: the tables say which."""
    from papers.pv.plan import invariance_data

    not_imagenet = "cars: GENERATED images (NOT the paper's data: ImageNet, 8000 images)"
    embedded, paper = invariance_data(_pv_config("embedded")), invariance_data(_pv_config("paper"))
    assert embedded["A"]["data"] == ("scenes: GENERATED images (NOT the paper's data: "
                                     "PASCAL VOC 2012)")
    assert embedded["B"] == {"dataset": "cars", "data": not_imagenet}
    assert paper["A"]["data"] == ("scenes: real images from resources/sources/voc2012/VOCdevkit "
                                  "(the paper's data: PASCAL VOC 2012)")
    assert paper["B"]["data"] == ("imagenet: real images from resources/imagenet "
                                  "(the paper's data: ImageNet, 8000 images)")
    config = _pv_config("paper")
    config["pv"]["invariance"]["dataset"] = "cars"
    assert invariance_data(config)["B"]["data"] == not_imagenet
    config["pv"]["invariance"]["dataset"] = "faces"
    assert invariance_data(config)["B"]["data"].startswith("faces: shipped real images (NOT")


def test_the_invariance_claim_says_which_images_decoder_b_saw():
    from papers.pv.claims import invariance_claim

    data = {"decoder_a_data": "scenes: GENERATED images (NOT the paper's data: PASCAL VOC 2012)",
            "decoder_b_data": "cars: GENERATED images (NOT the paper's data: ImageNet, 8000 "
                              "images)"}
    invariance = pd.DataFrame([
        {**data, "pair": pair, "ssim": 0.5, "mse": 0.01, "pcc_centred": pcc, "images": 8,
         "p_matched": p}
        for pair, pcc, p in (("A vs B", 0.6, 0.001), ("A vs B, other image", 0.1, None),
                             ("A vs input", 0.4, None), ("B vs input", 0.3, None))])
    row = invariance_claim(invariance, alpha=0.05)
    assert row["holds"]
    assert row["evidence"].startswith(f"decoder B trained on {data['decoder_b_data']}, "
                                      f"decoder A on {data['decoder_a_data']}: ")
