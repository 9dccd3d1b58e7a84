"""``shotscope serve DIR``: the archive in a browser (Starlette, Jinja2, uvicorn; every asset local).

Pages: films (sortable), one film (player, strips, charts, shot table, corrections by mouse or
keys), shots (the search filters, a grid that plays inline, export), compare (films side by side).

Safety (docs/reliability.md, "The web app's security model"): binds 127.0.0.1 unless told
otherwise; another host needs a token of at least :data:`MIN_TOKEN` characters (``--token``,
generated and printed when not given); only the host names it was started for are answered (a page
elsewhere that rebinds its own name to this machine gets 421); every write needs the page's CSRF
token and, from a browser, this server's own Origin; ``read_only`` refuses writes and writes no
byte. Video is served with HTTP range requests, only the film the archive's provenance names
(resolved, a video, of the size and content analysed): a URL names a film by its number in the
database, never by a path.
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

from ..archive.database import Archive
from ..archive.schema import SHOT_BITS, shot_key
from ..errors import ArchiveUnavailable, DataError
from ..labels import MOVEMENT_LABELS, SCALE_LABELS
from ..outputs.frames import FRAMES_FILE, KINDS, read_frame
from ..views import charts

VIEWS = Path(__file__).parents[1] / "views"  # the templates and static files the report shares
TOKEN_COOKIE = "shotscope_token"
THUMB_DIR = "thumbnails"  # under the user's cache (shotscope.files.cache_dir)
MIME = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
        ".mkv": "video/x-matroska", ".ogv": "video/ogg", ".avi": "video/x-msvideo", ".mpg": "video/mpeg",
        ".mpeg": "video/mpeg", ".ts": "video/mp2t"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; "
                               "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
}


MIN_TOKEN = 16  # characters a token needs off this machine (a generated one has 32)
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
MAX_ID = (1 << 40) - 1  # film numbers (SQLite's integers hold 63 bits; a shot key shifts the film by 20)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """0.0.0.0 or :: (every address of this machine)."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def served_names(host: str, extra: tuple[str, ...] = ()) -> set[str]:
    """The host names (``Host`` header, without port) a server bound to ``host`` answers to: the
    loopback names, ``host`` itself, and for 0.0.0.0 / :: this machine's names and addresses; plus
    ``extra`` (``serve --allow-host``)."""
    import socket

    names = {*LOOPBACK_NAMES, host.strip("[]").lower(), *(e.strip("[]").lower() for e in extra)}
    if is_wildcard(host):
        for name in {socket.gethostname(), socket.getfqdn()}:
            names.add(name.lower())
            try:
                names.update(info[4][0].split("%")[0] for info in socket.getaddrinfo(name, None))
            except OSError:
                pass
    return {n for n in names if n and not is_wildcard(n)}


