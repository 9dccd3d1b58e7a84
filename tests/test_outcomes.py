"""Tests that pin outcomes users depend on, not traces: what a resumed training continues from,
what labels the files say, how views and crops combine, what the combiner changes, statistics by
hand, the order files are written in, label maps in a checkpoint's own order."""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import shotscope
from shotscope.analysis.film import FilmAnalysis, Shot
from shotscope.analysis.statistics import film_statistics
from shotscope.data.records import ClipRecord
from shotscope.data.synthetic import SynthSettings, generate, make_film, split_manifest
from shotscope.labels import MOVEMENT_LABELS
from shotscope.model.inference import predict_probs
from shotscope.outputs.writers import write_outputs
from shotscope.runs.batch import analyze_many
from shotscope.sources.fusion import MovementFusion
from shotscope.training.evaluation import predict_records, spatial_crops
from shotscope.training.trainer import TINY_CONFIG, train
from shotscope.video.sampling import sample_times

SHOTS = [("LS", "Static", 30), ("CS", "Push", 28), ("MS", "Motion", 36), ("ECS", "Pull", 30), ("FS", "Static", 26)]


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    path = tmp_path_factory.mktemp("film") / "film.mp4"
    make_film(path, SHOTS, fps=24)
    return path


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    manifest = generate(out, 24, settings=SynthSettings(width=64, height=48, frames=8), progress=False)
    return split_manifest(manifest, 0.25)


def _train(out: Path, synth, *extra: str) -> None:
    train(TINY_CONFIG, [f"output_dir={out}", f"data.train={synth[0]}", f"data.val={synth[1]}", "train.epochs=3",
                        "train.progress=false", "train.logging_steps=1", "train.save_total_limit=10",
                        # paths no test exercised before: layer-wise decay, the balanced sampler, crops
                        "train.layer_decay=0.75", "train.balance_movement=sampler",
                        "train.augment.random_resized_crop=true", *extra])


def _steps(out: Path) -> list[int]:
    rows = list(csv.DictReader((out / "log.csv").read_text().splitlines()))
    return sorted({int(r["step"]) for r in rows if r["key"] == "loss"})


def test_training_shows_a_step_bar_only_where_the_config_and_the_caller_agree(synth, tmp_path, capsys):
    for shown, (setting, caller) in enumerate([("true", True), ("false", True), ("true", False)]):
        train(TINY_CONFIG, [f"output_dir={tmp_path / str(shown)}", f"data.train={synth[0]}", f"data.val={synth[1]}",
                            "train.max_steps=2", f"train.progress={setting}"], progress=caller)
        err = capsys.readouterr().err
        bar = re.search(r"train: +\d+%.*\| 2/2 \[.*(step/s|s/step)\]", err)
        assert (bar is not None) == (shown == 0), (setting, caller, err[-500:])


