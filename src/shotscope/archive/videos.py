"""Where an archive's films are, and whether a file is the film analysed (the web app serves only that)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import av

from ..provenance import film_fingerprint
from ..video.decode import VIDEO_SUFFIXES
from .schema import ArchiveFolder


def locate_film(archive: ArchiveFolder, path: str) -> Path | None:
    """Where a film of the archive is now: its path as analysed (absolute, or relative to the
    archive or to the working folder); None when it is not there."""
    film = Path(path)
    for candidate in ([film] if film.is_absolute() else [archive.folder / film, Path.cwd() / film]):
        if candidate.is_file():
            return candidate
    return None


def checked_video(archive: ArchiveFolder, film: dict[str, Any]) -> tuple[Path | None, str]:
    """The video of a film row, checked to be the one its provenance names: the file it names
    (symbolic links resolved) is a regular file with a video's name, of the size and content
    (SHA-256 of its ends) analysed, and PyAV finds a video stream in it. (path, "") when it is;
    (None, why not) otherwise. The check is cached per file state (size, modification time)."""
    found = archive.film_file(film["path"])
    if found is None:
        return None, f"the video of {Path(film['path']).name} is not where it was analysed ({film['path']})"
    try:
        path = found.resolve(strict=True)
        st = path.stat()
    except OSError as exc:
        return None, f"{found}: {exc.strerror or exc}"
    key = (str(path), st.st_size, st.st_mtime_ns, film.get("size"), film.get("sha256_edges"))
    if key not in archive.checked_videos:
        archive.checked_videos[key] = _check_video(path, st, film)
    why = archive.checked_videos[key]
    return (None, why) if why else (path, "")


def is_video_name(path: str | os.PathLike) -> bool:
    """Whether a file's name is a video's (the web app serves nothing else)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def _check_video(path: Path, st: os.stat_result, film: dict[str, Any]) -> str:
    """Why ``path`` is not the film of this row ('' when it is); see :meth:`Archive.film_video`."""
    if not stat.S_ISREG(st.st_mode):
        return f"{path}: not a regular file"
    if not is_video_name(path):
        return f"{path}: not a video file (by its name)"
    if film.get("size") is None or film.get("sha256_edges") is None:
        return f"{path}: the archive does not say what the film analysed was (no size or hash in its provenance)"
    if st.st_size != film["size"]:
        return f"{path}: not the film analysed ({st.st_size} bytes, the film had {film['size']})"
    try:
        if film_fingerprint(path)["sha256_edges"] != film["sha256_edges"]:
            return f"{path}: not the film analysed (its content changed since)"
        with av.open(str(path)) as container:
            if not container.streams.video:
                return f"{path}: no video stream in it"
    except (OSError, av.error.FFmpegError) as exc:
        return f"{path}: cannot be read as a video ({exc})"
    return ""
