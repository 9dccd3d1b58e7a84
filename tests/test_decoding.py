"""The decoder's contract, frame by frame, on files whose frames carry their own index: what a
file says about itself, ranges, the frame shown at a time (decoding only what is needed or all),
conversions, and the messages for what is not a video. (Rotation and non-square pixels: real
files, in test_video.py.)"""

from __future__ import annotations

import os

import av
import numpy as np
import pytest

from shotscope import VideoDecodeError
from shotscope.video import (
    BACKENDS,
    PyAVBackend,
    VideoBackend,
    _reason,
    default_thread_type,
    open_video,
    write_video,
)

from .videos import index_frame, index_video, read_index


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    """50 frames at 25 fps, a keyframe every 10, B-frames between (libx264's defaults)."""
    return index_video(tmp_path_factory.mktemp("dec") / "film.mp4", 50, fps=25, gop=10)


def test_what_a_file_says_about_itself(film):
    with open_video(film) as video:
        info = video.info
        assert (info.width, info.height, info.stored_width, info.stored_height) == (160, 48, 160, 48)
        assert (info.fps, info.frame_count, info.frame_count_exact) == (25.0, 50, True)
        assert info.duration == pytest.approx(2.0, abs=0.05) and info.start_time == pytest.approx(0.0, abs=0.05)
        assert (info.codec, info.pixel_format, info.rotation, info.other_streams) == ("h264", "yuv420p", 0, ())
        assert info.sample_aspect_ratio == 1 and info.display_aspect == pytest.approx(160 / 48)
        assert info.path == str(film) and video.name == "pyav" and video.problems == {}


def test_every_frame_in_order_with_its_index_and_time(film):
    with open_video(film) as video:
        frames = list(video.frames())
        assert [f.index for f in frames] == list(range(50))
        assert [read_index(video.to_rgb(f)) for f in frames] == list(range(50))
        np.testing.assert_allclose([f.time for f in frames], np.arange(50) / 25, atol=1e-6)


@pytest.mark.parametrize(("start", "end", "first", "last"), [
    (0.4, 1.2, 10, 29), (0.41, 1.2, 11, 29), (0.0, 0.04, 0, 0), (1.96, None, 49, 49), (None, 0.4, 0, 9),
])
def test_a_range_is_start_inclusive_end_exclusive_with_film_indices(film, start, end, first, last):
    with open_video(film) as video:
        frames = list(video.frames(start, end))
        assert [f.index for f in frames] == list(range(first, last + 1))
        assert [read_index(video.to_rgb(f)) for f in frames] == list(range(first, last + 1))


def test_a_range_after_the_end_has_no_frames(film):
    with open_video(film) as video:
        assert list(video.frames(3.0, 4.0)) == []


@pytest.mark.parametrize("times", [np.array([0.0, 0.5, 0.5, 1.02, 1.99]), np.array([0.41, 0.43, 1.0])])
def test_the_frame_shown_at_each_time_decoding_only_what_is_needed(film, times):
    """PyAV's frames_at (non-reference frames nobody asked for are skipped) agrees with the
    generic decode-everything rule of the base class."""
    with open_video(film) as video:
        fast = video.frames_at(times, 0.0, None)
        shown = [read_index(video.to_rgb(f)) for f in fast]
        generic = VideoBackend.frames_at(video, times, 0.0, None)
        assert shown == [read_index(video.to_rgb(f)) for f in generic]
    assert shown == [int(np.floor(t * 25 + 1e-6)) for t in times]
    assert [f.index for f in fast] == shown


def test_the_frame_shown_inside_a_range(film):
    with open_video(film) as video:
        got = video.frames_at(np.array([0.3, 0.6, 0.95]), 0.4, 1.0)  # before the range: its first frame
        assert [read_index(video.to_rgb(f)) for f in got] == [10, 15, 23]
        assert [f.index for f in got] == [10, 15, 23]
        with pytest.raises(VideoDecodeError, match=r"no frames in \[3.000, 4.0\)"):
            VideoBackend.frames_at(video, np.array([3.5]), 3.0, 4.0)
        late = video.frames_at(np.array([1.9, 5.0]), 1.8, None)  # past the end: the last frame
        assert [read_index(video.to_rgb(f)) for f in late] == [47, 49]


def test_conversions_to_a_size_and_the_stored_picture(film):
    with open_video(film) as video:
        frame = next(iter(video.frames()))
        assert video.to_rgb(frame).shape == (48, 160, 3)
        assert video.to_rgb(frame, size=(80, 24)).shape == (24, 80, 3)
        assert video.to_rgb(frame, display=False).shape == (48, 160, 3)
        small = video.to_rgb(frame, size=(40, 12), display=False)
        assert small.shape == (12, 40, 3) and small.dtype == np.uint8


def test_what_is_not_a_video_is_named(tmp_path):
    with pytest.raises(VideoDecodeError, match=r"nothing.mp4: no such file"):
        open_video(tmp_path / "nothing.mp4")
    with pytest.raises(VideoDecodeError, match=r": is a directory, not a video file"):
        open_video(tmp_path)
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(VideoDecodeError, match=r"empty.mp4: empty file"):
        open_video(tmp_path / "empty.mp4")
    (tmp_path / "text.mp4").write_text("not a video at all " * 100)
    with pytest.raises(VideoDecodeError, match=r"text.mp4: not a readable video file \("):
        open_video(tmp_path / "text.mp4")
    with pytest.raises(ValueError, match=r"^unknown video backend 'opencv'; available: \['pyav'\]$"):
        open_video(tmp_path / "nothing.mp4", backend="opencv")
    assert {"pyav": PyAVBackend} == BACKENDS


def test_audio_only_files_say_what_they_hold(tmp_path):
    path = tmp_path / "sound.m4a"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 8000
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    with pytest.raises(VideoDecodeError, match=r"sound.m4a: no video stream \(streams: audio\)"):
        open_video(path)


def test_threads_and_reasons(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert default_thread_type() == "SLICE"
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert default_thread_type() == "AUTO"
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert default_thread_type() == "SLICE"

    class Err(Exception):
        strerror = "Invalid data found when processing input: 'x.mp4'"

    assert _reason(Err()) == "Invalid data found when processing input"
    assert _reason(ValueError("plain words")) == "plain words"
    assert _reason(ValueError("")) == "ValueError"


def test_writing_video_needs_frames_and_keeps_its_gop(tmp_path):
    with pytest.raises(ValueError, match=r"nothing.mp4: no frames to write$"):
        write_video(tmp_path / "nothing.mp4", iter([]))
    assert not (tmp_path / "nothing.mp4").exists() and list(tmp_path.iterdir()) == []
    path = write_video(tmp_path / "gop.mp4", (index_frame(i) for i in range(12)), fps=24, gop=4)
    with av.open(str(path)) as container:
        keys = [p.is_keyframe for p in container.demux(container.streams.video[0]) if p.size]
        assert float(container.streams.video[0].average_rate) == 24.0
    assert sum(keys) >= 3  # a keyframe at least every 4 frames