def host_name(netloc: str) -> str | None:
    """The host of a ``Host`` header or an origin's netloc, lower-case, without port or brackets;
    None when it is no valid one."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit("//" + netloc)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return None
    return parts.hostname or None


def check_token(token: str | None, host: str) -> None:
    """Refuse a token that guards nothing: empty (an unset shell variable), or short off loopback."""
    if token is None:
        return
    if not token.strip():
        raise DataError("--token is empty (an unset variable?): give a token of at least "
                        f"{MIN_TOKEN} characters, or leave --token out to have one generated")
    if not is_loopback(host) and len(token) < MIN_TOKEN:
        raise DataError(f"--token has {len(token)} characters: off this machine ({host}) a token needs at least "
                        f"{MIN_TOKEN}; leave --token out to have one generated")


def bounded_id(value: Any, what: str, limit: int = MAX_ID) -> int:
    """A film or shot number from a URL or a request body: a whole number 0..limit (no float, no
    bool, no string of digits past the limit), else HTTP 404 (in a URL) or 422 (a body's)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise HTTPException(422, f"{what} must be a whole number from 0 to {limit}, not {str(value)[:40]!r}")
    return value


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
        self.archive = Archive(folder, create=False, read_only=read_only)
        self.read_only = read_only
        self.decoding: anyio.CapacityLimiter | None = None  # made in the server's event loop
        self.csrf = secrets.token_urlsafe(32)
        from ..views.templating import environment

        env = environment()
        env.globals.update(read_only=read_only, csrf=self.csrf)
        self.templates = Jinja2Templates(env=env)

    # --- data ----------------------------------------------------------------------------------
    def film_row(self, film_id: int) -> dict[str, Any]:
        from contextlib import closing

        if not 0 <= film_id <= MAX_ID:
            raise HTTPException(404, f"no film {str(film_id)[:24]} in this archive")
        with closing(self.archive.connect()) as db:
            row = db.execute("SELECT * FROM films WHERE id = ?", (film_id,)).fetchone()
        if row is None:
            raise HTTPException(404, f"no film {film_id} in this archive")
        return dict(row)

    def film_file(self, film: dict[str, Any]) -> Path | None:
        """The film's video, checked to be the one analysed (see :meth:`Archive.film_video`). Only
        paths from the database are ever opened."""
        return self.archive.film_video(film)[0]

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
        timelines = await run_in_threadpool(self.archive.timelines, film["folder"])
        for s in shots:  # a timeline only where shots.json's shot is the database's (same start)
            start, timeline = timelines.get(s["shot"], (None, None))
            if start is not None and abs(start - s["start_time"]) < 1e-3:
                s["timeline"] = timeline
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
                     "colours": charts.COLOURS,
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
        from ..outputs.timelines import TIMELINE_ADAPTERS, supercut_text

        kind = request.path_params["kind"]
        if kind != "csv" and kind not in TIMELINE_ADAPTERS:
            raise HTTPException(404, "export as csv, edl, otio or xml")
        filters = self.filters(request)
        shots = await run_in_threadpool(partial(self.archive.shots, **filters))
        if kind == "csv":
            return Response(shots.to_csv(index=False), media_type="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="shots.csv"'})
        text, missing = await run_in_threadpool(supercut_text, shots, "shotscope selection", kind,
                                                self.archive.film_file)
        headers = {"Content-Disposition": f'attachment; filename="shots.{kind}"'}
        if missing:  # the clips link to where these films were analysed; not on this machine now
            headers["X-Shotscope-Missing-Films"] = str(len(missing))
        return Response(text, media_type="application/octet-stream", headers=headers)

    async def compare_page(self, request: Request) -> Response:
        try:
            ids = [int(v) for v in request.query_params.getlist("film")]
        except ValueError:
            raise HTTPException(400, "films are named by their numbers") from None
        films, rows = [], []
        for film_id in ids[:8]:
            film = self.film_row(film_id)
            shots = await run_in_threadpool(self.shot_rows, film["folder"])
            total = film["duration"] or (shots[-1]["end_time"] if shots else 0.0)
            rows.append(shots)
            films.append({"film": film, "name": Path(film["path"]).name, "shots": len(shots), "total": total,
                          **charts.film_charts(shots, total)})
        # common axes: lengths on one scale of seconds, place in the film as its share
        top = max((charts.length_top(r) for r in rows if r), default=None)
        for f, shots in zip(films, rows, strict=True):
            f["bars"] = {k: charts.share_bar(v) for k, v in f["shares"].items()}
            f["lengths"] = charts.length_by_position(shots, f["total"], top=top, share=True)
        histograms = charts.length_histograms([(f["name"], [s["duration"] for s in r]) for f, r in zip(films, rows,
                                                                                                       strict=True)])
        return self.render(request, "compare.html", films=films, histograms=histograms, title="Compare")

    # --- media ---------------------------------------------------------------------------------
    def proxy_file(self, film: dict[str, Any]) -> Path | None:
        """The film's playable copy (``shotscope proxy``), when it has one: a regular MP4 file in the
        archive's copies folder, not a link to elsewhere."""
        from ..outputs.proxies import is_proxy, proxy_path

        path = proxy_path(self.archive.folder, film["folder"])
        return path if is_proxy(path, self.archive.folder) else None

    async def media(self, request: Request) -> Response:
        """The film's video for the player: its playable copy when there is one, else the film the
        archive analysed (checked: :meth:`Archive.film_video`)."""
        film = self.film_row(request.path_params["film_id"])
        path = self.proxy_file(film)
        if path is None:
            path, why = await run_in_threadpool(self.archive.film_video, film)
            if path is None:
                raise HTTPException(404, f"film {film['id']}: {why}")
        return FileResponse(path, media_type=media_type(path))

    async def thumbnail(self, request: Request) -> Response:
        film = self.film_row(request.path_params["film_id"])
        shot, which = request.path_params["shot"], request.path_params["which"]
        if which not in KINDS:
            raise HTTPException(404, "a thumbnail is first, middle or last")
        if not 0 <= shot < (film["shots"] or 0):
            raise HTTPException(404, f"film {film['id']} has no shot {str(shot)[:24]}")
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

        from ..files import atomic_write_bytes, cache_dir
        from ..video.decode import open_video
        from ..video.sampling import reduced_size

        with closing(self.archive.connect()) as db:
            row = db.execute("SELECT start_time, end_time FROM shots WHERE id = ?",
                             (shot_key(film["id"], shot),)).fetchone()
        if row is None:
            raise HTTPException(404, f"film {film['id']} has no shot {shot}")
        start, end = row["start_time"], row["end_time"]
        # kept in the user's cache, not in the archive (which may be read-only, or served read-only):
        # by archive, folder, film content and the shot's times (a film analysed again with other cuts)
        key = hashlib.sha256(f"{self.archive.folder.resolve()}|{film['folder']}|{film['sha256_edges']}|"
                             f"{start:.3f}|{end:.3f}".encode()).hexdigest()[:24]
        target = cache_dir() / THUMB_DIR / f"{key}-{which}.jpg"
        if target.is_file():
            return target
        source, why = self.archive.film_video(film)
        if source is None:
            raise HTTPException(404, why)
        t = {"first": start, "middle": (start + end) / 2, "last": max(start, end - 0.1)}[which]
        try:
            with open_video(source) as video:
                frames = video.frames_at(np.array([t]), start, end)
                size = reduced_size(video.info.width, video.info.height, 144)
                rgb = video.to_rgb(frames[0], size=size)
        except (DataError, IndexError, OSError) as exc:
            raise HTTPException(404, f"no frame at {t:.2f} s ({exc})") from None
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 80])
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, buf.tobytes())
        return target

    # --- writes --------------------------------------------------------------------------------
    async def correct(self, request: Request) -> Response:
        """Set a shot's label: JSON {film, shot, field, value[, note]}. The archive's refusals (a
        label unknown, no such shot, a database that cannot take it) are the app's DataError answers."""
        refused = self._write_refused(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
            field, value, note = body["field"], body["value"], body.get("note")
            if not all(isinstance(v, str) for v in (field, value)) or not isinstance(note, (str, type(None))):
                raise TypeError
            film, shot = self._film_and_shot(body)
        except HTTPException as exc:
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        except (ValueError, KeyError, TypeError, AttributeError):
            return JSONResponse({"error": "expected JSON {film, shot, field, value[, note]}: film and shot whole "
                                          "numbers, the others text"}, status_code=400)
        done = await run_in_threadpool(self.archive.correct, film["folder"], shot, field, value,
                                       None if note is None else note[:2000])
        return JSONResponse(plain([done])[0])

    async def undo(self, request: Request) -> Response:
        """Take back the latest correction of a shot's label (the page's undo: ``u``): JSON {film, shot, field}."""
        refused = self._write_refused(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
            field = body["field"]
            if not isinstance(field, str):
                raise TypeError
            film, shot = self._film_and_shot(body)
        except HTTPException as exc:
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        except (ValueError, KeyError, TypeError, AttributeError):
            return JSONResponse({"error": "expected JSON {film, shot, field}"}, status_code=400)
        done = await run_in_threadpool(self.archive.undo, film["folder"], shot, field)
        return JSONResponse(plain([done])[0])

    def _film_and_shot(self, body: dict) -> tuple[dict[str, Any], int]:
        """The film row and shot number a write names, both bounded (HTTPException 404/422 otherwise)."""
        return self.film_row(bounded_id(body["film"], "film")), bounded_id(body["shot"], "shot", (1 << SHOT_BITS) - 1)

    def _write_refused(self, request: Request) -> Response | None:
        if self.read_only:
            return JSONResponse({"error": "this archive is served read-only"}, status_code=403)
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent.encode(), self.csrf.encode()):
            return JSONResponse({"error": "missing or wrong CSRF token; reload the page"}, status_code=403)
        return None

    async def history(self, request: Request) -> Response:
        film = self.film_row(request.path_params["film_id"])
        return JSONResponse(await run_in_threadpool(self.archive.corrections, film["folder"]))


def create_app(folder: str | os.PathLike, *, read_only: bool = False, token: str | None = None,
               hosts: set[str] | None = None) -> Starlette:
    """The web app over an archive folder (``shotscope analyze -o`` output with its database).
    ``hosts``: the host names it answers to (default: this machine's loopback names; see
    :func:`served_names`)."""
    check_token(token, "localhost")
    allowed = {h.lower() for h in (hosts or served_names("127.0.0.1"))}
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
        Route("/api/undo", site.undo, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(VIEWS / "static")), name="static"),
    ]

    async def on_error(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    async def on_data_error(request: Request, exc: DataError) -> Response:
        """Input the archive refuses (400), or a database that cannot serve it now (503): the reason,
        never a traceback or SQL."""
        status = 503 if isinstance(exc, ArchiveUnavailable) else 400
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=status)
        return PlainTextResponse(str(exc), status_code=status)

    async def guard(request: Request, call_next):
        # DNS rebinding: a page of another site whose name now points here reaches this server with
        # its own name as Host; only the names this server was started for are answered
        host = host_name(request.headers.get("host", ""))
        if host not in allowed:
            return PlainTextResponse(f"this server answers to {', '.join(sorted(allowed))}, not "
                                     f"{(host or 'no host')[:60]!r} (start it with --allow-host NAME for another "
                                     "name)", status_code=421)
        if request.method not in ("GET", "HEAD"):
            why = cross_origin(request)
            if why:
                return PlainTextResponse(why, status_code=403)
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

    app = Starlette(routes=routes, exception_handlers={HTTPException: on_error, DataError: on_data_error},
                    middleware=[Middleware(BaseHTTPMiddleware, dispatch=guard)])
    app.state.site = site
    return app


