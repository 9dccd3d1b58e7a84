"""``shotscope serve DIR``: the archive in a browser (Starlette, Jinja2, uvicorn; every asset local).

Pages: films (sortable), one film (player, strips, charts, shot table, corrections by mouse or
keys), shots (the search filters, a grid that plays inline, export), compare (films side by side).

Safety: binds 127.0.0.1 unless told otherwise; another host needs a token (``--token``, generated
and printed when not given); every write needs the page's CSRF token; ``read_only`` refuses writes.
Video is served with HTTP range requests, only for films registered in the archive: a URL names a
film by its number in the database, never by a path.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import mimetypes
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..archive.database import Archive, shot_key
from ..errors import DataError
from ..labels import MOVEMENT_LABELS, SCALE_LABELS
from ..outputs.frames import FRAMES_FILE, KINDS, read_frame
from . import charts

HERE = Path(__file__).parent
TOKEN_COOKIE = "shotscope_token"
THUMB_DIR = ".shotscope-thumbs"
MIME = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
        ".mkv": "video/x-matroska", ".ogv": "video/ogg", ".avi": "video/x-msvideo", ".mpg": "video/mpeg",
        ".mpeg": "video/mpeg", ".ts": "video/mp2t"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; "
                               "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def media_type(path: Path) -> str:
    """The MIME type a browser needs to play the file (by its extension)."""
    return MIME.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """DataFrame records as plain Python values: numpy scalars unwrapped, missing values (NaN) None."""
    out = []
    for row in rows:
        clean = {}
        for key, value in row.items():
            value = value.item() if hasattr(value, "item") else value
            clean[key] = None if isinstance(value, float) and value != value else value
        out.append(clean)
    return out


THUMBNAIL_DECODERS = max(2, (os.cpu_count() or 2) // 2)  # thumbnails decoded at once


class ArchiveSite:
    """The pages and the API over one archive folder."""

    def __init__(self, folder: str | os.PathLike, read_only: bool = False):
        self.archive = Archive(folder, create=False)
        self.read_only = read_only
        self.decoding: anyio.CapacityLimiter | None = None  # made in the server's event loop
        self.csrf = secrets.token_urlsafe(32)
        from .templating import environment

        env = environment()
        env.globals.update(read_only=read_only, csrf=self.csrf)
        self.templates = Jinja2Templates(env=env)

    # --- data ----------------------------------------------------------------------------------
    def film_row(self, film_id: int) -> dict[str, Any]:
        from contextlib import closing

        with closing(self.archive.connect()) as db:
            row = db.execute("SELECT * FROM films WHERE id = ?", (film_id,)).fetchone()
        if row is None:
            raise HTTPException(404, f"no film {film_id} in this archive")
        return dict(row)

    def film_file(self, film: dict[str, Any]) -> Path | None:
        """Where the film's video is (see :meth:`Archive.film_file`). Only paths from the database
        are ever opened."""
        return self.archive.film_file(film["path"])

    def shot_rows(self, folder: str, details: bool = False) -> list[dict[str, Any]]:
        return plain(self.archive.shots(film_folder=folder, details=details).to_dict("records"))

    def filters(self, request: Request) -> dict[str, Any]:
        q = request.query_params

        def number(key: str) -> float | None:
            value = q.get(key) or None
            if value is None:
                return None
            try:
                return float(value)
            except ValueError:
                raise HTTPException(400, f"{key} must be a number, not {value!r}") from None

        out: dict[str, Any] = {"scale": q.get("scale") or None, "movement": q.get("movement") or None,
                               "min_duration": number("min_duration"), "max_duration": number("max_duration"),
                               "min_confidence": number("min_confidence"), "film": q.get("film") or None,
                               "corrected": {"yes": True, "no": False}.get(q.get("corrected", ""))}
        if out["scale"] not in (None, *SCALE_LABELS) or out["movement"] not in (None, *MOVEMENT_LABELS):
            raise HTTPException(400, "unknown scale or movement")
        return out

    # --- pages ---------------------------------------------------------------------------------
    def render(self, request: Request, name: str, **context: Any) -> Response:
        return self.templates.TemplateResponse(request, name, context)

    async def films_page(self, request: Request) -> Response:
        films = await run_in_threadpool(self._films)
        return self.render(request, "films.html", films=films, title="Films")

    def _films(self) -> list[dict[str, Any]]:
        from contextlib import closing

        out = []
        with closing(self.archive.connect()) as db:
            rows = db.execute("SELECT id, folder, path, duration, shots, average_shot_length, median_shot_length, "
                              "status, statistics FROM films ORDER BY path").fetchall()
            corrected = dict(db.execute("SELECT folder, COUNT(DISTINCT idx) FROM corrections GROUP BY folder"))
        for r in rows:
            stats = json.loads(r["statistics"] or "{}")
            bars = {}
            for field, labels in (("scale", SCALE_LABELS), ("movement", MOVEMENT_LABELS)):
                given = stats.get(field) or {}
                bars[f"{field}_bar"] = charts.share_bar([{"label": k, "colour": charts.COLOURS[field][k], **given[k]}
                                                         for k in labels if (given.get(k) or {}).get("shots")])
            out.append({**dict(r), **bars, "corrected": corrected.get(r["folder"], 0)})
        return out

    async def film_page(self, request: Request) -> Response:
        film = self.film_row(request.path_params["film_id"])
        shots = await run_in_threadpool(self.shot_rows, film["folder"], True)
        total = film["duration"] or (shots[-1]["end_time"] if shots else 0.0)
        proxy = self.proxy_file(film)
        playable = proxy is not None or self.film_file(film) is not None
        pictures = playable or (self.archive.folder / film["folder"] / FRAMES_FILE).is_file()
        context = {
            "film": film, "shots": shots, "title": Path(film["path"]).name, "playable": playable,
            "pictures": pictures,
            "proxy": proxy is not None, "mime": media_type(proxy or Path(film["path"])),
            # a copy made since the browser last asked gets a new address (not the old answer from its cache)
            "media_src": f"/media/{film['id']}" + (f"?copy={proxy.stat().st_mtime_ns}" if proxy else ""),
            **charts.film_charts(shots, total),
            "low": charts.LOW_CONFIDENCE, "history": self.archive.corrections(film["folder"]),
            "data": {"film": film["id"], "fps": film["fps"], "labels": {"scale": SCALE_LABELS, "movement": MOVEMENT_LABELS},
                     "shots": [{k: s[k] for k in ("shot", "start_time", "end_time", "scale", "movement")}
                               for s in shots]},
        }
        return self.render(request, "film.html", **context)

    async def shots_page(self, request: Request) -> Response:
        filters = self.filters(request)
        shots = await run_in_threadpool(partial(self.archive.shots, **filters, limit=200, count=True))
        rows = plain(shots.to_dict("records"))
        query = request.url.query
        return self.render(request, "shots.html", shots=rows, total=shots.attrs.get("total", len(rows)),
                           filters=filters, query=query, title="Shots")

    async def export(self, request: Request) -> Response:
        from ..archive.database import TIMELINE_ADAPTERS, timeline_text

        kind = request.path_params["kind"]
        if kind != "csv" and kind not in TIMELINE_ADAPTERS:
            raise HTTPException(404, "export as csv, edl, otio or xml")
        filters = self.filters(request)
        shots = await run_in_threadpool(partial(self.archive.shots, **filters))
        if kind == "csv":
            return Response(shots.to_csv(index=False), media_type="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="shots.csv"'})
        text = await run_in_threadpool(timeline_text, shots, "shotscope selection", kind)
        return Response(text, media_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="shots.{kind}"'})

    async def compare_page(self, request: Request) -> Response:
        try:
            ids = [int(v) for v in request.query_params.getlist("film")]
        except ValueError:
            raise HTTPException(400, "films are named by their numbers") from None
        films = []
        for film_id in ids[:8]:
            film = self.film_row(film_id)
            shots = await run_in_threadpool(self.shot_rows, film["folder"])
            total = film["duration"] or (shots[-1]["end_time"] if shots else 0.0)
            films.append({"film": film, "name": Path(film["path"]).name, "shots": len(shots),
                          **charts.film_charts(shots, total)})
        for f in films:
            f["bars"] = {k: charts.share_bar(v) for k, v in f["shares"].items()}
        return self.render(request, "compare.html", films=films, title="Compare")

    # --- media ---------------------------------------------------------------------------------
    def proxy_file(self, film: dict[str, Any]) -> Path | None:
        """The film's playable copy (``shotscope proxy``), when it has one."""
        from ..outputs.proxies import proxy_path

        path = proxy_path(self.archive.folder, film["folder"])
        return path if path.is_file() else None

    async def media(self, request: Request) -> Response:
        """The film's video for the player: its playable copy when there is one, else the file."""
        film = self.film_row(request.path_params["film_id"])
        path = self.proxy_file(film) or self.film_file(film)
        if path is None:
            raise HTTPException(404, f"the video of film {film['id']} is not where it was analysed")
        return FileResponse(path, media_type=media_type(path))

    async def thumbnail(self, request: Request) -> Response:
        film = self.film_row(request.path_params["film_id"])
        shot, which = request.path_params["shot"], request.path_params["which"]
        if which not in KINDS:
            raise HTTPException(404, "a thumbnail is first, middle or last")
        stored = await run_in_threadpool(read_frame, self.archive.folder / film["folder"], shot, which)
        if stored is not None:  # the picture analyze kept (frames.zip): nothing to decode
            return Response(stored, media_type="image/webp", headers={"Cache-Control": "max-age=3600"})
        # a folder from before frames.zip: decoded, on a few threads of their own (a table scrolled
        # through asks for dozens at once; on the shared ones they kept the video's range requests waiting)
        if self.decoding is None:
            self.decoding = anyio.CapacityLimiter(THUMBNAIL_DECODERS)
        path = await anyio.to_thread.run_sync(self._thumbnail, film, shot, which, limiter=self.decoding)
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "max-age=3600"})

    def _thumbnail(self, film: dict[str, Any], shot: int, which: str) -> Path:
        """A frame of the shot as a JPEG, made once and kept under the archive (written atomically)."""
        import hashlib
        from contextlib import closing

        import cv2
        import numpy as np

        from ..files import atomic_write_bytes
        from ..video.decode import open_video
        from ..video.sampling import reduced_size

        key = hashlib.sha1(f"{film['folder']}|{film['sha256_edges']}".encode()).hexdigest()[:16]
        target = self.archive.folder / THUMB_DIR / f"{key}-{shot}-{which}.jpg"
        if target.is_file():
            return target
        with closing(self.archive.connect()) as db:
            row = db.execute("SELECT start_time, end_time FROM shots WHERE id = ?",
                             (shot_key(film["id"], shot),)).fetchone()
        source = self.film_file(film)
        if row is None or source is None:
            raise HTTPException(404, "no such shot, or its video is missing")
        start, end = row["start_time"], row["end_time"]
        t = {"first": start, "middle": (start + end) / 2, "last": max(start, end - 0.1)}[which]
        try:
            with open_video(source) as video:
                frames = video.frames_at(np.array([t]), start, end)
                size = reduced_size(video.info.width, video.info.height, 144)
                rgb = video.to_rgb(frames[0], size=size)
        except (DataError, IndexError, OSError) as exc:
            raise HTTPException(404, f"no frame at {t:.2f} s ({exc})") from None
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 80])
        target.parent.mkdir(exist_ok=True)
        atomic_write_bytes(target, buf.tobytes())
        return target

    # --- writes --------------------------------------------------------------------------------
    async def correct(self, request: Request) -> Response:
        if self.read_only:
            return JSONResponse({"error": "this archive is served read-only"}, status_code=403)
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent.encode(), self.csrf.encode()):
            return JSONResponse({"error": "missing or wrong CSRF token; reload the page"}, status_code=403)
        try:
            body = await request.json()
            film = self.film_row(int(body["film"]))
            shot, field, value = int(body["shot"]), str(body["field"]), str(body["value"])
            note = body.get("note")
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "expected JSON {film, shot, field, value[, note]}"}, status_code=400)
        try:
            done = await run_in_threadpool(self.archive.correct, film["folder"], shot, field, value,
                                           None if note is None else str(note)[:2000])
        except DataError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(plain([done])[0])

    async def history(self, request: Request) -> Response:
        film = self.film_row(request.path_params["film_id"])
        return JSONResponse(await run_in_threadpool(self.archive.corrections, film["folder"]))