def test_resumed_training_ends_with_the_weights_of_an_uninterrupted_one(synth, tmp_path, monkeypatch, caplog):
    """Kill after the first epoch's checkpoint, run again: the run continues from that checkpoint's
    weights, optimizer, scheduler and step (only the remaining steps run) and ends exactly where an
    uninterrupted run ends. A run that restarted from zero would run every step again."""
    from shotscope.training.trainer import BalancedSampler

    draws: list[tuple[int, list[int]]] = []  # what the class-balanced sampler gave, epoch by epoch
    iterate = BalancedSampler.__iter__
    monkeypatch.setattr(BalancedSampler, "__iter__", lambda self: iter(draws.append((self.epoch, list(
        iterate(self)))) or draws[-1][1]))
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    _train(whole, synth)
    assert [epoch for epoch, _ in draws] == [0, 1, 2]  # train.balance_movement=sampler drew every epoch
    assert any(len(set(clips)) < len(clips) for _, clips in draws)  # with replacement, by weight
    whole_draws, draws[:] = dict(draws), []
    checkpoints = sorted(int(p.name.split("-")[1]) for p in whole.glob("checkpoint-*"))
    assert len(checkpoints) == 3, checkpoints
    first, last = checkpoints[0], checkpoints[-1]
    # train.layer_decay=0.75: the embeddings, each of the tiny model's two layers and the heads learn at
    # their own rate (with and without weight decay), as the optimizer in a checkpoint keeps them
    groups = torch.load(whole / f"checkpoint-{first}" / "optimizer.pt", weights_only=True)["param_groups"]
    np.testing.assert_allclose(sorted((g["initial_lr"], g["weight_decay"]) for g in groups),
                               sorted((1e-3 * 0.75 ** k, decay) for k in range(4) for decay in (0.0, 0.05)))
    shutil.copytree(whole, cut)  # the same run killed after its first checkpoint:
    for step in checkpoints[1:]:
        shutil.rmtree(cut / f"checkpoint-{step}")
    shutil.rmtree(cut / "model")
    (cut / "log.csv").unlink()
    with caplog.at_level(logging.INFO, logger="shotscope.training.trainer"):
        _train(cut, synth)
    assert f"resuming from {cut / f'checkpoint-{first}'}" in [r.getMessage() for r in caplog.records]
    assert _steps(cut) == list(range(first + 1, last + 1))  # only the steps after the checkpoint
    assert dict(draws) == {epoch: whole_draws[epoch] for epoch in (1, 2)}  # drawing what the whole run drew
    # the model a run ends with keeps the preprocessing it was trained with
    assert shotscope.load_model(cut / "model").preprocess_config == shotscope.load_model(
        whole / "model").preprocess_config == shotscope.PreprocessConfig(image_size=64, resize_mode="squash")
    assert (cut / "model" / "preprocessor_config.json").is_file()
    a = load_file(whole / f"checkpoint-{last}" / "model.safetensors")
    b = load_file(cut / f"checkpoint-{last}" / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6, msg=key)
    # and the weights moved away from the checkpoint it resumed from (training happened)
    start = load_file(whole / f"checkpoint-{first}" / "model.safetensors")
    assert any(not torch.equal(start[k], a[k]) for k in a)


def test_layer_decay_gives_each_layer_its_learning_rate(tiny_config, tmp_path):
    from transformers import TrainingArguments

    from shotscope import ShotScopeModel
    from shotscope.training.trainer import ShotScopeTrainer

    model = ShotScopeModel(tiny_config)
    args = TrainingArguments(output_dir=str(tmp_path), learning_rate=1e-3, weight_decay=0.05, use_cpu=True,
                             report_to=[])
    optimizer = ShotScopeTrainer(model=model, args=args, layer_decay=0.5).create_optimizer()
    lr_of = {id(p): (g["lr"], g["weight_decay"]) for g in optimizer.param_groups for p in g["params"]}
    depth = tiny_config.num_hidden_layers + 1
    for name, param in model.named_parameters():
        layer = (0 if name.startswith("vmae.embeddings") else int(name.split(".")[3]) + 1
                 if name.startswith("vmae.encoder.layer.") else depth)
        lr, decay = lr_of[id(param)]
        assert lr == pytest.approx(1e-3 * 0.5 ** (depth - layer)), name
        assert decay == (0.0 if param.ndim == 1 or name.endswith(".bias") else 0.05), name
    assert len(lr_of) == sum(1 for _ in model.parameters())  # every parameter trained
    assert all(g["betas"] == (0.9, 0.999) for g in optimizer.param_groups)
    # a frozen parameter is left out, every one after it still trains; the Trainer's betas are used
    model.vmae.embeddings.patch_embeddings.projection.bias.requires_grad_(False)
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[], adam_beta1=0.8, adam_beta2=0.98)
    optimizer = ShotScopeTrainer(model=model, args=args, layer_decay=0.5).create_optimizer()
    trained = {id(p) for g in optimizer.param_groups for p in g["params"]}
    assert trained == {id(p) for p in model.parameters() if p.requires_grad}
    assert len(trained) == sum(1 for _ in model.parameters()) - 1
    assert all(g["betas"] == (0.8, 0.98) for g in optimizer.param_groups)


def test_balanced_sampler_draws_rare_classes_as_often_and_by_epoch():
    from shotscope.training.trainer import BalancedSampler, inverse_frequency

    ids = np.array([0] * 90 + [1] * 10)
    w = np.array(inverse_frequency(np.bincount(ids, minlength=4)) + [1.0])[ids]
    sampler = BalancedSampler(np.tile(w, 200), seed=0)
    drawn = np.bincount(np.tile(ids, 200)[list(sampler)], minlength=2)
    assert drawn[1] / drawn.sum() == pytest.approx(0.5, abs=0.02)
    first = list(sampler)
    assert list(sampler) == first  # an epoch's draws depend on (seed, epoch) only
    sampler.set_epoch(1)
    assert list(sampler) != first


