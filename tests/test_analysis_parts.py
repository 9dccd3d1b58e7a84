"""analyze's parts, one at a time and fast: settings and the movement source, the integrity check,
the per-shot frame buffer, sizes and views, the labeller (labels, thumbnails, batches), and the
threads that decode ahead and run the model."""

from __future__ import annotations

import io
import re
import sys
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

import shotscope
from shotscope import DataError
from shotscope.analysis.film import check_integrity
from shotscope.analysis.labelling import ModelWorker, ShotLabeller
from shotscope.analysis.results import AnalyzeSettings, resolve_settings
from shotscope.analysis.shot_frames import Converter, ShotBuffer, positions, views_for
from shotscope.model.preprocessing import PreprocessConfig
from shotscope.sources.geometry import GEOMETRY_FRAMES, GEOMETRY_SIDE
from shotscope.sources.selection import model_input_side, resolve_movement
from shotscope.threads import read_ahead
from shotscope.video.cuts import CutDetector
from shotscope.video.decode import DecodedFrame, open_video

from .conftest import Terminal

# --- settings -------------------------------------------------------------------------------------


def test_settings_are_checked_together_with_every_reason():
    assert AnalyzeSettings(long_shot_seconds=0, short_shot_seconds=0.0, start=0, end=1.5).end == 1.5
    with pytest.raises(DataError) as err:
        AnalyzeSettings(long_shot_seconds=-1, short_shot_seconds=float("nan"), max_views=0, keep_frames=1.5,
                        batch_size=True, num_frames=0, work_size="224", movement="optical", start=-2, end=float("inf"))
    assert str(err.value) == (
        "analysis settings: long_shot_seconds must be a number >= 0, got -1; short_shot_seconds must be a number "
        ">= 0, got nan; max_views must be a whole number >= 1, got 0; keep_frames must be a whole number >= 1, "
        "got 1.5; num_frames must be a whole number >= 1, got 0; work_size must be a whole number >= 1, got '224'; "
        "movement must be one of auto, model, geometry, fused, got 'optical'; start must be seconds >= 0, got -2; "
        "end must be seconds >= 0, got inf")
    with pytest.raises(DataError, match=r"people_detector must be one of auto, mediapipe, opencv, got 'yolo'$"):
        AnalyzeSettings(people_detector="yolo")
    with pytest.raises(DataError, match=r"^analysis settings: end \(2.0\) must be after start \(2.0\)$"):
        AnalyzeSettings(start=2.0, end=2.0)
    with pytest.raises(DataError, match=r"^analysis settings: long_shot_seconds must be a number >= 0, got '4'$"):
        AnalyzeSettings(long_shot_seconds="4")
    assert AnalyzeSettings(max_views=1, keep_frames=1, batch_size=1, num_frames=1, work_size=1).work_size == 1


def test_the_movement_source_each_model_gets(tiny_model):
    assert resolve_movement(None) == resolve_movement(None, "auto") == "geometry"
    assert resolve_movement(tiny_model, "auto") == "model"
    for choice in ("model", "geometry"):
        assert resolve_movement(tiny_model, choice) == choice
    assert resolve_movement(None, "geometry") == "geometry"
    with pytest.raises(DataError, match=r"^movement 'model' needs a model; without one use movement 'geometry'$"):
        resolve_movement(None, "model")
    with pytest.raises(DataError, match=r"^movement 'fused' needs a model; without one"):
        resolve_movement(None, "fused")
    with pytest.raises(DataError, match=r"^movement 'fused' needs a model with a fitted movement combiner "
                                        r"\(shotscope fit-fusion\)$"):
        resolve_movement(tiny_model, "fused")
    with pytest.raises(DataError, match=r"^movement must be one of auto, model, geometry, fused, got 'x'$"):
        resolve_movement(tiny_model, "x")
    tiny_model.movement_fusion = object()
    assert resolve_movement(tiny_model) == resolve_movement(tiny_model, "fused") == "fused"
    settings = AnalyzeSettings(max_views=2)
    resolved = resolve_settings(tiny_model, settings)
    assert (resolved.movement, resolved.max_views, settings.movement) == ("fused", 2, "auto")
    # without a model: scale from people, found by MediaPipe's models (fetched for the tests)
    assert resolve_settings(None, None) == AnalyzeSettings(movement="geometry", scale="people",
                                                           people_detector="mediapipe")
    assert resolve_settings(tiny_model, None).people_detector == "auto"  # the network's scale: no detector
    assert resolve_settings(tiny_model, None).scale == "model"


# --- integrity ------------------------------------------------------------------------------------

INFO = SimpleNamespace(duration=100.0, fps=25.0, frame_count=2500)


def test_a_whole_film_is_ok():
    out = check_integrity(INFO, 2500, 100.0, {})
    assert out == {"status": "ok", "decoded_frames": 2500, "decoded_seconds": 100.0, "expected_frames": 2500,
                   "expected_seconds": 100.0, "problems": []}


def test_the_figures_are_the_decoded_and_expected_seconds_to_the_millisecond():
    odd = SimpleNamespace(duration=99.98765, fps=25.0, frame_count=2500)
    out = check_integrity(odd, 2428, 97.12345, {})
    assert (out["decoded_seconds"], out["expected_seconds"]) == (97.123, 99.988)
    assert check_integrity(INFO, 5, 0.2, {})["decoded_seconds"] == 0.2  # a fraction of a second, as it is


