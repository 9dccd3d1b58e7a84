"""Playable copies of films a browser cannot play (MPEG-4 part 2, ProRes, DV, MPEG-2, AVI, MKV ...):
H.264 + AAC in MP4 at a smaller size, in ``DIR/.proxies/``, each frame at its original time so
shots start and end where the analysis says. ``shotscope proxy DIR`` makes them; ``shotscope
serve`` plays a film's proxy when it has one."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

PROXY_DIR = ".proxies"
# what Chromium, Firefox and Safari all play, by container and video codec
PLAYABLE_CONTAINERS = {".mp4", ".m4v", ".mov", ".webm"}
PLAYABLE_CODECS = {"h264", "vp8", "vp9", "av1"}


def proxy_path(archive: str | os.PathLike, folder: str) -> Path:
    """Where the proxy of the film analysed into ``folder`` (its film folder's name) goes."""
    return Path(archive) / PROXY_DIR / f"{Path(folder).name}.mp4"


def is_proxy(path: Path, archive: str | os.PathLike) -> bool:
    """Whether ``path`` is a playable copy this archive may serve: a regular file (not a link) in its
    copies folder, itself no link, beginning as an MP4 does (``ftyp``)."""
    import stat

    folder = Path(archive) / PROXY_DIR
    try:
        if folder.is_symlink() or not stat.S_ISREG(path.lstat().st_mode) or path.parent != folder:
            return False
        with path.open("rb") as fh:
            return fh.read(8)[4:8] == b"ftyp"
    except OSError:
        return False


def browser_plays(path: str | os.PathLike, codec: str | None) -> bool:
    """Whether browsers play this file as it is (by its container and video codec)."""
    return Path(path).suffix.lower() in PLAYABLE_CONTAINERS and (codec or "").lower() in PLAYABLE_CODECS


def _sound(source: Path) -> Any:
    """The first audio stream's frames as 48 kHz stereo for AAC, with their times; None without one."""
    import av

    container = av.open(str(source))
    if not container.streams.audio:
        container.close()
        return None
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)

    def frames():
        try:
            for packet in container.demux(stream):
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError:
                    continue
                for frame in decoded:
                    t = float(frame.pts * stream.time_base) if frame.pts is not None else None
                    frame.pts = None
                    for sound in resampler.resample(frame):
                        yield t, sound
        finally:
            container.close()

    return frames()


def make_proxy(source: str | os.PathLike, target: str | os.PathLike, height: int = 480, crf: int = 26) -> Path:
    """Transcode ``source`` to an H.264/AAC MP4 at most ``height`` pixels high, written atomically.
    The pictures are the analysis's own (display geometry: rotation and pixel shape applied) and
    each keeps its time, so the shots' times hold in the copy; sound is kept when there is any."""
    import av

    from ..files import atomic_path
    from ..video.decode import open_video

    source, target = Path(source), Path(target)
    with open_video(source) as video:
        info = video.info
        scale = min(1.0, height / info.height)
        size = (max(2, round(info.width * scale / 2) * 2), max(2, round(info.height * scale / 2) * 2))
        sound = _sound(source)
        with atomic_path(target, suffix=".mp4") as tmp, av.open(str(tmp), "w", format="mp4",
                                                                options={"movflags": "+faststart"}) as out:
            vout = out.add_stream("libx264", rate=Fraction(info.fps).limit_denominator(100000))
            vout.width, vout.height, vout.pix_fmt = size[0], size[1], "yuv420p"
            vout.time_base = Fraction(1, 90000)
            vout.options = {"crf": str(crf), "preset": "veryfast"}
            aout = None
            if sound is not None:
                aout = out.add_stream("aac", rate=48000)
                aout.layout = "stereo"

            def sound_until(t: float | None) -> None:
                nonlocal sound
                for when, frame in sound if sound is not None else ():
                    for packet in aout.encode(frame):
                        out.mux(packet)
                    if t is not None and when is not None and when > t:
                        return
                sound = None  # all of it written

            for frame in video.frames():
                picture = av.VideoFrame.from_ndarray(video.to_rgb(frame, size=size), format="rgb24")
                picture.pts, picture.time_base = round(frame.time * 90000), vout.time_base
                for packet in vout.encode(picture.reformat(format="yuv420p")):
                    out.mux(packet)
                if aout is not None:
                    sound_until(frame.time)
            for packet in vout.encode():
                out.mux(packet)
            if aout is not None:
                sound_until(None)
                for packet in aout.encode():
                    out.mux(packet)
    return target


def make_proxies(archive: Any, height: int = 480, force: bool = False, progress: bool | None = None
                 ) -> tuple[list[Path], dict[str, str]]:
    """Proxies for the films of an :class:`~shotscope.archive.database.Archive` that browsers cannot play
    (made once: an existing proxy newer than its film is kept unless ``force``). Returns the
    proxies made and the films that failed, with why; one film's failure never stops the rest."""
    from contextlib import closing

    from tqdm import tqdm

    from ..errors import describe_failure
    from ..video.decode import open_video

    with closing(archive.connect()) as db:
        films = [dict(r) for r in db.execute("SELECT folder, path FROM films ORDER BY path")]
    made, failed = [], {}
    for film in tqdm(films, desc="proxies", unit="film", disable=None if progress is None else not progress):
        source = archive.film_file(film["path"]) or Path(film["path"])
        target = proxy_path(archive.folder, film["folder"])
        try:
            with open_video(source) as video:  # a film that is not there: "no such file", named
                if browser_plays(source, video.info.codec):
                    continue
            if not force and target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
                continue
            made.append(make_proxy(source, target, height=height))
        except Exception as exc:  # one film's failure is reported, the rest go on
            failed[str(source)] = describe_failure(exc, source)
    return made, failed
