"""The decoder's contract, frame by frame, on files whose frames carry their own index: what a
file says about itself, ranges, the frame shown at a time (decoding only what is needed or all),
conversions, and the messages for what is not a video. (Rotation and non-square pixels: real
files, in test_video.py.)"""

from __future__ import annotations

import os
import re
from fractions import Fraction

import av
import numpy as np
import pytest

from shotscope import VideoDecodeError
from shotscope.video.decode import (
    BACKENDS,
    PyAVBackend,
    VideoBackend,
    _reason,
    default_thread_type,
    open_video,
    write_video,
)

from .conftest import real_video
from .videos import BAR, BITS, encode_stream, index_frame, index_video, read_index, turned_mp4


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
    with pytest.raises(VideoDecodeError, match=r"text.mp4: not a readable video file \(Invalid data found when "
                                               r"processing input\)$"):
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


# --- containers whose times start late, streams without times, damage, the fast path ---------------

@pytest.fixture(scope="module")
def ts_film(tmp_path_factory):
    """MPEG-TS (broadcast captures, camera files): its times start late (about 0.08 s here, often
    more), and its demuxer seeks by decoding times."""
    return index_video(tmp_path_factory.mktemp("ts") / "film.ts", 60, fps=25, gop=10)


def test_an_mpeg_ts_film_decodes_from_its_first_frame_at_time_zero(ts_film):
    with open_video(ts_film) as video:
        assert video.info.start_time > 0.05
        frames = list(video.frames())
        assert [f.index for f in frames] == [read_index(video.to_rgb(f)) for f in frames] == list(range(60))
        np.testing.assert_allclose([f.time for f in frames], np.arange(60) / 25, atol=1e-6)
        assert [read_index(video.to_rgb(f)) for f in video.frames()][:3] == [0, 1, 2]  # again, after a full read


@pytest.mark.parametrize(("start", "end", "first", "last"), [(0.4, 0.8, 10, 19), (0.41, 0.8, 11, 19),
                                                             (0.8, 1.2, 20, 29), (1.2, None, 30, 59)])
def test_mpeg_ts_ranges_seek_back_far_enough_for_their_first_frames(ts_film, start, end, first, last):
    """A seek to a keyframe's time lands past it in MPEG-TS (every frame to the next keyframe was lost)."""
    with open_video(ts_film) as video:
        frames = list(video.frames(start, end))
        assert [read_index(video.to_rgb(f)) for f in frames] == [f.index for f in frames] == \
            list(range(first, last + 1))
        times = np.array([start, start + 0.1, 2.3])
        got = [read_index(video.to_rgb(f)) for f in video.frames_at(times, start, None)]
        assert got == [max(first, int(np.floor(t * 25 + 1e-6))) for t in times] == \
            [read_index(video.to_rgb(f)) for f in VideoBackend.frames_at(video, times, start, None)]


def test_a_raw_stream_without_times_or_seeking_decodes_by_frame_rate(tmp_path):
    path = encode_stream(tmp_path / "camera.h264", 30, fps=30, container="h264")
    with open_video(path) as video:
        assert video.info.fps == 30.0  # the stream's own rate, not the demuxer's default of 25
        frames = list(video.frames())
        assert all(f.frame.pts is None for f in frames)  # what the stream gives: no times
        assert [read_index(video.to_rgb(f)) for f in frames] == [f.index for f in frames] == list(range(30))
        np.testing.assert_allclose([f.time for f in frames], np.arange(30) / 30)
        part = list(video.frames(0.4, 0.6))  # it cannot seek: decoded from its start, the rest skipped
        assert [read_index(video.to_rgb(f)) for f in part] == [f.index for f in part] == [12, 13, 14, 15, 16, 17]
        got = video.frames_at(np.array([0.3, 0.5, 0.9]), 0.2, 0.8)  # no packet times: every frame decoded
        assert [read_index(video.to_rgb(f)) for f in got] == [f.index for f in got] == [9, 15, 23]  # 23: the last