def test_a_film_that_stops_early_is_truncated_beyond_a_small_margin():
    # the margin: 2 % of the expected length (2 s here), at least three frames
    assert check_integrity(INFO, 2450, 98.0, {})["status"] == "ok"  # on the margin itself: still whole
    assert check_integrity(INFO, 2451, 98.01, {})["status"] == "ok"
    out = check_integrity(INFO, 2449, 97.99, {})
    assert out["status"] == "truncated"
    assert out["summary"] == "truncated: decoded 97.99 s of 100.00 s"
    short = SimpleNamespace(duration=4.0, fps=25.0, frame_count=100)  # 2 % is 0.08 s; three frames 0.12 s
    assert check_integrity(short, 98, 3.89, {})["status"] == "ok"
    assert check_integrity(short, 96, 3.87, {})["status"] == "truncated"
    clip = SimpleNamespace(duration=0.8, fps=25.0, frame_count=20)  # under a second, nothing decoded
    assert check_integrity(clip, 0, 0.0, {})["status"] == "truncated"


def test_decoding_problems_make_a_film_damaged_and_are_counted():
    out = check_integrity(INFO, 2500, 100.0, {"corrupt packet": 3, "missing reference": 1})
    assert out["status"] == "damaged"
    assert out["problems"] == ["corrupt packet (x3)", "missing reference"]
    assert out["summary"] == "damaged: decoded 100.00 s of 100.00 s; corrupt packet (x3); missing reference"
    assert check_integrity(INFO, 2500, 100.0, {"skipped a packet": 2})["problems"] == ["skipped a packet (x2)"]
    both = check_integrity(INFO, 100, 4.0, {"bad": 1})
    assert both["status"] == "truncated+damaged" and both["summary"].startswith("truncated and damaged: decoded")


def test_a_range_is_checked_against_itself():
    out = check_integrity(INFO, 250, 30.0, {}, start=20.0, end=30.0)
    assert (out["status"], out["decoded_seconds"], out["expected_seconds"], out["expected_frames"]) == \
        ("ok", 10.0, 10.0, None)
    assert check_integrity(INFO, 100, 24.0, {}, start=20.0, end=30.0)["status"] == "truncated"
    past = check_integrity(INFO, 500, 100.0, {}, start=80.0, end=500.0)  # an end past the film: its end
    assert (past["status"], past["expected_seconds"]) == ("ok", 20.0)
    assert check_integrity(INFO, 0, 0.0, {}, start=120.0)["status"] == "ok"  # nothing expected there
    assert check_integrity(INFO, 10, 5.0, {}, start=2.0)["expected_frames"] is None
    unknown = SimpleNamespace(duration=None, fps=25.0, frame_count=None)
    assert check_integrity(unknown, 250, 10.0, {}, end=10.0)["expected_seconds"] == 10.0


# --- buffer, sizes, views ------------------------------------------------------------------------

def _frames(indices, fps=25.0):
    return [DecodedFrame(i, i / fps, None) for i in indices]


def test_the_shot_buffer_thins_by_doubling_its_stride_and_splits_at_cuts():
    buf = ShotBuffer(keep=4)
    kept = []
    for i in range(40):
        if buf.wants(i):
            buf.add(DecodedFrame(i, i / 25, None))
            kept.append(i)
        assert len(buf.items) <= 8
    assert [f.index for f in buf.items] == [0, 8, 16, 24, 32]
    assert buf.stride == 8 and kept[:10] == list(range(9)) + [10]
    done = buf.split(20)
    assert [f.index for f in done] == [0, 8, 16] and [f.index for f in buf.items] == [24, 32]
    assert buf.stride == 1
    empty = ShotBuffer(keep=2)
    empty.stride = 4
    assert empty.wants(3)  # an empty buffer takes the next frame whatever the stride
    assert buf.wants(33) and buf.split(100) and buf.items == []
    every = ShotBuffer(keep=8)
    for i in range(10):
        every.add(DecodedFrame(i, i / 25, None))
    assert [f.index for f in every.split(5)] == [0, 1, 2, 3, 4]  # the frame on the cut opens the next shot
    assert [f.index for f in every.items] == [5, 6, 7, 8, 9]


def test_the_frame_side_sampled_for_each_model(tiny_model):
    assert model_input_side(None) == GEOMETRY_SIDE == 180
    tiny_model.preprocess_config = PreprocessConfig(image_size=32, resize_mode="center_crop", shortest_edge=40)
    assert model_input_side(tiny_model) == 40
    tiny_model.preprocess_config = PreprocessConfig(image_size=32, resize_mode="center_crop")
    assert model_input_side(tiny_model) == 32
    tiny_model.preprocess_config = PreprocessConfig(image_size=48, resize_mode="letterbox")
    assert model_input_side(tiny_model) == 48
    tiny_model.preprocess_config = None
    assert model_input_side(tiny_model) == tiny_model.image_size == 32


def test_long_shots_get_more_views_up_to_the_limit():
    st = AnalyzeSettings(long_shot_seconds=4.0, max_views=3)
    assert [views_for(d, st) for d in (0.5, 4.0, 4.01, 7.99, 8.0, 11.9, 12.0, 60.0)] == [1, 1, 2, 2, 3, 3, 3, 3]
    assert views_for(100.0, AnalyzeSettings(long_shot_seconds=4.0, max_views=5)) == 5


def test_positions_spread_views_over_the_kept_frames():
    one = positions(32, 8, 1)
    assert one.shape == (1, 8) and one[0, 0] >= 0 and one.max() <= 31 and (np.diff(one[0]) > 0).all()
    three = positions(32, 4, 3)
    assert three.shape == (3, 4) and len({tuple(r) for r in three}) == 3
    assert positions(3, 8, 1).max() == 2  # fewer frames than wanted: repeats, never past the end
    assert positions(8, 8, 1).tolist() == [list(range(8))]  # as many as wanted: each once, from the first
    assert (positions(1, 4, 2) == 0).all()


class FakeVideo:
    """to_rgb gives a picture whose value is the frame's index (and counts its calls)."""

    def __init__(self):
        self.calls = 0

    def to_rgb(self, frame, size=None, display=True):
        self.calls += 1
        w, h = size
        return np.full((h, w, 3), frame.index % 256, np.uint8)


