"""Decoding and frame sampling: exact frames, display geometry, VFR, odd streams, bad files."""

from __future__ import annotations

import av
import numpy as np
import pytest

from shotscope import VideoDecodeError
from shotscope.video.decode import open_video, write_video
from shotscope.video.sampling import sample_frames, sample_times

from .conftest import real_video
from .videos import index_frame, index_video, read_index


def expected_indices(length: int, n: int, views: int = 1) -> np.ndarray:
    offsets = (np.arange(views) + 1) / (views + 1)
    return np.floor((np.arange(n)[None] + offsets[:, None]) * length / n).astype(int)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_video(tmp_path_factory.mktemp("v") / "indexed.mp4", 37, fps=25, gop=12)


def test_index_frames_roundtrip():
    for i in (0, 1, 37, 1023):
        assert read_index(index_frame(i)) == i


@pytest.mark.parametrize("n,views", [(8, 1), (16, 1), (5, 3)])
def test_sampling_returns_exactly_the_expected_frames(indexed, n, views):
    clip = sample_frames(indexed, n, views=views)
    want = expected_indices(37, n, views)
    assert clip.frames.shape == (views, n, 48, 160, 3)
    np.testing.assert_array_equal(clip.indices, want)
    shown = np.array([[read_index(f) for f in view] for view in clip.frames])
    np.testing.assert_array_equal(shown, want)
    np.testing.assert_allclose(clip.times, want / 25.0, atol=1e-6)
    assert not clip.repeated


def test_sampling_inside_a_time_range(indexed):
    clip = sample_frames(indexed, 4, start=0.4, end=1.2)  # frames 10..29
    want = 10 + expected_indices(20, 4)
    np.testing.assert_array_equal([read_index(f) for f in clip.frames[0]], want[0])
    np.testing.assert_array_equal(clip.indices, want)
    assert clip.start == pytest.approx(0.4) and clip.end == pytest.approx(1.2)


def test_short_clip_repeats_frames_and_says_so(tmp_path):
    path = index_video(tmp_path / "short.mp4", 5, fps=25)
    clip = sample_frames(path, 8)
    assert clip.repeated and clip.unique_frames == 5
    shown = [read_index(f) for f in clip.frames[0]]
    assert shown == sorted(shown) and set(shown) == {0, 1, 2, 3, 4}
    np.testing.assert_array_equal(clip.indices[0], shown)


def test_sample_times_spread_views():
    t = sample_times(0.0, 1.0, 4, views=3)
    assert t.shape == (3, 4)
    assert np.all(np.diff(t, axis=1) == pytest.approx(0.25))
    assert t[0, 0] == pytest.approx(0.0625) and t[2, 0] == pytest.approx(0.1875)


def test_gray_and_ten_bit_sources_decode_to_rgb(tmp_path):
    frames = [index_frame(i) for i in range(6)]
    for fmt, codec in (("gray", "libx264"), ("yuv420p10le", "libx264"), ("yuv444p", "libx264")):
        path = tmp_path / f"{fmt}.mp4"
        try:
            write_video(path, frames, codec=codec, pixel_format=fmt)
        except (av.error.FFmpegError, ValueError) as exc:  # an encoder build without this format
            pytest.fail(f"cannot encode {fmt}: {exc}")
        clip = sample_frames(path, 3)
        assert clip.frames.dtype == np.uint8 and clip.frames.shape[-1] == 3
        assert [read_index(f) for f in clip.frames[0]] == [1, 3, 5]


def test_counter_fixture_is_frame_accurate():
    path = real_video("counter.mp4")
    with open_video(path) as video:
        every = [video.to_rgb(f) for f in video.frames()]
    assert len(every) == 30
    clip = sample_frames(path, 6)
    want = expected_indices(30, 6)[0]
    np.testing.assert_array_equal(clip.indices[0], want)
    for frame, i in zip(clip.frames[0], want, strict=True):
        np.testing.assert_array_equal(frame, every[i])
    np.testing.assert_allclose(clip.times[0], want / 10.0, atol=1e-6)  # frame #1 has PTS 0


def test_rotation_gives_portrait_frames():
    video = open_video(real_video("issue-134-rotate.mp4"))
    assert (video.info.stored_width, video.info.stored_height) == (1280, 544)
    assert (video.info.width, video.info.height) == (544, 1280)
    assert "audio" in video.info.other_streams
    clip = sample_frames(video, 2)
    assert clip.frames.shape[2:4] == (1280, 544)
    first = next(iter(video.frames()))
    assert video.to_rgb(first, display=False).shape == (544, 1280, 3)  # the stored picture
    assert video.to_rgb(first, size=(100, 236)).shape == (236, 100, 3)  # sized upright