def test_frames_at_decodes_only_the_frames_it_needs(film, monkeypatch):
    with open_video(film) as video:
        monkeypatch.setattr(video, "frames", lambda *a: pytest.fail("decoded every frame"))
        times = np.array([0.1, 0.5, 1.0])
        got = video.frames_at(times, 0.0, None)
        assert [read_index(video.to_rgb(f)) for f in got] == [f.index for f in got] == [2, 12, 25]
        decoded = []
        real = video._decode_wanted
        monkeypatch.setattr(video, "_decode_wanted", lambda *a: (decoded.append(f) or f for f in real(*a)))
        video.frames_at(times, 0.0, None)
        assert sorted(f.time for f in decoded) == pytest.approx([0.08, 0.48, 1.0])


def test_packet_times_are_read_until_a_second_past_the_end(film, monkeypatch):
    with open_video(film) as video:
        read = []
        real = video._packets
        monkeypatch.setattr(video, "_packets", lambda: (read.append(p) or p for p in real()))
        times = video._presentation_times(0.0, 0.2)
        np.testing.assert_allclose(times, np.arange(5) / 25, atol=1e-6)
        dts = [float(p.dts * p.time_base) for p in read if p.dts is not None]
        assert max(dts[:-1]) < 1.2 <= dts[-1] and len(read) < 40  # stopped at the first packet past 1.2 s


def test_the_generic_rule_keeps_to_its_range(film):
    with open_video(film) as video:
        got = VideoBackend.frames_at(video, np.array([0.3, 0.6, 0.95]), 0.4, 0.8)
        # before the range: its first frame; past its end: its last (19 at 0.76 s), not the film's
        assert [read_index(video.to_rgb(f)) for f in got] == [10, 15, 19]
        with pytest.raises(VideoDecodeError, match=r"film.mp4: no frames in \[3.000, end\)$"):
            VideoBackend.frames_at(video, np.array([3.5]), 3.0, None)
        with pytest.raises(VideoDecodeError, match=r"film.mp4: no frames in \[3.000, end\)$"):
            video.frames_at(np.array([3.5]), 3.0, None)  # nothing there: the generic rule says so


def test_a_file_with_no_decodable_frame_says_so_and_each_damage_is_warned_once(tmp_path):
    from shotscope.errors import ShotscopeWarning

    good = index_video(tmp_path / "good.mp4", 30)
    data = bytearray(good.read_bytes())
    start, end = data.find(b"mdat") + 4, data.find(b"moov") - 4  # every picture's bytes zeroed
    data[start:end] = bytes(end - start)
    bad = tmp_path / "zeroed.mp4"
    bad.write_bytes(bytes(data))
    message = r"zeroed.mp4: no decodable video frames \(truncated or corrupt\)$"
    with pytest.warns(ShotscopeWarning) as caught, open_video(bad) as video, pytest.raises(VideoDecodeError,
                                                                                          match=message):
        for _ in video.frames():
            pass
    assert len(caught) == len(video.problems) >= 1  # one warning per kind of damage ...
    assert sum(video.problems.values()) > len(video.problems)  # ... however often it is met
    assert all(str(bad) in str(w.message) and "(None)" not in str(w.message) for w in caught)


def test_writing_video_defaults_and_quality(tmp_path):
    frames = [index_frame(i).astype(np.int64) for i in range(10)]  # any integer array of 0..255
    path = write_video(tmp_path / "default.mp4", frames)
    with open_video(path) as video:
        assert video.info.fps == 25.0 and video.info.frame_count == 10
        assert [read_index(video.to_rgb(f)) for f in video.frames()] == list(range(10))
    noisy = [np.random.default_rng(i).integers(0, 256, (48, 160, 3), dtype=np.uint8) for i in range(5)]
    sizes = {crf: write_video(tmp_path / f"crf{crf}.mp4", noisy, crf=crf).stat().st_size for crf in (18, 40)}
    assert sizes[40] < sizes[18] / 2  # the quality setting reaches the encoder
    # crf 18 by default: x264 writes its settings into the stream (sizes alone vary by a few bytes
    # from one encode to the next with threads, so they cannot tell)
    default = write_video(tmp_path / "same.mp4", noisy).read_bytes()
    assert b" crf=18.0 " in default and b" crf=18.0 " in (tmp_path / "crf18.mp4").read_bytes()
    assert b" crf=40.0 " in (tmp_path / "crf40.mp4").read_bytes()