def create_app(folder: str | os.PathLike, *, read_only: bool = False, token: str | None = None) -> Starlette:
    """The web app over an archive folder (``shotscope analyze -o`` output with its database)."""
    site = ArchiveSite(folder, read_only=read_only)
    routes = [
        Route("/", site.films_page),
        Route("/film/{film_id:int}", site.film_page),
        Route("/film/{film_id:int}/corrections", site.history),
        Route("/shots", site.shots_page),
        Route("/shots/export.{kind}", site.export),
        Route("/compare", site.compare_page),
        Route("/media/{film_id:int}", site.media),
        Route("/thumb/{film_id:int}/{shot:int}/{which}", site.thumbnail),
        Route("/api/correct", site.correct, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]

    async def on_error(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    async def guard(request: Request, call_next):
        if token is not None:
            given = request.query_params.get("token")
            if given is not None and hmac.compare_digest(given.encode(), token.encode()):
                clean = request.url.remove_query_params("token")
                response: Response = RedirectResponse(str(clean), status_code=303)
                response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
                return response
            cookie = request.cookies.get(TOKEN_COOKIE, "")
            if not hmac.compare_digest(cookie.encode(), token.encode()):
                return PlainTextResponse("this archive needs its token: open the address `shotscope serve` printed",
                                         status_code=401)
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    app = Starlette(routes=routes, exception_handlers={HTTPException: on_error},
                    middleware=[Middleware(BaseHTTPMiddleware, dispatch=guard)])
    app.state.site = site
    return app


def serve(folder: str | os.PathLike, *, host: str = "127.0.0.1", port: int = 8765, read_only: bool = False,
          token: str | None = None, log_level: str = "warning") -> None:
    """Run the web app until interrupted. Another host than this machine needs a token."""
    import uvicorn

    if token is None and not is_loopback(host):
        token = secrets.token_urlsafe(24)
    app = create_app(folder, read_only=read_only, token=token)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    print(f"shotscope: serving {Path(folder)} at http://{shown}:{port}/" + (f"?token={token}" if token else "")
          + (" (read-only)" if read_only else "") + "  (Ctrl-C stops)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level)


@contextmanager
def serving(app: Starlette, host: str = "127.0.0.1", timeout: float = 20.0) -> Iterator[str]:
    """Serve ``app`` from a thread on a free port of ``host`` while the block runs (a notebook beside
    its archive, the browser tests, the benchmarks); yields its address."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the web app did not start on {host}:{port}")
        time.sleep(0.05)
    try:
        yield f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
