"""PyAV vs torchcodec on this machine: the measurement behind the choice of decoder.

torchcodec is not a shotscope dependency (its CPU wheels link the system FFmpeg libraries, which
a fresh machine lacks); run this in an environment that has both:

    python -m venv /tmp/tc && /tmp/tc/bin/pip install torch==2.13.0 torchcodec==0.13.0 av numpy
    apt-get install ffmpeg        # the shared libraries torchcodec links
    /tmp/tc/bin/python benchmarks/decoders.py CLIP.mp4

It prints a Markdown table: every frame decoded to RGB, and 16 frames spread over the clip.
"""

from __future__ import annotations

import sys
import time

import av
import numpy as np


def best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def pyav_all(path: str) -> int:
    with av.open(path) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        return sum(1 for f in c.decode(s) if f.to_ndarray(format="rgb24") is not None)


def pyav_16(path: str) -> None:
    with av.open(path) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        n = s.frames
        want = set((np.arange(16) + 0.5) * n // 16)
        for i, f in enumerate(c.decode(s)):
            if i in want:
                f.to_ndarray(format="rgb24")


def main() -> None:
    path = sys.argv[1]
    from torchcodec.decoders import VideoDecoder

    def tc_all() -> None:
        dec = VideoDecoder(path, dimension_order="NHWC")
        dec.get_frames_in_range(0, len(dec))

    def tc_16() -> None:
        dec = VideoDecoder(path, dimension_order="NHWC", seek_mode="approximate")
        n = len(dec)
        dec.get_frames_at([int(i) for i in (np.arange(16) + 0.5) * n // 16])

    rows = [("PyAV, all frames to RGB", best(lambda: pyav_all(path))),
            ("torchcodec, all frames to RGB", best(tc_all)),
            ("PyAV, 16 frames (decode in order, convert 16)", best(lambda: pyav_16(path))),
            ("torchcodec, 16 frames (get_frames_at)", best(tc_16))]
    print("| decoder | seconds |\n|---|---|")
    for name, t in rows:
        print(f"| {name} | {t:.3f} |")


if __name__ == "__main__":
    main()