def test_non_square_pixels_give_display_geometry():
    path = real_video("issue-195-aspect-ratio.mp4")
    info = open_video(path).info
    assert info.display_aspect == pytest.approx(16 / 9, rel=0.01)
    clip = sample_frames(path, 2)
    h, w = clip.frames.shape[2:4]
    assert w / h == pytest.approx(16 / 9, rel=0.01)


def test_variable_frame_rate_frames_belong_to_requested_times():
    path = real_video("goldeneye-vfr-drop3.mp4")
    with open_video(path) as video:
        frames = list(video.frames())
        times = np.array([f.time for f in frames])
    assert len(times) == 160 and np.ptp(np.diff(times)) > 0.02  # really variable
    assert [f.index for f in frames] == list(range(160))  # decode order from the start, not time x rate
    info = open_video(path).info  # its average rate (not the nominal 23.976), its own frame count
    assert info.fps == pytest.approx(3840000 / 239239) and (info.frame_count, info.frame_count_exact) == (160, True)
    clip = sample_frames(path, 8, start=3.0, end=6.0)
    targets = sample_times(3.0, 6.0, 8)[0]
    for got, target in zip(clip.times[0], targets, strict=True):
        shown = times[times <= target + 1e-6].max()  # the frame on screen at that time
        assert got == pytest.approx(shown)
        assert 3.0 - 1e-6 <= got < 6.0


def test_container_with_many_streams():
    video = open_video(real_video("issue-236-split-copy.mkv"))
    assert {"audio", "subtitle", "attachment"} <= set(video.info.other_streams)
    clip = sample_frames(video, 4)
    assert clip.frames.shape == (1, 4, 1080, 1920, 3)
    assert clip.frames.std() > 5  # real picture, not blank


def test_bad_files_give_one_typed_error(tmp_path):
    cases = {}
    cases["missing.mp4"] = ("no such file", None)
    (tmp_path / "empty.mp4").write_bytes(b"")
    cases["empty.mp4"] = ("empty file", None)
    (tmp_path / "notes.mp4").write_text("this is not a video\n" * 50)
    cases["notes.mp4"] = ("not a readable video file", None)
    audio = tmp_path / "audio.wav"
    with av.open(str(audio), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    cases["audio.wav"] = ("no video stream", None)
    good = index_video(tmp_path / "good.mp4", 30)
    (tmp_path / "truncated.mp4").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    cases["truncated.mp4"] = ("not a readable video file", None)
    for name, (reason, _) in cases.items():
        with pytest.raises(VideoDecodeError) as err:
            sample_frames(tmp_path / name, 4)
        assert name in str(err.value) and reason in str(err.value), str(err.value)
        assert err.value.reason.startswith(reason)


def test_truncated_stream_keeps_what_decodes(tmp_path):
    good = index_video(tmp_path / "good.mkv", 60, gop=10)
    data = good.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with open_video(cut) as video:
        shown = [read_index(video.to_rgb(f)) for f in video.frames()]
    assert 10 <= len(shown) < 60
    assert shown == list(range(len(shown)))


def test_damage_mid_stream_skips_with_a_warning_and_decodes_the_rest(tmp_path):
    good = index_video(tmp_path / "good.mp4", 60, gop=10)
    data = bytearray(good.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 300] = b"\x00\x00\x01" + b"\xff" * 297  # garbage inside the picture data
    bad = tmp_path / "damaged.mp4"
    bad.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match=r"damaged.mp4: skipped a packet"), open_video(bad) as video:
        shown = [read_index(video.to_rgb(f)) for f in video.frames()]
    assert len(shown) >= 40
    assert shown[:20] == list(range(20)) and shown[-1] == 59  # before and after the damage
    with pytest.warns(UserWarning, match="damaged.mp4"):
        clip = sample_frames(bad, 8)  # sampling still returns a full clip
    assert clip.frames.shape[:2] == (1, 8)


def test_a_clip_of_a_film_whose_container_understates_its_length_ends_after_its_last_frame(tmp_path):
    """A container's duration can be missing or short (streamed recordings): a whole-film clip then
    ends one frame after the last frame decoded, not at the stated duration."""
    import dataclasses

    path = index_video(tmp_path / "a.mp4", 10, fps=10.0)
    with open_video(path) as vid:
        assert sample_frames(vid, 4).end == pytest.approx(1.0)  # as stated
        vid._info = dataclasses.replace(vid.info, duration=0.0)  # as such a container states it
        clip = sample_frames(vid, 4)
    # nothing stated: as many frames from the start as asked for, ending one frame after the last of them
    np.testing.assert_allclose(clip.times, [[0.0, 0.1, 0.2, 0.3]], atol=1e-6)
    assert clip.end == pytest.approx(0.4)