def test_labels_in_every_output_are_the_argmax_of_their_probabilities(film, tiny_model, tmp_path):
    result = shotscope.analyze(film, tiny_model, progress=False)
    files = write_outputs(result, tmp_path / "out")
    data = json.loads(files["json"].read_text())
    rows = list(csv.DictReader(files["csv"].read_text().splitlines()))
    assert len(data["shots"]) == len(rows) == len(SHOTS)
    for shot, row in zip(data["shots"], rows, strict=True):
        for task in ("scale", "movement"):
            probs = shot[f"{task}_probs"]
            best = max(probs, key=probs.get)
            assert shot[task] == best == row[task]
            assert shot[f"{task}_prob"] == pytest.approx(probs[best], abs=1e-4)


def test_views_are_averaged_not_summed(tiny_model):
    rng = np.random.default_rng(0)
    clip = rng.integers(0, 255, (3, tiny_model.num_frames, 40, 56, 3), dtype=np.uint8)
    for batch in (1, 2, 8):  # views split over batches or not
        ps, pm = predict_probs(tiny_model, [clip], batch_size=batch)
        singles = [predict_probs(tiny_model, [clip[v : v + 1]]) for v in range(3)]
        np.testing.assert_allclose(ps[0], np.mean([s[0][0] for s in singles], 0), atol=1e-6)
        np.testing.assert_allclose(pm[0], np.mean([s[1][0] for s in singles], 0), atol=1e-6)
        assert ps.sum() == pytest.approx(1.0, abs=1e-5)


def test_three_crops_are_three_different_squares_and_their_mean(film, tiny_model):
    frames = np.arange(2 * 4 * 6 * 3, dtype=np.uint8).reshape(1, 2, 4, 6, 3)
    left, centre, right = spatial_crops(frames, 3)
    assert left.shape == centre.shape == right.shape == (1, 2, 4, 4, 3)
    np.testing.assert_array_equal(left, frames[..., :, 0:4, :])
    np.testing.assert_array_equal(centre, frames[..., :, 1:5, :])
    np.testing.assert_array_equal(right, frames[..., :, 2:6, :])
    tall = spatial_crops(frames.transpose(0, 1, 3, 2, 4), 3)
    assert [c.shape for c in tall] == [(1, 2, 4, 4, 3)] * 3 and not np.array_equal(tall[0], tall[2])
    record = ClipRecord(str(film), start=0.0, end=1.2)
    three = predict_records(tiny_model, [record], crops=3, progress=False)
    one = predict_records(tiny_model, [record], crops=1, progress=False)
    from shotscope.sources.selection import model_input_side
    from shotscope.video.sampling import sample_frames

    clip = sample_frames(str(film), tiny_model.num_frames, 0.0, 1.2, short_side=model_input_side(tiny_model)).frames
    per_crop = [predict_probs(tiny_model, [c])[0][0] for c in spatial_crops(clip, 3)]
    np.testing.assert_allclose(three.scale_probs[0], np.mean(per_crop, 0), atol=1e-5)
    assert not np.allclose(three.scale_probs, one.scale_probs)


def _combiner(feature_block: int, strength: float = 50.0) -> MovementFusion:
    """A combiner that follows one source: block 0 the network's log-probabilities, 1 the geometry's."""
    coef = np.zeros((4, 15))
    for k in range(4):
        coef[k, 4 * feature_block + k] = strength
    return MovementFusion(coef, np.zeros(4), np.zeros(15), np.ones(15))


def test_fused_movement_follows_what_the_combiner_says(film, tiny_model):
    settings = shotscope.AnalyzeSettings(movement="model")
    network = [s.movement for s in shotscope.analyze(film, tiny_model, settings=settings, progress=False).shots]
    geometry = [s.movement for s in shotscope.analyze(film, None, settings=shotscope.AnalyzeSettings(
        movement="geometry"), progress=False).shots]
    assert network != geometry  # else the test could not tell the sources apart
    tiny_model.movement_fusion = _combiner(1)
    try:
        fused = shotscope.analyze(film, tiny_model, settings=shotscope.AnalyzeSettings(movement="fused"),
                                  progress=False).shots
        assert [s.movement for s in fused] == geometry and {s.movement_source for s in fused} == {"fused"}
        tiny_model.movement_fusion = _combiner(0)
        fused = shotscope.analyze(film, tiny_model, settings=shotscope.AnalyzeSettings(movement="fused"),
                                  progress=False).shots
        assert [s.movement for s in fused] == network
    finally:
        tiny_model.movement_fusion = None


