"""Each shot's first, middle (representative) and last frame as small WebP pictures: embedded in
report.html and kept beside it in ``frames.zip``, which the web app serves as the shots'
thumbnails (nothing to decode, and they show while the film itself is elsewhere)."""

from __future__ import annotations

import functools
import io
import os
import struct
import zipfile
from pathlib import Path

import numpy as np

from ..analysis.results import FilmAnalysis, Shot

FRAMES_FILE = "frames.zip"
KINDS = ("first", "middle", "last")
WIDTH = 160  # pixels: the report and the web app show them at 112 (sharper on dense screens)


def encode(picture: np.ndarray | None) -> bytes | None:
    """An RGB picture as a WebP of :data:`WIDTH` pixels (a third smaller than JPEG at the same
    quality on real footage)."""
    import cv2  # here: the web app reads frames.zip without it

    if picture is None:
        return None
    h, w = picture.shape[:2]
    small = cv2.resize(picture, (WIDTH, max(1, round(h * WIDTH / w))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".webp", np.ascontiguousarray(small[..., ::-1]), [cv2.IMWRITE_WEBP_QUALITY, 80])
    return buf.tobytes() if ok else None


def shot_frames(shot: Shot) -> dict[str, bytes]:
    """A shot's pictures by kind (first, middle, last); the representative one stands in for a
    first or last frame the analysis did not keep."""
    pictures = {"first": shot.first_frame if shot.first_frame is not None else shot.thumbnail,
                "middle": shot.thumbnail,
                "last": shot.last_frame if shot.last_frame is not None else shot.thumbnail}
    encoded = {kind: encode(picture) for kind, picture in pictures.items()}
    return {kind: data for kind, data in encoded.items() if data is not None}


def member(shot: int, kind: str) -> str:
    return f"{shot:06d}-{kind}.webp"


def frames_zip(film: FilmAnalysis, frames: list[dict[str, bytes]]) -> bytes:
    """The film's pictures (``frames``: :func:`shot_frames` of each shot) as a zip, stored as they
    are (WebP is compressed already)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for shot, pictures in zip(film.shots, frames, strict=True):
            for kind, data in pictures.items():
                archive.writestr(member(shot.index, kind), data)
    return out.getvalue()


def read_frame(folder: str | os.PathLike, shot: int, kind: str) -> bytes | None:
    """One picture from a film folder's ``frames.zip``; None where there is none (a folder written
    before it existed, a shot without it, a damaged file): then the video is decoded instead.

    Where each picture lies in the file is read once per version of the file (a feature's zip has
    4,500 of them: parsing its directory at every request took ~13 ms); the file is opened for each
    read only, never kept open (it may be replaced by a new analysis at any time)."""
    path = Path(folder) / FRAMES_FILE
    try:
        stat = path.stat()
        where = _places(str(path), stat.st_mtime_ns, stat.st_size).get(member(shot, kind))
        if where is None:
            return None
        with open(path, "rb") as fh:
            fh.seek(where[0])
            data = fh.read(where[1])
        return data if len(data) == where[1] else None
    except (OSError, zipfile.BadZipFile, struct.error):
        return None


@functools.lru_cache(maxsize=64)
def _places(path: str, mtime_ns: int, size: int) -> dict[str, tuple[int, int]]:
    """Each stored member of a zip: (offset of its bytes, their length), from its directory and
    local headers (``mtime_ns`` and ``size`` name the file's version)."""
    places = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as fh:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                continue
            fh.seek(info.header_offset)
            header = fh.read(30)  # the local header: its name and extra field come before the bytes
            name_length, extra_length = struct.unpack("<HH", header[26:30])
            places[info.filename] = (info.header_offset + 30 + name_length + extra_length, info.compress_size)
    return places
