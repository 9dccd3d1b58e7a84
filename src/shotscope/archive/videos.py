"""Where an archive's films are, and whether a file is the film analysed (the web app serves only that)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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


# what a film's video may be called (FFmpeg's video containers): /media serves nothing else
VIDEO_SUFFIXES = frozenset(
    [".mp4", ".m4v", ".mov", ".qt", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".m2v", ".mpv", ".ts", ".mts", ".m2ts", ".tsv", ".vob", ".ogv", ".ogg", ".ogm", ".wmv", ".asf", ".flv", ".f4v", ".3gp", ".3g2", ".mxf", ".dv", ".dif", ".y4m", ".nut", ".rm", ".rmvb", ".divx", ".xvid", ".h264", ".264", ".hevc", ".h265", ".265", ".ivf", ".gif", ".apng", ".mjpeg", ".mjpg", ".avs", ".yuv", ".r3d", ".braw", ".cine", ".wtv", ".dvr-ms", ".amv", ".mod", ".tod"])


def is_video_name(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def _check_video(path: Path, st: os.stat_result, film: dict[str, Any]) -> str:
    """Why ``path`` is not the film of this row ('' when it is); see :meth:`Archive.film_video`."""
    import stat as stat_module

    import av

    from ..provenance import film_fingerprint

    if not stat_module.S_ISREG(st.st_mode):
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