def test_what_late_starting_and_unsized_streams_say_about_themselves(ts_film, tmp_path):
    with open_video(ts_film) as video:  # MPEG-TS: times start late; no frame count in the file
        info = video.info
        assert info.start_time == pytest.approx(0.08, abs=0.005)
        assert info.duration == pytest.approx(2.4, abs=0.01)
        assert (info.frame_count, info.frame_count_exact, info.fps) == (60, False, 25.0)
    mkv = index_video(tmp_path / "film.mkv", 45, fps=30)  # Matroska: the duration is the container's
    with open_video(mkv) as video:
        assert video.info.duration == 1.5 and video.info.start_time == 0.0  # 1,500,000 microseconds
        assert (video.info.frame_count, video.info.frame_count_exact, video.info.fps) == (45, False, 30.0)
    late = encode_stream(tmp_path / "late.mkv", 30, fps=25, first_frame_time=50)  # Matroska starting at 2 s
    with open_video(late) as video:  # the container's duration runs to its end: the length is from the start
        assert (video.info.start_time, video.info.duration, video.info.frame_count) == (2.0, pytest.approx(1.2), 30)
        assert [read_index(video.to_rgb(f)) for f in video.frames()] == list(range(30))


@pytest.mark.parametrize(("sar", "width"), [(Fraction(8, 9), 142), (Fraction(2, 1), 320)])
def test_non_square_pixels_are_shown_at_their_display_width(tmp_path, sar, width):
    path = encode_stream(tmp_path / "anamorphic.mp4", 3, sample_aspect_ratio=sar)
    with open_video(path) as video:
        info = video.info
        assert (info.width, info.height, info.stored_width, info.sample_aspect_ratio) == (width, 48, 160, sar)
        frame = next(iter(video.frames()))
        assert video.to_rgb(frame).shape == (48, width, 3)
        assert video.to_rgb(frame, display=False).shape == (48, 160, 3)


def test_pictures_are_reduced_by_area_averaging(tmp_path):
    stripes = np.zeros((48, 160, 3), np.uint8)
    stripes[:, ::4] = 255  # one bright column in four: averaged by area, aliased by sampling
    path = write_video(tmp_path / "stripes.mp4", [stripes] * 3)
    with open_video(path) as video:
        frame = next(iter(video.frames()))
        for small in (video.to_rgb(frame, size=(40, 12)), video.to_rgb(frame, size=(40, 12), display=False)):
            assert small.shape == (12, 40, 3)
            assert small[..., 0].mean() == pytest.approx(64, abs=4) and small[..., 0].std() < 2.5


def test_a_file_without_video_lists_what_it_holds(tmp_path):
    source = real_video("issue-236-split-copy.mkv")
    path = tmp_path / "no-video.mkv"
    with av.open(str(source)) as src, av.open(str(path), "w") as out:
        kept = {s.index: out.add_stream_from_template(s) for s in src.streams if s.type in ("audio", "subtitle")}
        for packet in src.demux([s for s in src.streams if s.index in kept]):
            if packet.dts is not None:
                packet.stream = kept[packet.stream.index]
                out.mux(packet)
    with pytest.raises(VideoDecodeError, match=r"no-video.mkv: no video stream \(streams: audio, subtitle\)$"):
        open_video(path)


def test_options_reach_the_decoder_and_messages_name_the_file(film, tmp_path, monkeypatch):
    with open_video(film, threads=1, thread_type="FRAME") as video:
        assert (video._stream.thread_count, video._stream.thread_type.name) == (1, "FRAME")
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert default_thread_type() == "AUTO"
    with pytest.raises(VideoDecodeError, match=re.escape(str(tmp_path)) + r": is a directory, not a video file$"):
        open_video(tmp_path)