def test_the_converter_converts_each_kept_frame_once():
    video = FakeVideo()
    conv = Converter(video, (12, 8))
    items = _frames(range(0, 40, 2))
    clip = conv.sample(items, 4, 2)
    assert clip.shape == (2, 4, 8, 12, 3) and clip.dtype == np.uint8
    assert [int(clip[v, t, 0, 0, 0]) for v in range(2) for t in range(4)] == \
        [items[i].index for i in positions(len(items), 4, 2).ravel()]
    calls = video.calls
    conv.sample(items, 4, 2)
    assert video.calls == calls == len(set(positions(len(items), 4, 2).ravel()))


# --- the labeller --------------------------------------------------------------------------------

def _labeller(model, movement="model", batch_size=8, size=(32, 32)):
    settings = AnalyzeSettings(movement=movement, batch_size=batch_size, long_shot_seconds=4.0,
                               short_shot_seconds=0.75)
    return ShotLabeller(model, settings, 4, Converter(FakeVideo(), size))


def test_the_labeller_labels_by_argmax_and_keeps_shot_facts(tiny_model):
    from shotscope.model.inference import predict_probs

    lab = _labeller(tiny_model)
    items = _frames(range(0, 60, 3))
    lab.add(0, 60, 0.0, 2.4, items)
    lab.add(60, 61, 2.4, 2.44, _frames([60]))
    lab.add(61, 300, 2.44, 12.0, _frames(range(61, 300, 8)))
    lab.add(300, 318, 12.0, 12.75, _frames(range(300, 318)))  # exactly the short-shot length: not short
    shots = lab.finish()
    assert [(s.index, s.start_frame, s.end_frame, s.views, s.short) for s in shots] == \
        [(0, 0, 60, 1, False), (1, 60, 61, 1, True), (2, 61, 300, 3, False), (3, 300, 318, 1, False)]
    assert [s.start_time for s in shots] == [0.0, 2.4, 2.44, 12.0] and shots[2].end_time == 12.0
    assert lab.convert.cache == {}  # each shot's pictures freed once it is sampled
    clips = [lab.convert.sample(_frames(range(0, 60, 3)), 4, 1)]
    ps, pm = predict_probs(tiny_model, clips)
    first = shots[0]
    assert first.scale == tiny_model.config.scale_labels[int(ps[0].argmax())]
    assert first.scale_prob == round(float(ps[0].max()), 4)
    assert first.scale_probs == {k: round(float(v), 4) for k, v in zip(tiny_model.config.scale_labels, ps[0],
                                                                          strict=True)}
    assert first.movement == tiny_model.config.movement_labels[int(pm[0].argmax())]
    assert first.movement_probs == {k: round(float(v), 4) for k, v in zip(tiny_model.config.movement_labels, pm[0],
                                                                            strict=True)}
    assert first.movement_prob == round(float(pm[0].max()), 4) and first.movement_source == "model"
    assert first.motion is None


def test_shots_are_labelled_in_batches_while_decoding_goes_on(tiny_model):
    lab = _labeller(tiny_model, batch_size=2)
    lab.add(0, 10, 0.0, 0.4, _frames(range(10)))
    assert len(lab.pending) == 1 and lab.worker is None
    lab.add(10, 20, 0.4, 0.8, _frames(range(10, 20)))
    assert lab.pending == [] and lab.worker is not None  # handed over at the batch size
    lab.add(20, 30, 0.8, 1.2, _frames(range(20, 30)))
    shots = lab.finish()
    assert all(s.scale is not None and s.movement is not None for s in shots)
    assert [s.index for s in shots] == [0, 1, 2]


def test_a_shot_without_frames_stays_unlabelled(tiny_model):
    lab = _labeller(tiny_model)
    lab.add(0, 5, 0.0, 0.2, [])
    (shot,) = lab.finish()
    assert (shot.scale, shot.movement, shot.thumbnail) == (None, None, None) and shot.short


def test_thumbnails_pick_the_most_detailed_of_three_frames():
    class Fade(FakeVideo):
        def to_rgb(self, frame, size=None, display=True):
            w, h = size
            rng = np.random.default_rng(frame.index)
            level = min(frame.index, 10) * 20  # black at first, then a textured picture
            return (rng.integers(0, level + 1, (h, w, 3))).astype(np.uint8)

    size = (480, 270)  # three times the thumbnail: area averaging and bilinear sampling differ
    lab = ShotLabeller(None, AnalyzeSettings(movement="geometry", scale="none"), 4, Converter(Fade(), size))
    items = _frames(range(12))  # picks 3, 6, 9: the ninth is the most detailed
    lab.add(0, 12, 0.0, 0.5, items)
    (shot,) = lab.finish()
    fade = Fade()
    expected = fade.to_rgb(items[9], size)
    import cv2

    assert shot.thumbnail.shape == (90, 160, 3)
    np.testing.assert_array_equal(shot.thumbnail, cv2.resize(expected, (160, 90), interpolation=cv2.INTER_AREA))
    np.testing.assert_array_equal(shot.first_frame, cv2.resize(fade.to_rgb(items[0], size), (160, 90),
                                                               interpolation=cv2.INTER_AREA))
    np.testing.assert_array_equal(shot.last_frame, cv2.resize(fade.to_rgb(items[11], size), (160, 90),
                                                              interpolation=cv2.INTER_AREA))
    # a noisy picture's thumbnail averages it (no aliasing): far smoother than the picture
    assert float(shot.thumbnail.std()) < float(expected.std()) / 2.5
    # movement from geometry: the estimate's label, rounded confidence, its evidence kept
    assert shot.movement_source == "geometry" and shot.motion is not None
    assert shot.movement == shot.motion["label"] and shot.movement_prob == round(shot.motion["confidence"], 4)
    assert shot.movement_probs == shot.motion["probabilities"] and shot.scale is None


