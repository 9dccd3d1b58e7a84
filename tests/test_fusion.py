"""The fused movement combiner: fitted, cross-validated, saved with the model and loaded back."""

from __future__ import annotations

import numpy as np
import pytest

from shotscope import load_model
from shotscope.sources.fusion import MovementFusion
from shotscope.sources.geometry import estimate_movement
from tests.test_motion import SETTINGS, _clip, _times


def test_fusion_combiner_fits_saves_and_loads_with_the_model(tiny_model, tmp_path):
    ests, labels = [], []
    for i, movement in enumerate(["Static", "Motion", "Pull", "Push"] * 3):
        ests.append(estimate_movement(_clip(movement, i), _times(SETTINGS.frames)))
        labels.append(["Static", "Motion", "Pull", "Push"].index(movement))
    net = np.full((len(labels), 4), 0.25)  # an uninformative network: geometry must carry it
    fusion = MovementFusion.fit(net, ests, np.array(labels))
    fused = np.array([fusion.combine(p, e).argmax() for p, e in zip(net, ests, strict=True)])
    assert (fused == np.array(labels)).mean() >= 0.9
    tiny_model.movement_fusion = fusion
    tiny_model.save_pretrained(tmp_path)
    assert (tmp_path / "movement_fusion.json").is_file()
    loaded = load_model(tmp_path)
    assert loaded.movement_fusion is not None
    np.testing.assert_allclose(loaded.movement_fusion.combine(net[0], ests[0]), fusion.combine(net[0], ests[0]))


def test_combiner_from_other_features_is_refused(tiny_model, tmp_path):
    import json

    from shotscope import ModelLoadError

    tiny_model.save_pretrained(tmp_path)
    (tmp_path / "movement_fusion.json").write_text(json.dumps(
        {"coef": np.zeros((4, 9)).tolist(), "intercept": [0] * 4, "mean": [0] * 9, "scale": [1] * 9}))
    with pytest.raises(ModelLoadError, match="fit-fusion"):
        load_model(tmp_path)


def test_fit_fusion_decodes_once_and_scores(tiny_model, tmp_path):
    from dataclasses import replace

    from shotscope import DataError
    from shotscope.data import read_manifest
    from shotscope.data.synthetic import generate
    from shotscope.training.fusion import fit_fusion

    tiny_model.config.num_frames = 4
    records, _ = read_manifest(generate(tmp_path / "s", 16, settings=replace(SETTINGS, frames=8), progress=False))
    fusion, scores = fit_fusion(tiny_model, records, progress=False)
    # fused is cross-validated: each clip scored by a combiner that never saw it
    assert scores["clips"] == 16 and scores["geometry"] >= 0.75 and scores["fused"] >= 0.75 and scores["folds"] == 5
    assert fusion.coef.shape == (4, 15)
    one_class = [r for r in records if r.movement_label == "Push"]
    with pytest.raises(DataError, match="^fitting the movement combiner needs labelled clips of at least two movement classes$"):
        fit_fusion(tiny_model, one_class, progress=False)


