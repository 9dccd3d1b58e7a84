"""Decoding: open a video, read its geometry and timing, and decode frames in order.

The backend is an abstract class; :class:`PyAVBackend` (FFmpeg bundled in the ``av``
wheels, no system libraries) is the one shipped. Frames come out in display geometry:
rotation side data and non-square pixels are applied; any pixel format becomes RGB24.
"""

from __future__ import annotations

import abc
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import ShotscopeWarning, VideoDecodeError

_EPS = 1e-6



# what a video file may be called (FFmpeg's video containers and raw streams): the archive serves no other
VIDEO_SUFFIXES = frozenset(
    [".mp4", ".m4v", ".mov", ".qt", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".m2v", ".mpv", ".ts", ".mts", ".m2ts", ".tsv", ".vob", ".ogv", ".ogg", ".ogm", ".wmv", ".asf", ".flv", ".f4v", ".3gp", ".3g2", ".mxf", ".dv", ".dif", ".y4m", ".nut", ".rm", ".rmvb", ".divx", ".xvid", ".h264", ".264", ".hevc", ".h265", ".265", ".ivf", ".gif", ".apng", ".mjpeg", ".mjpg", ".avs", ".yuv", ".r3d", ".braw", ".cine", ".wtv", ".dvr-ms", ".amv", ".mod", ".tod"])