@pytest.mark.parametrize("detailed", [3, 6, 9])
def test_the_thumbnail_is_one_of_the_frames_at_a_quarter_half_and_three_quarters(detailed):
    class Peak(FakeVideo):  # flat pictures, but for one textured frame
        def to_rgb(self, frame, size=None, display=True):
            w, h = size
            level = 255 if frame.index == detailed else 0
            return np.random.default_rng(frame.index).integers(0, level + 1, (h, w, 3)).astype(np.uint8)

    lab = ShotLabeller(None, AnalyzeSettings(movement="geometry"), 4, Converter(Peak(), (320, 180)))
    lab.add(0, 12, 0.0, 0.5, _frames(range(12)))  # twelve frames: 3, 6 and 9 are the candidates
    (shot,) = lab.finish()
    assert shot.thumbnail.std() > 10  # the textured one (the others are black), wherever of the three it is


def test_thumbnails_keep_the_films_shape_when_the_model_sees_a_square():
    # the wider of the two is the lower one: the thumbnails come from the wider, in the film's shape
    lab = ShotLabeller(None, AnalyzeSettings(movement="geometry"), 4, Converter(FakeVideo(), (224, 224)),
                        Converter(FakeVideo(), (320, 180)))
    lab.add(0, 12, 0.0, 0.5, _frames(range(12)))
    (shot,) = lab.finish()
    assert shot.thumbnail.shape == shot.first_frame.shape == (90, 160, 3)


def test_geometry_reads_its_own_frames_and_up_to_sixteen(monkeypatch):
    import shotscope.sources.geometry as analysis

    seen = []

    def fake_estimate(frames, times):
        seen.append((frames.shape, list(times)))
        return SimpleNamespace(label="Pull", confidence=0.61234, probabilities={"Pull": 0.61234},
                               to_dict=lambda: {"label": "Pull"})

    monkeypatch.setattr(analysis, "estimate_movement", fake_estimate)
    geo = Converter(FakeVideo(), (24, 16))
    lab = ShotLabeller(None, AnalyzeSettings(movement="geometry"), 4, Converter(FakeVideo(), (12, 8)), geo)
    lab.add(0, 40, 0.0, 1.6, _frames(range(40)))
    lab.add(40, 41, 1.6, 1.64, _frames([40]))
    shots = lab.finish()
    assert seen[0][0] == (GEOMETRY_FRAMES, 16, 24, 3) and seen[1][0] == (2, 16, 24, 3)
    assert seen[0][1] == [i / 25 for i in positions(40, 16, 1)[0]]
    assert (shots[0].movement, shots[0].movement_prob, shots[0].motion) == ("Pull", 0.6123, {"label": "Pull"})
    assert shots[0].thumbnail.shape == (107, 160, 3)  # from the larger pictures


def test_fused_movement_comes_from_the_combiner(tiny_model, monkeypatch):
    from shotscope.sources.geometry import MotionEstimate

    got = []

    class Combiner:
        def combine(self, probs, estimate):
            got.append((probs.copy(), estimate))
            return np.array([0.1, 0.2, 0.3, 0.4])

    tiny_model.movement_fusion = Combiner()
    lab = _labeller(tiny_model, movement="fused", size=(64, 48))
    lab.add(0, 30, 0.0, 1.2, _frames(range(30)))
    (shot,) = lab.finish()
    assert isinstance(got[0][1], MotionEstimate) and got[0][1].label == shot.motion["label"]
    assert (shot.movement, shot.movement_prob) == ("Push", 0.4)
    assert shot.movement_probs == {"Static": 0.1, "Motion": 0.2, "Pull": 0.3, "Push": 0.4}
    assert shot.movement_source == "fused" and shot.scale is not None


def test_with_geometry_the_model_gives_the_scale_only(tiny_model, monkeypatch):
    lab = _labeller(tiny_model, movement="geometry", size=(64, 48))
    lab.add(0, 30, 0.0, 1.2, _frames(range(30)))
    (shot,) = lab.finish()
    assert shot.scale is not None and shot.movement == shot.motion["label"]


# --- threads --------------------------------------------------------------------------------------

def test_the_model_worker_runs_batches_in_order_and_hands_errors_back():
    done = []
    worker = ModelWorker(done.append)
    for k in range(5):
        worker.submit([k])
    worker.close()
    assert done == [[0], [1], [2], [3], [4]] and not worker.thread.is_alive()

    def fail(batch):
        if batch == ["bad"]:
            raise ValueError("the model failed")
        done.append(batch)

    done.clear()
    worker = ModelWorker(fail)
    worker.submit(["bad"])
    deadline = time.monotonic() + 10
    while worker.error is None and time.monotonic() < deadline:  # the thread has run it
        time.sleep(0.01)
    with pytest.raises(ValueError, match="the model failed"):
        worker.submit(["after"])
    with pytest.raises(ValueError, match="the model failed"):
        worker.close()
    assert done == []


def test_after_a_failure_the_worker_drains_what_waits_so_closing_never_blocks():
    gate, started = threading.Event(), threading.Event()

    def fails(batch):
        started.set()
        gate.wait(10)
        raise ValueError("the model failed")

    worker = ModelWorker(fails, depth=2)
    worker.submit(1)
    assert started.wait(10)
    worker.submit(2)
    worker.submit(3)  # the queue is full
    fourth = threading.Thread(target=worker.submit, args=(4,), daemon=True)
    fourth.start()  # the producer waits for room, before the failure
    gate.set()
    fourth.join(5)
    assert not fourth.is_alive()
    closing = threading.Thread(target=lambda: pytest.raises(ValueError, worker.close), daemon=True)
    closing.start()
    closing.join(5)
    assert not closing.is_alive() and not worker.thread.is_alive()