def test_fit_fusion_report_equals_an_independent_cross_validation(tiny_model, tmp_path):
    """The figures fit-fusion prints, recomputed by hand from the same predictions: the model's and
    the geometry's accuracy, and the fused one from stratified folds (seed 0), each clip scored by
    a combiner fitted without it; the combiner returned is the one fitted on every clip."""
    from dataclasses import replace

    from sklearn.model_selection import StratifiedKFold

    from shotscope.data import read_manifest
    from shotscope.data.synthetic import generate
    from shotscope.labels import MOVEMENT_LABELS
    from shotscope.training.evaluation import predict_records
    from shotscope.training.fusion import fit_fusion

    tiny_model.config.num_frames = 4
    records, _ = read_manifest(generate(tmp_path / "s", 28, settings=replace(SETTINGS, frames=8), progress=False))
    records = [r for r in records if r.movement >= 0]
    fusion, report = fit_fusion(tiny_model, records, progress=False)
    preds = predict_records(tiny_model, records, progress=False, movement="model", geometry=True)
    labels = np.array([r.movement for r in preds.records])
    net, ests = preds.network_movement_probs, preds.estimates
    k = min(5, int(np.bincount(labels).max()))
    assert np.bincount(labels).max() >= 6 and report["folds"] == k == 5 and report["clips"] == len(records)
    assert report["model"] == pytest.approx(float((net.argmax(-1) == labels).mean()))
    geo = np.array([MOVEMENT_LABELS.index(e.label) for e in ests])
    assert report["geometry"] == pytest.approx(float((geo == labels).mean()))
    held = np.full(len(labels), -1)
    for train_idx, test_idx in StratifiedKFold(k, shuffle=True, random_state=0).split(net, labels):
        part = MovementFusion.fit(net[train_idx], [ests[i] for i in train_idx], labels[train_idx])
        for i in test_idx:
            held[i] = int(part.combine(net[i], ests[i]).argmax())
    assert report["fused"] == pytest.approx(float((held == labels).mean()))
    whole = MovementFusion.fit(net, ests, labels, num_classes=4)
    np.testing.assert_allclose(fusion.coef, whole.coef)
    np.testing.assert_allclose(fusion.intercept, whole.intercept)
    two = [r for r in records if r.movement_label in ("Static", "Push")][:4]  # two classes, two clips each
    _, small = fit_fusion(tiny_model, two, progress=False)
    assert small["folds"] == 2 and small["clips"] == 4 and small["fused"] is not None
    # one clip of a class: the fold holding it leaves one class to fit on and is skipped; the rest are scored
    common = max(MOVEMENT_LABELS, key=lambda m: sum(r.movement_label == m for r in records))
    other = next(r for r in records if r.movement_label != common)
    _, lone = fit_fusion(tiny_model, [r for r in records if r.movement_label == common][:4] + [other], progress=False)
    assert lone["folds"] == 4 and lone["fused"] is not None
    single = [next(r for r in records if r.movement_label == k) for k in ("Static", "Push")]
    _, tiny = fit_fusion(tiny_model, single, progress=False)  # one clip a class: nothing to hold out
    assert tiny["folds"] == 0 and tiny["fused"] is None and tiny["clips"] == 2


def _estimates(n: int, seed: int = 0):
    from shotscope.labels import MOVEMENT_LABELS
    from shotscope.sources.geometry import MotionEstimate

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        p = rng.dirichlet(np.ones(4))
        out.append(MotionEstimate(MOVEMENT_LABELS[int(p.argmax())], float(p.max()), dict(zip(MOVEMENT_LABELS, p.tolist(),
                                  strict=True)), *rng.normal(size=4).tolist(), int(rng.integers(5, 50)),
                                  float(rng.random()), float(rng.random())))
    return out


def test_the_combiner_is_a_balanced_logistic_regression_on_standardised_features():
    """fit = scikit-learn's LogisticRegression (C=1, balanced classes) on features standardised by
    their mean and deviation; combine = its softmax; classes absent from the fit are never chosen."""
    from sklearn.linear_model import LogisticRegression

    from shotscope.sources.fusion import _features

    rng = np.random.default_rng(1)
    ests = _estimates(40)
    net = rng.dirichlet(np.ones(4), size=40)
    labels = np.array([0] * 25 + [1] * 9 + [3] * 6)
    fusion = MovementFusion.fit(net, ests, labels)
    x = np.stack([_features(p, e) for p, e in zip(net, ests, strict=True)])
    np.testing.assert_allclose(fusion.mean, x.mean(0))
    np.testing.assert_allclose(fusion.scale, x.std(0) + 1e-6)
    ref = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit((x - x.mean(0)) / (x.std(0) + 1e-6),
                                                                             labels)
    np.testing.assert_allclose(fusion.coef[[0, 1, 3]], ref.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fusion.intercept[[0, 1, 3]], ref.intercept_, rtol=1e-5, atol=1e-6)
    assert fusion.intercept[2] == -1e3 and not fusion.coef[2].any()  # Pull never seen: never chosen
    for p, e, xi in zip(net, ests, x, strict=True):
        probs = fusion.combine(p, e)
        expected = ref.predict_proba(((xi - x.mean(0)) / (x.std(0) + 1e-6))[None])[0]
        np.testing.assert_allclose(probs[[0, 1, 3]], expected, atol=1e-6)
        assert probs.sum() == pytest.approx(1.0) and probs[2] < 1e-100
    # two classes: scikit-learn keeps one row; both classes get theirs
    two = MovementFusion.fit(net[:34], ests[:34], labels[:34])
    ref2 = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(
        (x[:34] - x[:34].mean(0)) / (x[:34].std(0) + 1e-6), labels[:34])
    for p, e, xi in zip(net[:34], ests[:34], x[:34], strict=True):
        got = two.combine(p, e)
        want = ref2.predict_proba(((xi - x[:34].mean(0)) / (x[:34].std(0) + 1e-6))[None])[0]
        np.testing.assert_allclose(got[[0, 1]], want, atol=1e-6)
        assert got[2] < 1e-100 and got[3] < 1e-100