def test_the_fast_path_reads_and_decodes_no_further_than_it_must(film, ts_film, monkeypatch):
    for path, times in ((film, np.arange(1, 10) / 25 + 0.01), (ts_film, np.array([0.05, 0.5, 1.01, 2.0]))):
        with open_video(path) as video:
            monkeypatch.setattr(video, "frames", lambda *a: pytest.fail("fell back to decoding every frame"))
            got = video.frames_at(times, 0.0, None)
            assert [read_index(video.to_rgb(f)) for f in got] == [f.index for f in got] == \
                [int(t * 25) for t in times]
            inside = video.frames_at(np.array([0.3, 0.9]), 0.2, 0.8)  # past the range's end: its last frame
            assert [read_index(video.to_rgb(f)) for f in inside] == [f.index for f in inside] == [7, 19]
    with open_video(film) as video:
        read = []
        real = video._packets
        monkeypatch.setattr(video, "_packets", lambda: (read.append(p) or p for p in real()))
        list(video._decode_wanted(0.0, {0.08}))
        assert len(read) < 10  # stops once what it wanted is decoded
        read.clear()
        (frame,) = video._decode_wanted(1.6, {1.72})
        assert frame.time == pytest.approx(1.72) and read_index(video.to_rgb(frame)) == 43
        assert len(read) < 20  # from the keyframe before 1.6 s, not from the start


def test_damage_met_by_the_fast_path_is_counted_and_named(tmp_path):
    good = index_video(tmp_path / "good.mp4", 60, gop=10)
    data = bytearray(good.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 300] = b"\x00\x00\x01" + b"\xff" * 297
    bad = tmp_path / "damaged.mp4"
    bad.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match=r"damaged.mp4: skipped a packet that failed to decode \(\w"), \
            open_video(bad) as video:
        times = np.array([0.1, 2.3])  # before and after the damage
        got = [read_index(video.to_rgb(f)) for f in video.frames_at(times, 0.0, None)]
        assert got[0] == 2 and got == [read_index(video.to_rgb(f))
                                       for f in VideoBackend.frames_at(video, times, 0.0, None)]
    (kind,) = video.problems
    assert kind.startswith("skipped a packet that failed to decode (") and "None" not in kind


def test_a_file_whose_pictures_do_not_decode_has_no_rotation(tmp_path):
    good = index_video(tmp_path / "good.mp4", 30)
    data = bytearray(good.read_bytes())
    start, end = data.find(b"mdat") + 4, data.find(b"moov") - 4
    data[start:end] = bytes(end - start)
    (tmp_path / "zeroed.mp4").write_bytes(bytes(data))
    with open_video(tmp_path / "zeroed.mp4") as video:
        assert video.info.rotation == 0 and (video.info.width, video.info.height) == (160, 48)


def test_a_seek_lands_at_the_keyframe_before_its_start_not_at_the_film_start(film, ts_film):
    for path, start, lands in ((film, 1.2, (1.2, 1.2)), (film, 0.5, (0.4, 0.4)), (ts_film, 1.2, (0.1, 1.2))):
        with open_video(path) as video:
            assert video._seek(start) is False
            tb, t0 = float(video._stream.time_base), video.info.start_time
            first = video._first_packet_time() * tb - t0
            assert lands[0] - 1e-6 <= first <= lands[1] + 1e-6, (path.name, start, first)
            assert video._seek(0.0) is True and video._first_packet_time() * tb - t0 <= 1e-6


def test_each_kind_of_damage_is_warned_the_first_time_and_counted_every_time(film):
    from shotscope.errors import ShotscopeWarning

    with open_video(film) as video:
        with pytest.warns(ShotscopeWarning) as caught:
            video._problem("stopped reading (x)")
            video._problem("stopped reading (x)")
            video._problem("skipped a packet")
        assert [str(w.message) for w in caught] == [f"{film}: stopped reading (x)", f"{film}: skipped a packet"]
        assert video.problems == {"stopped reading (x)": 2, "skipped a packet": 1}