def test_an_aborted_worker_drops_what_waits_and_says_nothing():
    gate, started, ran = threading.Event(), threading.Event(), []

    def slow(batch):
        started.set()
        gate.wait(10)
        ran.append(batch)

    worker = ModelWorker(slow, depth=2)
    worker.submit(1)
    assert started.wait(10)  # the first batch is running
    worker.submit(2)
    worker.submit(3)
    gate.set()
    worker.close(abort=True)
    assert ran[:1] == [1] and 3 not in ran and not worker.thread.is_alive()

    def fail(batch):
        raise RuntimeError("x")

    broken = ModelWorker(fail)
    broken.submit(1)
    broken.close(abort=True)  # an abort raises nothing


def _closes_in_time(reader) -> bool:
    closing = threading.Thread(target=reader.close, daemon=True)
    closing.start()
    closing.join(5)
    return not closing.is_alive()


def test_read_ahead_keeps_order_raises_where_it_failed_and_stops_its_thread(monkeypatch):
    raised = []
    monkeypatch.setattr(threading, "excepthook", raised.append)
    reader = read_ahead(iter(range(100)), depth=3)
    assert reader.thread.name == "shotscope-decode" and reader.thread.daemon  # never holds the process at exit
    assert list(reader) == list(range(100))
    assert raised == []  # an iterator without close() ends the thread cleanly

    def failing():
        yield 1
        yield 2
        raise ValueError("frame 3 is damaged")

    got = []
    with pytest.raises(ValueError, match="frame 3"):
        for item in read_ahead(failing(), depth=8):
            got.append(item)
    assert got == [1, 2]  # everything before the failure arrives first

    closed = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    reader = read_ahead(endless(), depth=2)
    assert [next(reader) for _ in range(5)] == [0, 1, 2, 3, 4]
    time.sleep(0.2)  # the thread fills the queue and waits for room
    assert _closes_in_time(reader)  # the consumer leaves early: the thread ends and the source is closed
    assert closed.is_set() and not reader.thread.is_alive()
    idle = read_ahead(endless(), depth=2)
    assert _closes_in_time(idle)  # closed before any item was taken
    assert not idle.thread.is_alive()


def test_read_ahead_stays_at_most_depth_items_ahead():
    produced = []

    def items():
        for i in range(100):
            produced.append(i)
            yield i

    reader = read_ahead(items(), depth=3)
    time.sleep(0.3)
    assert len(produced) <= 3 + 1  # the queue's three, and one in the producer's hand
    assert next(reader) == 0
    assert list(reader) == list(range(1, 100))
    assert next(reader, "end") == "end"


def test_the_model_worker_bounds_what_waits_and_drops_it_after_a_failure_or_an_abort():
    gate, started = threading.Event(), threading.Event()
    ran = []

    def gated(batch):
        started.set()
        gate.wait(10)
        ran.append(batch)

    worker = ModelWorker(gated)
    assert worker.thread.daemon and worker.thread.name == "shotscope-model"  # never holds the process at exit
    worker.submit(1)
    assert started.wait(10)
    worker.submit(2)
    worker.submit(3)  # two batches wait: the most memory holds
    third = threading.Thread(target=worker.submit, args=(4,))
    third.start()
    third.join(0.3)
    assert third.is_alive()  # the producer waits for the model
    gate.set()
    third.join(10)
    worker.close()
    assert ran == [1, 2, 3, 4]

    # after a failure the batches behind it are dropped, and closing never blocks
    gate.clear()
    ran.clear()

    def fails_first(batch):
        gate.wait(10)
        if batch == 1:
            raise ValueError("the model failed")
        ran.append(batch)

    worker = ModelWorker(fails_first)
    for k in (1, 2, 3):
        worker.submit(k)
    gate.set()
    closing = threading.Thread(target=lambda: pytest.raises(ValueError, worker.close))
    closing.start()
    closing.join(10)
    assert not closing.is_alive() and ran == []

    # an abort drops the waiting batches: only the running one finishes
    gate.clear()
    started.clear()
    worker = ModelWorker(gated)
    worker.submit("running")
    assert started.wait(10)
    worker.submit("waiting")
    worker.submit("also waiting")
    aborting = threading.Thread(target=worker.close, kwargs={"abort": True})
    aborting.start()
    deadline = time.monotonic() + 10
    while not worker.stopping and time.monotonic() < deadline:
        time.sleep(0.01)
    gate.set()
    aborting.join(10)
    assert ran == ["running"] and not worker.thread.is_alive()


def test_with_geometry_every_shot_of_a_batch_gets_its_scale(tiny_model):
    lab = _labeller(tiny_model, movement="geometry", batch_size=3, size=(64, 48))
    for k in range(3):
        lab.add(30 * k, 30 * (k + 1), 1.2 * k, 1.2 * (k + 1), _frames(range(30 * k, 30 * (k + 1))))
    shots = lab.finish()
    assert all(s.scale in tiny_model.config.scale_labels and s.movement_source == "geometry" for s in shots)
    assert all(s.movement == s.motion["label"] for s in shots)