def test_combine_is_a_softmax_that_never_overflows():
    ests = _estimates(1)
    coef = np.random.default_rng(2).normal(size=(4, 15))
    mean, scale, intercept = np.full(15, 0.3), np.full(15, 2.0), np.array([900.0, 0.0, -5.0, 899.0])
    fusion = MovementFusion(coef, intercept, mean, scale)
    from shotscope.sources.fusion import _features

    net = np.array([0.7, 0.1, 0.1, 0.1])
    z = coef @ ((_features(net, ests[0]) - mean) / scale) + intercept
    expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    got = fusion.combine(net, ests[0])
    assert np.isfinite(got).all() and got.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    features = _features(np.array([0.0, 1.0, 0.0, 0.0]), ests[0])  # a zero probability: log clipped, finite
    assert np.isfinite(features).all() and features[0] == pytest.approx(np.log(1e-6)) and features[1] == 0.0


def test_a_saved_combiner_loads_back_and_a_bad_one_is_refused_with_its_reason(tmp_path):
    import json

    from shotscope import ModelLoadError
    from shotscope.sources.fusion import FEATURES, FUSION_FILE

    rng = np.random.default_rng(3)
    fusion = MovementFusion(rng.normal(size=(4, 15)), rng.normal(size=4), rng.normal(size=15), rng.random(15) + 0.5)
    fusion.save(tmp_path)
    path = tmp_path / FUSION_FILE
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # saved by an editor that adds a BOM
    back = MovementFusion.load(tmp_path)
    for k in ("coef", "intercept", "mean", "scale"):
        np.testing.assert_array_equal(getattr(back, k), getattr(fusion, k))
        assert getattr(back, k).dtype == np.float64
    data = fusion.to_dict()
    for change, reason in (({"coef": [[float("nan")] * 15] * 4}, "values must be finite numbers"),
                           ({"intercept": [0.0] * 3}, "fitted on other features"),
                           ({"features": FEATURES[:-1]}, "fitted on other features")):
        path.write_text(json.dumps({**data, **change}))
        with pytest.raises(ModelLoadError) as err:
            MovementFusion.load(tmp_path)
        assert str(err.value).startswith(str(path)) and reason in str(err.value)
        if reason.startswith("values"):
            assert str(err.value) == f"{path}: not a valid movement combiner (values must be finite numbers)"
        else:
            assert str(err.value).endswith("fit it again with `shotscope fit-fusion`")


def test_the_combiner_reads_the_geometry_as_before_its_temperature(monkeypatch):
    """Combiners fitted before the geometry's probabilities were tempered keep their inputs: the
    combiner undoes the temperature."""
    from shotscope.sources import fusion, geometry

    frames = _clip("Push", 3)
    tempered = estimate_movement(frames, _times(len(frames)))
    monkeypatch.setattr(geometry, "TEMPERATURE", 1.0)  # the probabilities as they were before it
    untempered = estimate_movement(frames, _times(len(frames)))
    assert geometry.TEMPERATURE != fusion.TEMPERATURE and tempered.confidence < untempered.confidence
    network = np.full(4, 0.25)
    np.testing.assert_allclose(fusion._features(network, tempered), fusion._features(network, untempered), atol=2e-3)