def test_statistics_against_values_computed_by_hand():
    shots = [Shot(0, 0, 48, 0.0, 2.0, scale="CS", movement="Static"),
             Shot(1, 48, 60, 2.0, 2.5, scale="CS", movement="Push", short=True),
             Shot(2, 60, 156, 2.5, 6.5, scale="LS", movement="Static"),
             Shot(3, 156, 204, 6.5, 8.5, scale=None, movement="Motion")]
    film = FilmAnalysis("f.mp4", 24.0, 204, 8.5, 320, 180, shots, {})
    stats = film_statistics(film)
    assert stats["shots"] == 4 and stats["short_shots"] == 1
    assert stats["average_shot_length"] == pytest.approx((2 + 0.5 + 4 + 2) / 4)
    assert stats["median_shot_length"] == pytest.approx(2.0)
    assert (stats["shortest_shot"], stats["longest_shot"]) == (0.5, 4.0)
    cs = stats["scale"]["CS"]
    assert cs["shots"] == 2 and cs["share_of_shots"] == pytest.approx(2 / 3, abs=1e-4)  # of the 3 labelled
    assert cs["seconds"] == pytest.approx(2.5) and cs["share_of_time"] == pytest.approx(2.5 / 8.5, abs=1e-4)
    assert cs["average_shot_length"] == pytest.approx(1.25)
    assert stats["scale"]["ECS"] == {"shots": 0, "share_of_shots": 0.0, "seconds": 0.0, "share_of_time": 0.0,
                                     "average_shot_length": None}
    static = stats["movement"]["Static"]
    assert static["shots"] == 2 and static["share_of_shots"] == 0.5 and static["seconds"] == pytest.approx(6.0)
    assert sum(v["shots"] for v in stats["movement"].values()) == 4


def test_the_done_markers_are_written_last(film, tmp_path, monkeypatch):
    """shots.json last among a film's files, provenance.json last in its folder, and the folder
    appears only whole (it is swapped in after)."""
    order: list[str] = []
    real_replace = os.replace

    def watching(src, dst, *args, **kwargs):
        order.append(Path(dst).name)
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", watching)
    result = analyze_many([str(film)], tmp_path / "out", None,
                          settings=shotscope.AnalyzeSettings(movement="geometry"), progress=False)
    assert result.exit_code == 0 and len(result.done) == 1
    written = [n for n in order if n in {"shots.csv", "shots.edl", "shots.otio", "shots.xml", "report.html",
                                         "shots.json", "provenance.json"}]
    assert written[-2:] == ["shots.json", "provenance.json"] and len(written) == 7