# the ones a folder given to analyze is searched for (a folder holds other files with some of the rest)
FOLDER_SUFFIXES = frozenset([".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".mxf", ".wmv", ".flv"])


@dataclass(frozen=True)
class VideoInfo:
    """What a video file says about itself (display geometry, timing, streams)."""

    path: str
    width: int  # display width (after rotation and sample aspect ratio)
    height: int
    stored_width: int
    stored_height: int
    sample_aspect_ratio: Fraction
    rotation: int  # degrees counter-clockwise to apply for display (0, 90, 180, 270)
    fps: float  # average frame rate
    duration: float  # seconds, from the container or stream header
    frame_count: int  # from the header, or estimated from duration x fps when absent
    frame_count_exact: bool
    start_time: float
    codec: str
    pixel_format: str
    other_streams: tuple[str, ...] = field(default_factory=tuple)

    @property
    def display_aspect(self) -> float:
        return self.width / self.height


@dataclass
class DecodedFrame:
    """One decoded frame: its index in the stream, its presentation time, and the raw frame."""

    index: int
    time: float
    frame: object  # backend frame; convert with VideoBackend.to_rgb


class VideoBackend(abc.ABC):
    """A decoder for one file. Subclasses decode frames in presentation order."""

    name: str = "abstract"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.problems: dict[str, int] = {}

    @property
    @abc.abstractmethod
    def info(self) -> VideoInfo: ...

    @abc.abstractmethod
    def frames(self, start: float | None = None, end: float | None = None) -> Iterator[DecodedFrame]:
        """Decoded frames whose presentation time lies in ``[start, end)`` (seconds), in order."""

    @abc.abstractmethod
    def to_rgb(self, frame: DecodedFrame, size: tuple[int, int] | None = None, display: bool = True) -> np.ndarray:
        """The frame as uint8 RGB (H, W, 3). ``display``: rotation and sample aspect ratio applied;
        ``size`` (width, height, in display orientation): area-averaged to that size on the way.
        ``display=False``: the stored picture as is (what PySceneDetect's detectors see)."""

    def frames_at(self, times: np.ndarray, start: float, end: float | None) -> list[DecodedFrame]:
        """For each time (ascending), the frame shown then: the last one whose time is <= it
        (the first frame for times before it). Decodes ``[start, end)`` in order."""
        chosen: list[DecodedFrame] = []
        prev: DecodedFrame | None = None
        for frame in self.frames(start if start > 0 else None, end):
            if prev is not None:
                while len(chosen) < len(times) and times[len(chosen)] < frame.time - _EPS:
                    chosen.append(prev)
            prev = frame
            if len(chosen) == len(times):
                break
        if prev is None:
            raise VideoDecodeError(self.path, f"no frames in [{start:.3f}, {end if end is not None else 'end'})")
        chosen += [prev] * (len(times) - len(chosen))
        return chosen

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> VideoBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_file(path: Path) -> None:
    if not path.exists():
        raise VideoDecodeError(path, "no such file")
    if path.is_dir():
        raise VideoDecodeError(path, "is a directory, not a video file")
    if path.stat().st_size == 0:
        raise VideoDecodeError(path, "empty file")


class PyAVBackend(VideoBackend):
    """FFmpeg through PyAV (bundled in its wheels); threading as :func:`default_thread_type` says."""

    name = "pyav"

    def __init__(self, path: str | os.PathLike, threads: int = 0, thread_type: str | None = None):
        super().__init__(path)
        import av

        self._av = av
        _check_file(self.path)
        self._threads = (threads, thread_type or default_thread_type())
        self._open()
        self._rotation: int  # both set by _read_info, from the file
        self._display_size: tuple[int, int]
        try:
            self._info = self._read_info()  # a bad header fails here, naming the file
        except BaseException:
            self._container.close()
            raise

    def _open(self) -> None:
        av = self._av
        try:
            self._container = av.open(str(self.path))
        except av.error.FFmpegError as exc:
            raise VideoDecodeError(self.path, f"not a readable video file ({_reason(exc)})") from None
        if not self._container.streams.video:
            kinds = sorted({s.type for s in self._container.streams}) or ["none"]
            self._container.close()
            raise VideoDecodeError(self.path, f"no video stream (streams: {', '.join(kinds)})")
        self._stream = self._container.streams.video[0]
        self._stream.thread_count, self._stream.thread_type = self._threads

    # -- metadata ---------------------------------------------------------------------------
    @property
    def info(self) -> VideoInfo:
        return self._info

    def _read_info(self) -> VideoInfo:
        s, c = self._stream, self._container
        cc = s.codec_context
        rate = s.average_rate or s.guessed_rate or s.base_rate
        if c.format.name in _RAW_STREAMS and s.guessed_rate:
            rate = s.guessed_rate  # no container: the average is the demuxer's default (25), the stream says
        fps = float(rate) if rate else 25.0
        tb = s.time_base
        start = float(s.start_time * tb) if s.start_time is not None and tb else 0.0
        if s.duration and tb:
            duration = float(s.duration * tb)
        elif c.duration:
            duration = c.duration / 1_000_000 - start
        else:
            duration = 0.0
        exact = bool(s.frames)
        count = int(s.frames) if s.frames else max(1, round(duration * fps))
        sar = cc.sample_aspect_ratio or s.sample_aspect_ratio
        sar = Fraction(sar) if sar and sar > 0 else Fraction(1)
        self._rotation = self._probe_rotation()
        w, h = cc.width, cc.height
        if not w or not h:
            raise VideoDecodeError(self.path, "video stream has no frame size (corrupt header)")
        disp_w = max(2, round(w * sar)) if sar != 1 else w
        self._display_size = (disp_w, h)
        dw, dh = (h, disp_w) if self._rotation in (90, 270) else (disp_w, h)
        others = tuple(st.type for st in c.streams if st.index != s.index)
        return VideoInfo(
            path=str(self.path), width=dw, height=dh, stored_width=w, stored_height=h,
            sample_aspect_ratio=sar, rotation=self._rotation, fps=fps, duration=duration,
            frame_count=count, frame_count_exact=exact, start_time=start, codec=cc.name,
            pixel_format=cc.pix_fmt or "unknown", other_streams=others,
        )

    def _probe_rotation(self) -> int:
        """Rotation from the display matrix, read off the first frame (then seek back)."""
        try:
            for frame in self._container.decode(self._stream):
                rot = int(round(getattr(frame, "rotation", 0) or 0))
                break
            else:
                rot = 0
        except self._av.error.FFmpegError:
            rot = 0
        self._rewind()
        return rot % 360

    def _rewind(self) -> None:
        """Back to the first packet. (Not a seek to the stream's start time: in MPEG-TS, whose times
        start late, that lands past the first keyframe, and every frame up to the next is lost.)"""
        try:
            self._container.seek(min(self._stream.start_time or 0, 0), stream=self._stream, any_frame=False,
                                 backward=True)
        except self._av.error.FFmpegError:  # a stream that cannot seek (raw H.264): open it again
            self._container.close()
            self._open()

    # -- decoding -------------------------------------------------------------------------------
    def _problem(self, text: str) -> None:
        """Damage met while decoding: warned once per kind, counted in ``problems``."""
        self.problems[text] = self.problems.get(text, 0) + 1
        if self.problems[text] == 1:
            warnings.warn(f"{self.path}: {text}", ShotscopeWarning, stacklevel=2)

    def frames(self, start: float | None = None, end: float | None = None) -> Iterator[DecodedFrame]:
        info = self.info
        s = self._stream
        tb = float(s.time_base)
        stream_start = info.start_time
        from_start = self._seek(start)
        count = decoded = 0  # frames given, frames decoded
        for packet in self._packets():
            try:
                frames = packet.decode()
            except self._av.error.FFmpegError as exc:
                self._problem(f"skipped a packet that failed to decode ({_reason(exc)})")
                continue
            for frame in frames:
                # without times (a raw stream, decoded from its start): the frame's place at the frame rate
                t = frame.pts * tb - stream_start if frame.pts is not None else decoded / info.fps
                decoded += 1
                if start is not None and t < start - 1e-6:
                    continue
                if end is not None and t >= end - 1e-6:
                    return
                index = count if from_start else int(round(t * info.fps))
                count += 1
                yield DecodedFrame(index=index, time=t, frame=frame)
        if not decoded:
            raise VideoDecodeError(self.path, "no decodable video frames (truncated or corrupt)")

    def frames_at(self, times: np.ndarray, start: float, end: float | None) -> list[DecodedFrame]:
        """As the base class, but frames nobody asked for are not decoded when no other frame
        depends on them (non-reference B-frames are skipped). Packet times are read first (a
        demux pass, no decoding) to know exactly which frames are shown at the requested times."""
        shown = self._presentation_times(start, end)
        if shown is None or len(shown) == 0:
            return super().frames_at(times, start, end)
        pos = np.searchsorted(shown, np.asarray(times) + _EPS, side="right") - 1
        pos = np.clip(pos, 0, len(shown) - 1)
        wanted = set(shown[pos].tolist())
        got: dict[float, DecodedFrame] = {}
        for frame in self._decode_wanted(start, wanted):
            got[frame.time] = frame
        if not wanted <= set(got):  # a decoder that ignored the request: decode everything
            return super().frames_at(times, start, end)
        first_index = 0 if start <= 1e-6 else int(round(shown[0] * self.info.fps))
        out = []
        for p in pos:
            frame = got[shown[p]]
            frame.index = first_index + int(p)
            out.append(frame)
        return out

    def _packets(self) -> Iterator:
        """Demuxed packets of the video stream; a read error mid-file ends the stream with a
        warning (what was read stays usable)."""
        demux = self._container.demux(self._stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                return
            except self._av.error.FFmpegError as exc:
                self._problem(f"stopped reading ({_reason(exc)})")
                return
            yield packet

    def _seek(self, start: float | None) -> bool:
        """Go to the keyframe at or before ``start`` (True: from the first frame). A demuxer that
        seeks by decoding times (MPEG-TS) can land past the keyframe whose frames are shown at
        ``start``: the first packet then shows a later time, and the seek goes further back."""
        if start is None or start <= 1e-6:
            self._rewind()
            return True
        s = self._stream
        tb = float(s.time_base)
        target = (start + self.info.start_time) / tb
        try:
            for back in _SEEK_BACK:
                position = int(target - back / tb)
                self._container.seek(position, stream=s, backward=True, any_frame=False)
                first = self._first_packet_time()
                if first is None or first <= target + _EPS / tb:
                    self._container.seek(position, stream=s, backward=True, any_frame=False)  # before that packet
                    return False
        except self._av.error.FFmpegError:
            pass  # a stream that cannot seek: from its start, the frames before ``start`` are skipped
        self._rewind()
        return False

    def _first_packet_time(self) -> int | None:
        """The presentation time of the next packet with one (in time-base units); None: none left."""
        try:
            for packet in self._container.demux(self._stream):
                if packet.size and packet.pts is not None:
                    return packet.pts
        except self._av.error.FFmpegError:
            return None
        return None

    def _presentation_times(self, start: float, end: float | None) -> np.ndarray | None:
        """Sorted presentation times of the frames in [start, end), from packets alone."""
        tb, t0 = float(self._stream.time_base), self.info.start_time
        self._seek(start)
        times = []
        for packet in self._packets():
            if packet.size == 0:
                continue
            if packet.pts is None:
                return None
            t = packet.pts * tb - t0
            if end is not None and packet.dts is not None and packet.dts * tb - t0 >= end + 1.0:
                break
            if t >= start - _EPS and (end is None or t < end - _EPS):
                times.append(t)
        return np.array(sorted(set(times)))

    def _decode_wanted(self, start: float, wanted: set[float]) -> Iterator[DecodedFrame]:
        """The frames shown at ``wanted`` times, decoded from the keyframe before ``start``; frames no
        other depends on and nobody asked for are skipped."""
        tb, t0 = float(self._stream.time_base), self.info.start_time
        cc = self._stream.codec_context
        self._seek(start)
        remaining = set(wanted)
        try:
            for packet in self._packets():
                if not remaining:
                    break
                needed = packet.pts is not None and (packet.pts * tb - t0) in wanted
                cc.skip_frame = "DEFAULT" if needed else "NONREF"
                try:
                    decoded = packet.decode()
                except self._av.error.FFmpegError as exc:
                    self._problem(f"skipped a packet that failed to decode ({_reason(exc)})")
                    continue
                for frame in decoded:
                    if frame.pts is None:
                        continue
                    t = frame.pts * tb - t0
                    if t in remaining:
                        remaining.discard(t)
                        yield DecodedFrame(index=-1, time=t, frame=frame)
        finally:
            cc.skip_frame = "DEFAULT"

    def to_rgb(self, frame: DecodedFrame, size: tuple[int, int] | None = None, display: bool = True) -> np.ndarray:
        av_frame = frame.frame
        if not display:
            if size is not None:  # the stored picture, area-reduced (what TransNetV2 reads at 48x27)
                return av_frame.reformat(width=size[0], height=size[1], format="rgb24",
                                         interpolation="AREA").to_ndarray()
            return av_frame.to_ndarray(format="rgb24")
        if size is not None:  # given upright: convert before rotating, so swap for quarter turns
            w, h = size[::-1] if self._rotation in (90, 270) else size
            rgb = av_frame.reformat(width=w, height=h, format="rgb24", interpolation="AREA").to_ndarray()
        elif self._display_size != (av_frame.width, av_frame.height):
            w, h = self._display_size
            rgb = av_frame.reformat(width=w, height=h, format="rgb24").to_ndarray()
        else:
            rgb = av_frame.to_ndarray(format="rgb24")
        if self._rotation:
            rgb = np.ascontiguousarray(np.rot90(rgb, k=self._rotation // 90))
        return rgb

    def close(self) -> None:
        self._container.close()


# FFmpeg's demuxers of bare elementary streams (no container, no times)
_RAW_STREAMS = {"h264", "hevc", "m4v", "mpegvideo", "vc1", "obu", "ivf"}

# how far before a requested start the seeks go, in seconds, until the first packet is not past it
_SEEK_BACK = (0.0, 1.0, 5.0, 30.0)


def default_thread_type() -> str:
    """Frame threads pay off with cores to spare; on two cores, decoding on one thread while the
    caller converts frames on the other measured faster (see docs/benchmarks.md)."""
    return "AUTO" if (os.cpu_count() or 1) > 2 else "SLICE"


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(": '")[0].strip() or type(exc).__name__


BACKENDS: dict[str, type[VideoBackend]] = {"pyav": PyAVBackend}


def open_video(path: str | os.PathLike, backend: str = "pyav", **options: object) -> VideoBackend:
    """Open a video file; raises :class:`VideoDecodeError` naming the file and the reason."""
    try:
        cls = BACKENDS[backend]
    except KeyError:
        raise ValueError(f"unknown video backend {backend!r}; available: {sorted(BACKENDS)}") from None
    return cls(path, **options)


def write_video(
    path: str | os.PathLike,
    frames: Iterator[np.ndarray] | np.ndarray,
    fps: float = 25.0,
    codec: str = "libx264",
    crf: int = 18,
    pixel_format: str = "yuv420p",
    gop: int | None = None,
) -> Path:
    """Encode uint8 RGB frames (H, W, 3) to a video file, atomically (temp file, then rename)."""
    from fractions import Fraction as _F

    import av

    from ..files import atomic_path

    path = Path(path)
    with atomic_path(path, suffix=path.suffix) as tmp, av.open(str(tmp), "w") as out:
        stream = None
        for rgb in frames:
            rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
            if stream is None:
                stream = out.add_stream(codec, rate=_F(fps).limit_denominator(100000))
                stream.height, stream.width = rgb.shape[:2]
                stream.pix_fmt = pixel_format
                if codec == "libx264":
                    stream.options = {"crf": str(crf), "preset": "veryfast"}
                if gop:
                    stream.codec_context.gop_size = gop
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        if stream is None:
            raise ValueError(f"{path}: no frames to write")
        for packet in stream.encode():
            out.mux(packet)
    return path