def test_a_shot_as_json_has_times_to_the_millisecond_and_evidence_to_four_places():
    from shotscope.analysis.film import Shot

    shot = Shot(index=3, start_frame=10, end_frame=35, start_time=0.4166666, end_time=1.4583333,
                motion={"label": "Push", "zoom": 0.123456789, "pairs": 7, "probabilities": {"Push": 0.9}},
                thumbnail=np.zeros((2, 2, 3), np.uint8))
    d = shot.to_dict()
    assert (d["start_time"], d["end_time"], d["duration"]) == (0.417, 1.458, 1.042)
    assert d["motion"] == {"label": "Push", "zoom": 0.1235, "pairs": 7, "probabilities": {"Push": 0.9}}
    assert "thumbnail" not in d and "first_frame" not in d and "last_frame" not in d
    assert d["index"] == 3 and (d["start_frame"], d["end_frame"]) == (10, 35)
    assert Shot(index=0, start_frame=0, end_frame=1, start_time=0.0, end_time=0.04).to_dict()["motion"] is None


class _Recorder(CutDetector):
    """A cut detector that finds no cuts and keeps the size of every picture it was given."""

    name = "recorder"

    def __init__(self, own=None):
        self.own, self.sizes, self.asked = own, [], None

    def reset(self, fps):
        self.fps = fps

    def push(self, index, small_rgb):
        self.last = small_rgb.copy()
        self.sizes.append(small_rgb.shape)
        return []

    def finish(self, last_index):
        return []

    def frame_size(self, w, h):
        self.asked = (w, h)
        return self.own


@pytest.mark.parametrize(("width", "height", "seen"), [(640, 360, (144, 256, 3)), (160, 90, (90, 160, 3)),
                                                       (300, 120, (102, 256, 3))])
def test_cut_detection_sees_the_stored_picture_at_about_256_pixels_wide(tmp_path, width, height, seen):
    """As PySceneDetect's SceneManager: the stored picture downscaled by width / 256 (never enlarged)."""
    from shotscope.analysis.film import analyze
    from shotscope.video.decode import write_video

    rng = np.random.default_rng(0)
    path = write_video(tmp_path / "film.mp4", [rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
                                               for _ in range(6)], fps=12)
    recorder = _Recorder()
    analyze(path, None, detector=recorder, settings=AnalyzeSettings(movement="geometry"))
    assert recorder.sizes == [seen] * 6 and recorder.fps == 12.0 and recorder.asked == (width, height)
    own = _Recorder(own=(48, 27))  # a detector with its own size (TransNetV2's) gets exactly that
    analyze(path, None, detector=own, settings=AnalyzeSettings(movement="geometry"))
    assert own.sizes == [(27, 48, 3)] * 6


def _flat_film(path, width, height, frames=6, fps=12):
    from shotscope.video.decode import write_video

    return write_video(path, [np.full((height, width, 3), 40 + 30 * (k % 3), np.uint8) for k in range(frames)],
                       fps=fps)


def test_analyze_uses_its_settings_and_keeps_fewer_frames_of_larger_pictures(tmp_path, monkeypatch):
    """Frames held per shot: keep_frames for 1080p and smaller, fewer in proportion above, never under 8."""
    import shotscope.analysis.film as analysis

    kept = []

    class Buffer(analysis.ShotBuffer):
        def __init__(self, keep):
            kept.append(keep)
            super().__init__(keep)

    monkeypatch.setattr(analysis, "ShotBuffer", Buffer)
    small, large = _flat_film(tmp_path / "small.mp4", 160, 90), _flat_film(tmp_path / "large.mp4", 2560, 1440)
    for path, keep_frames in ((small, 64), (large, 64), (large, 10)):
        analysis.analyze(path, None, detector=_Recorder(), settings=AnalyzeSettings(movement="geometry",
                                                                                   keep_frames=keep_frames))
    assert kept == [64, 36, 8]  # 64 x 1920 x 1080 / (2560 x 1440) = 36; 10 x 0.5625 -> at least 8
    recorder = _Recorder()
    analysis.analyze(small, None, detector=recorder, settings=AnalyzeSettings(movement="geometry", end=0.25))
    assert len(recorder.sizes) == 3  # frames at 0, 1/12 and 2/12 s: the range is honoured


def test_analyze_samples_for_the_model_and_for_geometry_each_at_its_own_size(tmp_path, tiny_model, monkeypatch):
    import shotscope.analysis.film as analysis

    sizes = []

    class Converter(analysis.Converter):
        def __init__(self, video, size):
            sizes.append(size)
            super().__init__(video, size)

    monkeypatch.setattr(analysis, "Converter", Converter)
    film = _flat_film(tmp_path / "film.mp4", 640, 360, frames=12)
    shots = analysis.analyze(film, tiny_model, detector=_Recorder(),
                             settings=AnalyzeSettings(movement="geometry")).shots
    # the model's input side (32) and the geometry's (180), each keeping the film's aspect
    assert sizes == [(57, 32), (320, 180)]
    assert len(shots) == 1 and shots[0].scale is not None and shots[0].movement_source == "geometry"
    sizes.clear()
    analysis.analyze(film, None, detector=_Recorder(), settings=AnalyzeSettings(movement="geometry", scale="none"))
    assert sizes == [(320, 180)]  # one size for both: one converter
    sizes.clear()
    people = analysis.analyze(film, None, detector=_Recorder(), settings=AnalyzeSettings(movement="geometry")).shots
    assert sizes == [(320, 180), (640, 360)]  # no model: scale from the people, at their own size
    assert people[0].scale_source == "people" and people[0].people["frames"] >= 1


@pytest.mark.parametrize(("progress", "terminal", "shown", "start"), [
    (None, True, True, None), (None, False, False, None), (True, False, True, 0.5), (False, True, False, None)])