def test_what_a_raw_stream_cannot_say(tmp_path):
    path = encode_stream(tmp_path / "camera.h264", 5, fps=30, container="h264")
    with open_video(path) as video:  # no times, no duration, no count: a single frame is all it promises
        info = video.info
        assert (info.start_time, info.duration, info.frame_count, info.frame_count_exact) == (0.0, 0.0, 1, False)


def test_a_rotated_film_is_shown_upright():
    """issue-134-rotate.mp4 is stored 1280x544 with a display rotation of 270 degrees; shown, it is
    the stored picture turned three quarters counterclockwise (checked by looking: the face on the
    phone screen it films is upright)."""
    with open_video(real_video("issue-134-rotate.mp4")) as video:
        assert video.info.rotation == 270
        frame = next(iter(video.frames(3.0)))
        np.testing.assert_array_equal(video.to_rgb(frame), np.rot90(video.to_rgb(frame, display=False), k=3))


def test_a_film_turned_a_quarter_is_shown_turned_and_converted_to_upright_sizes(tmp_path):
    """A portrait recording (rotation 90): its display size is the stored one swapped, its pictures
    are the stored ones turned a quarter counterclockwise, and a size asked for is the upright one."""
    stored = index_video(tmp_path / "stored.mp4", 4)  # 160x48, bars left to right
    path = turned_mp4(stored, tmp_path / "portrait.mp4", 1)
    with open_video(path) as video:
        info = video.info
        assert (info.rotation, info.stored_width, info.stored_height, info.width, info.height) == (90, 160, 48, 48, 160)
        frame = next(iter(video.frames()))
        flat = video.to_rgb(frame, display=False)
        np.testing.assert_array_equal(video.to_rgb(frame), np.rot90(flat, k=1))
        assert video.to_rgb(frame, size=(24, 80)).shape == (80, 24, 3)  # (width, height) upright
    with open_video(turned_mp4(stored, tmp_path / "other.mp4", -1)) as video:
        assert (video.info.rotation, video.info.width, video.info.height) == (270, 48, 160)


def test_a_file_cut_before_its_first_stream_says_it_has_none(tmp_path):
    """A download stopped early, its index first: FFmpeg finds the container but no stream in it."""
    from .faults import cut_short, faststart_copy

    short = cut_short(faststart_copy(index_video(tmp_path / "film.mp4", 30), tmp_path / "web.mp4"),
                      tmp_path / "short.mp4", 0.05)
    with pytest.raises(VideoDecodeError, match=rf"^{re.escape(str(short))}: no video stream \(streams: none\)$"):
        open_video(short)


def test_a_file_cut_inside_its_first_pictures_opens_upright_and_says_it_has_no_frames(tmp_path):
    """A Matroska download stopped a few bytes into its first cluster: the header says what the
    stream is; no picture decodes, so there is no turn to read (upright) and decoding says why."""
    data = index_video(tmp_path / "film.mkv", 30).read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[:data.index(b"\x1f\x43\xb6\x75") + 10])  # the first Cluster's ID, and 6 bytes
    with open_video(cut) as video:
        assert (video.info.rotation, video.info.width, video.info.height) == (0, BITS * BAR, 48)
        with pytest.raises(VideoDecodeError, match="no decodable video frames"):
            list(video.frames())


def test_a_header_without_a_picture_width_is_named_corrupt(tmp_path):
    """Uncompressed video in AVI takes its picture size from the header alone (no codec data to
    read it from): a header whose width is zero is a corrupt file, said so with its path."""
    import struct

    path = tmp_path / "raw.avi"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("rawvideo", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), 40 * i, np.uint8),
                                                                   format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with open_video(path) as video:
        assert (video.info.width, video.info.height) == (64, 48)
    data = bytearray(path.read_bytes())
    for chunk, at in ((b"avih", 32), (b"strf", 4)):  # the main header's and the stream's picture width
        offset = data.index(chunk) + 8 + at
        data[offset:offset + 4] = struct.pack("<I", 0)
    zero = tmp_path / "zero.avi"
    zero.write_bytes(bytes(data))
    with pytest.raises(VideoDecodeError, match=rf"^{re.escape(str(zero))}: video stream has no frame size "
                                               r"\(corrupt header\)$"):
        open_video(zero)
