"""Generated test videos: frames that carry their own index, and broken files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shotscope.video.decode import write_video

BITS = 10
BAR = 16


def index_frame(i: int, height: int = 48) -> np.ndarray:
    """A frame showing ``i`` as BITS black/white bars (survives lossy coding)."""
    frame = np.zeros((height, BITS * BAR, 3), np.uint8)
    for b in range(BITS):
        if (i >> b) & 1:
            frame[:, b * BAR : (b + 1) * BAR] = 255
    return frame


def read_index(frame: np.ndarray) -> int:
    bars = frame.reshape(frame.shape[0], BITS, -1, 3).mean(axis=(0, 2, 3))
    return int(sum(1 << b for b in range(BITS) if bars[b] > 127))


def index_video(path: Path, count: int, fps: float = 25.0, **kw) -> Path:
    return write_video(path, (index_frame(i) for i in range(count)), fps=fps, **kw)


def encode_stream(path: Path, count: int, fps: float = 25.0, container: str | None = None,
                  sample_aspect_ratio=None, first_frame_time: int = 0) -> Path:
    """Index frames encoded with libx264 straight through PyAV: for what write_video does not make
    (a bare H.264 stream with ``container="h264"``, non-square pixels, times starting late: the first
    frame at ``first_frame_time`` frames)."""
    from fractions import Fraction

    import av

    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = BITS * BAR, 48, "yuv420p"
        if sample_aspect_ratio is not None:
            stream.codec_context.sample_aspect_ratio = sample_aspect_ratio
        for i in range(count):
            frame = av.VideoFrame.from_ndarray(index_frame(i), format="rgb24")
            frame.pts, frame.time_base = first_frame_time + i, 1 / Fraction(fps).limit_denominator(1001)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def turned_mp4(src: Path, dst: Path, quarter_turns: int) -> Path:
    """A copy of an MP4 whose track header's display matrix turns it, as phones record portrait video
    (the pictures stay stored as they were; players turn them): 1 gives FFmpeg's rotation 90, -1 gives 270."""
    import struct

    data = src.read_bytes()
    identity = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    one, minus_one = 0x10000, 0xFFFF0000
    b, c = (minus_one, one) if quarter_turns == 1 else (one, minus_one)
    at = data.index(identity, data.index(b"tkhd"))
    dst.write_bytes(data[:at] + struct.pack(">9I", 0, b, 0, c, 0, 0, 0, 0, 0x40000000) + data[at + len(identity):])
    return dst
