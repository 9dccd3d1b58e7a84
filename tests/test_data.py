"""MovieShots reader, manifests, the synthetic generator and the frame cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shotscope import DataError
from shotscope.data import read_manifest, read_movieshots
from shotscope.data.cache import load_cached, prepare
from shotscope.data.dataset import ClipDataset
from shotscope.data.synthetic import SynthSettings, generate
from shotscope.labels import IGNORE_INDEX
from shotscope.model.preprocessing import AugmentConfig, PreprocessConfig

from .videos import index_video


def test_movieshots_reader(movieshots_tree):
    records, report = read_movieshots(movieshots_tree, "train")
    by_key = {r.key: r for r in records}
    assert set(by_key) == {"tt0000001/0001", "tt0000001/0002", "tt0000002/0010"}
    assert by_key["tt0000001/0001"].scale_label == "CS" and by_key["tt0000001/0001"].movement_label == "Push"
    only_movement = by_key["tt0000001/0002"]
    assert only_movement.scale == IGNORE_INDEX and only_movement.movement_label == "Motion"  # Multi_movement
    assert report.skipped == 1 and "tt0000001/0003" in report.reasons[0] and "missing" in report.reasons[0]
    strict, _ = read_movieshots(movieshots_tree, "train", movement_aliases={"Multi_movement": "Static"})
    assert {r.key: r for r in strict}["tt0000001/0002"].movement_label == "Static"
    with pytest.raises(DataError, match="no split 'dev'"):
        read_movieshots(movieshots_tree, "dev")


def test_manifest_reading_and_errors(tmp_path):
    index_video(tmp_path / "a.mp4", 5)
    good = tmp_path / "m.csv"
    good.write_text("path,scale,movement,start,end\na.mp4,MS,,0.0,0.1\na.mp4,,Pull,,\n")
    records, _ = read_manifest(good)
    assert records[0].scale_label == "MS" and records[0].movement == IGNORE_INDEX and records[0].end == 0.1
    assert records[1].scale == IGNORE_INDEX and records[1].movement_label == "Pull"
    bad = tmp_path / "bad.csv"
    bad.write_text("path,scale,movement\na.mp4,MS,Static\na.mp4,Huge,Static\nmissing.mp4,CS,Push\n")
    with pytest.raises(DataError, match=r"bad.csv:3: unknown scale label 'Huge'"):
        read_manifest(bad)
    records, report = read_manifest(bad, skip_bad=True)
    assert len(records) == 1 and report.skipped == 2
    assert any("missing.mp4" in r and ":4:" in r for r in report.reasons)
    aliased = tmp_path / "alias.csv"
    aliased.write_text("path,scale,movement\na.mp4,CS,Multi_movement\n")
    assert read_manifest(aliased)[0][0].movement_label == "Motion"
    assert read_manifest(aliased, movement_aliases={"Multi_movement": "Static"})[0][0].movement_label == "Static"
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text(json.dumps({"path": "a.mp4", "scale": "LS", "movement": "Static"}) + "\n{oops\n")
    with pytest.raises(DataError, match=r"m.jsonl:2: not valid JSON"):
        read_manifest(jsonl)


def test_synthetic_generator_and_cache(tmp_path):
    settings = SynthSettings(width=64, height=48, frames=6)
    manifest = generate(tmp_path / "synth", 20, settings=settings, progress=False)
    records, report = read_manifest(manifest)
    assert len(records) == 20 and report.skipped == 0
    assert {r.scale_label for r in records} == {"ECS", "CS", "MS", "FS", "LS"}
    assert {r.movement_label for r in records} == {"Static", "Motion", "Pull", "Push"}
    # rerun keeps existing clips (resumable) and writes the same manifest
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "synth" / "clips").iterdir()}
    generate(tmp_path / "synth", 20, settings=settings, progress=False)
    after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "synth" / "clips").iterdir()}
    assert before == after

    done, errors = prepare(records[:4], tmp_path / "cache", short_side=32, max_frames=8, progress=False)
    assert done == 4 and errors == []
    cached = load_cached(tmp_path / "cache", records[0])
    assert cached.dtype == np.uint8 and cached.shape[1:] == (32, 42, 3) and len(cached) == 6
    cfg = PreprocessConfig(image_size=32)
    with_cache = ClipDataset(records[:4], 4, cfg, cache_dir=tmp_path / "cache")[0]
    without = ClipDataset(records[:4], 4, cfg)[0]
    assert with_cache["pixel_values"].shape == without["pixel_values"].shape == (4, 3, 32, 32)
    assert (with_cache["pixel_values"] - without["pixel_values"]).abs().mean() < 0.15


def test_dataset_time_reversal_swaps_labels(tmp_path):
    index_video(tmp_path / "a.mp4", 8)
    from shotscope.data.records import ClipRecord

    recs = [ClipRecord(str(tmp_path / "a.mp4"), 1, m) for m in range(4)]
    aug = AugmentConfig(random_resized_crop=False, hflip=0.0, time_reverse=1.0)
    ds = ClipDataset(recs, 4, PreprocessConfig(image_size=32), augment=aug)
    assert [int(ds[i]["movement_labels"]) for i in range(4)] == [0, 1, 3, 2]
    assert all(int(ds[i]["scale_labels"]) == 1 for i in range(4))