def cross_origin(request: Request) -> str:
    """Why a write comes from another site ('' when it does not): a browser names the page that
    sent it (``Origin``, else ``Sec-Fetch-Site``); it must be this server, by the name it was asked
    for. A client that names none (a script with the CSRF token) is let through."""
    origin = request.headers.get("origin")
    if origin is not None:
        from urllib.parse import urlsplit

        parts = urlsplit(origin)
        if origin == "null" or parts.scheme != request.url.scheme or \
                parts.netloc.lower() != request.headers.get("host", "").lower():
            return f"a write from another site ({origin[:80]}) is refused; use this server's own pages"
        return ""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return f"a write from another site (Sec-Fetch-Site: {site[:40]}) is refused; use this server's own pages"
    return ""


def check_port(host: str, port: int) -> None:
    """Refuse, before anything is printed, a port another program listens on (or one not allowed)."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: a port in TIME_WAIT is free
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise DataError(f"port {port} on {host} is in use (another `shotscope serve`?): choose another "
                                "with --port") from None
            raise DataError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


def serve(folder: str | os.PathLike, *, host: str = "127.0.0.1", port: int = 8765, read_only: bool = False,
          token: str | None = None, allow_hosts: tuple[str, ...] = (), log_level: str = "warning") -> None:
    """Run the web app until interrupted. Another host than this machine needs a token (of at least
    :data:`MIN_TOKEN` characters); ``allow_hosts``: more names it answers to (a DNS name, a proxy's)."""
    import uvicorn

    check_token(token, host)
    if token is None and not is_loopback(host):
        token = secrets.token_urlsafe(24)
    app = create_app(folder, read_only=read_only, token=token, hosts=served_names(host, allow_hosts))
    check_port(host, port)
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