def test_a_checkpoint_label_order_other_than_the_default_is_honoured(tiny_config, tmp_path, film):
    """A checkpoint whose heads list the classes in another order: labels come from its own map."""
    from shotscope import ShotScopeModel, load_model

    reordered = list(reversed(MOVEMENT_LABELS))
    tiny_config.movement_id2label = dict(enumerate(reordered))
    tiny_config.movement_label2id = {k: i for i, k in enumerate(reordered)}
    torch.manual_seed(0)
    model = ShotScopeModel(tiny_config).eval()
    with torch.no_grad():  # make the head say class index 0, whatever the input
        model.movement_cf.weight.zero_()
        model.movement_cf.bias.copy_(torch.tensor([5.0, 0.0, 0.0, 0.0]))
    model.save_pretrained(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert list(loaded.config.movement_labels) == reordered
    shots = shotscope.analyze(film, loaded, settings=shotscope.AnalyzeSettings(movement="model"), progress=False).shots
    assert {s.movement for s in shots} == {reordered[0]} == {"Push"}
    assert all(s.movement_probs["Push"] == max(s.movement_probs.values()) for s in shots)


def test_statistics_are_rounded_as_documented_and_an_empty_film_has_zeros():
    """Seconds to the millisecond, shares to 4 places (what shots.json and the archive store)."""
    shots = [Shot(0, 0, 10, 0.0, 1.23456, scale="CS", movement="Static"),
             Shot(1, 10, 30, 1.23456, 3.7777777, scale="MS", movement="Static")]
    stats = film_statistics(FilmAnalysis("f.mp4", 24.0, 30, 3.7777777, 320, 180, shots, {}))
    assert stats["duration"] == 3.778 and stats["average_shot_length"] == round((1.23456 + 2.5432177) / 2, 3)
    assert stats["median_shot_length"] == round((1.23456 + 2.5432177) / 2, 3)
    assert (stats["shortest_shot"], stats["longest_shot"]) == (1.235, 2.543)
    cs = stats["scale"]["CS"]
    assert cs == {"shots": 1, "share_of_shots": 0.5, "seconds": 1.235, "share_of_time": round(1.23456 / 3.7777777, 4),
                  "average_shot_length": 1.235}
    assert stats["movement"]["Static"]["share_of_time"] == 1.0 and stats["movement"]["Static"]["seconds"] == 3.778
    empty = film_statistics(FilmAnalysis("f.mp4", 24.0, 0, 0.0, 320, 180, [], {}))
    assert empty["shots"] == 0 and empty["average_shot_length"] == 0.0 and empty["median_shot_length"] == 0.0
    assert all(v["shots"] == 0 and v["share_of_time"] == 0.0 for v in empty["scale"].values())


@pytest.fixture(scope="module")
def ramp(tmp_path_factory):
    """48 frames at 24 fps, 160x96; frame i is grey level 5*i (so a frame tells its own index)."""
    from shotscope.video.decode import write_video

    path = tmp_path_factory.mktemp("ramp") / "ramp.mp4"
    write_video(path, (np.full((96, 160, 3), 5 * i, np.uint8) for i in range(48)), fps=24)
    return path


def test_sampled_clips_say_where_they_come_from_and_are_reduced_on_conversion(ramp):
    import cv2

    from shotscope.video.sampling import sample_frames

    clip = sample_frames(ramp, 4, 0.5, 1.5)
    assert (clip.start, clip.end, clip.path) == (0.5, 1.5, str(ramp))
    assert ((clip.times >= 0.5) & (clip.times < 1.5)).all() and clip.indices.tolist() == [[15, 21, 27, 33]]
    assert np.abs(clip.frames.mean(axis=(2, 3, 4)) - 5 * clip.indices).max() < 3  # the frames shown then
    whole = sample_frames(ramp, 4)
    assert whole.start == 0.0 and whole.end == pytest.approx(2.0) and not whole.repeated
    small = sample_frames(ramp, 4, 0.5, 1.5, short_side=48)
    assert small.frames.shape == (1, 4, 48, 80, 3)
    expected = np.stack([cv2.resize(f, (80, 48), interpolation=cv2.INTER_AREA) for f in clip.frames[0]])
    assert np.abs(small.frames[0].astype(int) - expected).max() <= 2
    assert sample_frames(ramp, 4, 0.5, 1.5, short_side=500).frames.shape == clip.frames.shape  # never enlarged


def test_sampling_an_empty_or_late_range(ramp):
    from shotscope.errors import VideoDecodeError
    from shotscope.video.sampling import sample_frames

    for start, end in ((1.0, 1.0), (1.5, 0.5)):
        with pytest.raises(VideoDecodeError) as err:
            sample_frames(ramp, 4, start, end)
        assert str(ramp) in str(err.value) and f"empty time range [{start:.3f}, {end:.3f})" in str(err.value)
    # from the end on, no end given: a range of the clip's length is looked for, and nothing is there
    with pytest.raises(VideoDecodeError, match=r"no frames in \[2\.000, end\)"):
        sample_frames(ramp, 4, start=2.0)
    last = sample_frames(ramp, 4, start=1.9)
    assert set(last.indices.ravel()) <= {45, 46, 47} and last.end == pytest.approx(2.0)
    with pytest.raises(ValueError, match=r"^num_frames and views must be >= 1$"):
        sample_times(0.0, 1.0, 0, 1)
    with pytest.raises(ValueError, match=r"^num_frames and views must be >= 1$"):
        sample_times(0.0, 1.0, 4, 0)