def test_the_films_bar_shows_where_asked_under_the_archives_and_goes_when_done(tmp_path, monkeypatch, progress,
                                                                             terminal, shown, start):
    """A bar of decoded frames named by the film (30 characters), one line below an archive's bar
    (position 1), cleared at the end; shown on a terminal unless told, or wherever asked."""
    path = _flat_film(tmp_path / "a_film_whose_name_is_longer_than_thirty.mp4", 64, 48, frames=24, fps=24)
    err = Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    shotscope.analyze(path, None, settings=AnalyzeSettings(movement="geometry", start=start), progress=progress)
    monkeypatch.undo()
    out = err.getvalue()
    if not shown:
        assert out == ""
        return
    assert out.startswith("\n\ra_film_whose_name_is_longer_th:   0%|")  # one line down: position 1
    assert f"| 0/{24 if start is None else 12} [" in out and "f/s]" in out  # the frames of the film (or range)
    assert re.fullmatch(r"\r +", out.rsplit("\n", 1)[-1].replace("\x1b[A", ""))  # cleared when done


class _CutsThenFails(CutDetector):
    """Cuts every 4 frames, then fails at frame 30 (as a detector or a decoder can, mid-film)."""

    name = "fails"

    def reset(self, fps):
        pass

    def push(self, index, small_rgb):
        if index == 30:
            raise RuntimeError("detector broke")
        return [index] if index and index % 4 == 0 else []

    def finish(self, last_index):
        return []


def test_a_film_that_fails_midway_stops_the_model_and_drops_what_waits(tmp_path, tiny_model):
    """The shots waiting for the model when analysis fails are dropped, not labelled, and the model's
    thread is gone when the error reaches the caller."""
    calls = []
    forward = tiny_model.forward

    def slow_forward(*args, **kwargs):
        calls.append(1)
        time.sleep(0.2)
        return forward(*args, **kwargs)

    tiny_model.forward = slow_forward
    path = _flat_film(tmp_path / "film.mp4", 64, 48, frames=40, fps=12)
    with pytest.raises(RuntimeError, match="^detector broke$"):
        shotscope.analyze(path, tiny_model, detector=_CutsThenFails(), progress=False,
                          settings=AnalyzeSettings(movement="model", batch_size=1))
    assert not any(t.name == "shotscope-model" and t.is_alive() for t in threading.enumerate())
    assert len(calls) <= 7 - 2  # of the seven shots cut before frame 30, the two still queued were dropped
    done = len(calls)
    time.sleep(0.5)
    assert len(calls) == done  # and nothing runs afterwards


def test_cut_detection_sees_the_stored_picture_neither_turned_nor_stretched(tmp_path):
    """Cuts are found on the pictures as stored: a portrait recording is not turned for them, nor a
    film of non-square pixels stretched (the detectors compare frames; the display is for people)."""
    from fractions import Fraction

    from .videos import encode_stream, index_video, turned_mp4

    stored = index_video(tmp_path / "stored.mp4", 6)  # 160x48
    turned = turned_mp4(stored, tmp_path / "portrait.mp4", 1)
    wide = encode_stream(tmp_path / "anamorphic.mp4", 6, sample_aspect_ratio=Fraction(2, 1))
    for path in (turned, wide):
        seen = _Recorder()
        shotscope.analyze(path, None, detector=seen, settings=AnalyzeSettings(movement="geometry"))
        assert seen.sizes == [(48, 160, 3)] * 6 and seen.asked == (160, 48), path.name
        own = _Recorder(own=(48, 27))
        shotscope.analyze(path, None, detector=own, settings=AnalyzeSettings(movement="geometry"))
        assert own.sizes == [(27, 48, 3)] * 6, path.name
        with open_video(path) as video:  # the stored picture reduced, not the turned one squeezed to that size
            stored = video.to_rgb(list(video.frames())[-1], size=(48, 27), display=False)
        assert stored.std() > 20  # the last frame's index bars: a picture a turn would change
        np.testing.assert_array_equal(own.last, stored)


class _CutsAt(CutDetector):
    """Finds the cuts it is told, as frames arrive (a cut at or before the first frame is ignored by analyze)."""

    name = "scripted"

    def __init__(self, cuts):
        self.cuts = list(cuts)

    def reset(self, fps):
        self.todo = list(self.cuts)

    def push(self, index, small_rgb):
        due = [c for c in self.todo if c <= index]
        self.todo = self.todo[len(due):]
        return due

    def finish(self, last_index):
        return self.todo


@pytest.mark.parametrize(("start", "end", "cuts", "shots"), [
    (None, None, [6, 12, 18], [(0, 6), (6, 12), (12, 18), (18, 24)]),
    # a range: a cut at its first frame starts no empty shot; one at its last frame makes a one-frame shot;
    # cuts outside it are ignored
    (0.5, 1.5, [3, 6, 12, 17, 20], [(6, 12), (12, 17), (17, 18)]),
])
def test_shots_run_from_cut_to_cut_with_their_frames_times(tmp_path, start, end, cuts, shots):
    path = _flat_film(tmp_path / "film.mp4", 64, 48, frames=24, fps=12)
    result = shotscope.analyze(path, None, detector=_CutsAt(cuts), progress=False,
                               settings=AnalyzeSettings(movement="geometry", start=start, end=end))
    assert [(s.start_frame, s.end_frame) for s in result.shots] == shots
    np.testing.assert_allclose([(s.start_time, s.end_time) for s in result.shots], np.array(shots) / 12, atol=1e-6)
    assert all(s.movement is not None for s in result.shots)  # each shot was labelled from its own frames


@pytest.mark.parametrize(("start", "end", "where"), [(5.0, None, " in [5.000, end)"), (0.01, 0.05, " in [0.010, 0.05)"),
                                                     (4.0, 4.5, " in [4.000, 4.5)")])
def test_a_range_without_frames_is_named_in_the_error(tmp_path, start, end, where):
    from shotscope import VideoDecodeError

    path = _flat_film(tmp_path / "film.mp4", 64, 48, frames=24, fps=12)  # 2 s
    with pytest.raises(VideoDecodeError, match=rf"^{re.escape(str(path))}: no decodable video frames"
                                               rf"{re.escape(where)}$"):
        shotscope.analyze(path, None, settings=AnalyzeSettings(movement="geometry", start=start, end=end))


class _CutsAtTheEnd(_CutsAt):
    """Finds its cuts only when the film ends (as detectors that score windows of frames do)."""

    name = "scripted-at-end"

    def push(self, index, small_rgb):
        return []

    def finish(self, last_index):
        return list(self.cuts)


def test_cuts_found_at_the_end_make_the_same_shots_of_a_range(tmp_path):
    path = _flat_film(tmp_path / "film.mp4", 64, 48, frames=24, fps=12)
    result = shotscope.analyze(path, None, detector=_CutsAtTheEnd([3, 6, 12, 17, 20]), progress=False,
                               settings=AnalyzeSettings(movement="geometry", start=0.5, end=1.5))
    # a cut at the range's first frame (6) starts no empty shot; one at its last (17) makes a one-frame shot
    assert [(s.start_frame, s.end_frame) for s in result.shots] == [(6, 12), (12, 17), (17, 18)]


def test_analyze_checks_what_it_decoded_against_the_container(tmp_path):
    path = _flat_film(tmp_path / "film.mp4", 64, 48, frames=24, fps=12)  # 2 s
    whole = shotscope.analyze(path, None, settings=AnalyzeSettings(movement="geometry"), progress=False)
    assert whole.integrity == {"status": "ok", "decoded_frames": 24, "decoded_seconds": 2.0, "expected_frames": 24,
                               "expected_seconds": 2.0, "problems": []}
    part = shotscope.analyze(path, None, settings=AnalyzeSettings(movement="geometry", start=0.5, end=1.5),
                             progress=False)
    assert part.integrity == {"status": "ok", "decoded_frames": 12, "decoded_seconds": 1.0, "expected_frames": None,
                              "expected_seconds": 1.0, "problems": []}


def test_the_films_bar_counts_each_decoded_frame(tmp_path, monkeypatch):
    import tqdm as tqdm_module

    counted = {}

    class Counting(tqdm_module.tqdm):
        def close(self):
            counted.setdefault(id(self), (self.n, self.total))
            super().close()

    monkeypatch.setattr(tqdm_module, "tqdm", Counting)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    path = _flat_film(tmp_path / "film.mp4", 64, 48, frames=24, fps=24)
    shotscope.analyze(path, None, settings=AnalyzeSettings(movement="geometry", start=0.5), progress=True)
    assert list(counted.values()) == [(12, 12)]


def test_a_shots_kept_frames_are_every_stride_th_from_its_first_in_a_range(tmp_path, monkeypatch):
    """A long shot's frames are thinned by doubling the stride, counted from the shot's first frame
    (here frame 11 of the film, where the range starts)."""
    import shotscope.analysis.film as analysis

    given = []
    real_add = analysis.ShotLabeller.add

    def add(self, start, end, t0, t1, items):
        given.append([f.index for f in items])
        real_add(self, start, end, t0, t1, items)

    monkeypatch.setattr(analysis.ShotLabeller, "add", add)
    path = _flat_film(tmp_path / "film.mp4", 64, 48, frames=80, fps=25)
    analysis.analyze(path, None, detector=_Recorder(), progress=False,
                     settings=AnalyzeSettings(movement="geometry", start=0.44, keep_frames=8))
    (kept,) = given
    stride = kept[1] - kept[0]
    assert kept[0] == 11 and stride >= 4 and kept == list(range(11, 80, stride))


def test_the_analysis_names_the_model_it_used(tmp_path, tiny_model):
    path = _flat_film(tmp_path / "film.mp4", 64, 48, frames=12, fps=12)
    tiny_model.source, tiny_model.name_or_path = "someone/tiny (cache)", "someone/tiny"
    result = shotscope.analyze(path, tiny_model, progress=False)
    assert result.metadata["model"] == {"source": "someone/tiny (cache)", "name": "someone/tiny",
                                        "revision": getattr(tiny_model.config, "_commit_hash", None),
                                        "precision": {"compute": "fp32", "asked": "auto"}}


def test_the_analysis_of_a_range_says_what_was_analysed_and_how(tmp_path, tiny_model):
    """The film's facts, and the metadata every output carries: model, detector, decoder, the
    settings as resolved, the clip length, and the range analysed, to the millisecond."""
    from dataclasses import asdict

    from shotscope import __version__

    path = _flat_film(tmp_path / "film.mp4", 64, 48, frames=31, fps=30)
    tiny_model.config._commit_hash = "c" * 40
    settings = AnalyzeSettings(start=0.45)
    result = shotscope.analyze(path, tiny_model, detector=_CutsAt([20]), settings=settings, progress=False)
    assert (result.path, result.fps, result.frame_count, result.width, result.height) == (str(path), 30.0, 31, 64, 48)
    assert result.duration == pytest.approx(31 / 30)
    assert [(s.start_frame, s.end_frame) for s in result.shots] == [(14, 20), (20, 31)]
    meta = result.metadata
    assert set(meta) == {"shotscope_version", "model", "detector", "decoder", "settings", "num_frames", "range"}
    assert meta["shotscope_version"] == __version__ and meta["model"]["revision"] == "c" * 40
    assert meta["detector"] == {"name": "scripted"}
    assert meta["decoder"] == {"backend": "pyav", "codec": "h264", "pixel_format": "yuv420p"}
    assert meta["settings"] == asdict(resolve_settings(tiny_model, settings)) and meta["settings"]["start"] == 0.45
    assert meta["num_frames"] == tiny_model.num_frames
    assert meta["range"] == {"start": 0.467, "end": 1.033}  # frame 14 (14/30 s) to the film's end (31/30 s)
    assert result.integrity["decoded_frames"] == 17  # frames 14 to 30: all of the range, not its last shot's
