"""The archive at scale: 1,000 films and 1,500,000 shots (rows generated, not analysed).

- search by label and duration (the web app's shots page: first 200 + the count; and the whole
  result as a DataFrame, as `shotscope search` prints it): goal <= 100 ms;
- the films page of the web app (HTML, through the app): goal <= 300 ms;
- `shotscope index`: film folders (shots.json + provenance.json of 1,500 shots each) per second:
  goal >= 200 folders/s.

Run: .venv/bin/python benchmarks/archive.py [--films 1000] [--shots-per-film 1500] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import asdict
from pathlib import Path

import numpy as np

from _common import best_of, machine, write_section
from shotscope import Archive, __version__
from shotscope.analysis.film import AnalyzeSettings, FilmAnalysis, Shot
from shotscope.archive.ingest import decode_shots_json, write_shard
from shotscope.labels import MOVEMENT_LABELS, SCALE_LABELS
from shotscope.outputs.writers import json_text
from shotscope.provenance import make_provenance
from shotscope.sources.geometry import MotionEstimate

LOCAL = "http://localhost"  # the web app answers only to the names it serves (not "testserver")

GOALS = {"search": 0.100, "films_page": 0.300, "index": 200.0}


def film_folder(root: Path, i: int, shots: int, seed: int = 0) -> None:
    """One film folder as analyze writes it: shots.json from the project's own writer (indented;
    both labels' probabilities and each shot's motion evidence to 4 places, movement fused, the
    film's statistics) and provenance.json beside it."""
    rng = np.random.default_rng([seed, i])
    lengths = rng.gamma(2.0, 2.0, shots) + 0.3
    ends = np.cumsum(lengths)
    starts = ends - lengths
    fps = 24.0
    scale_p = rng.dirichlet(np.full(len(SCALE_LABELS), 0.5), shots)
    movement_p = rng.dirichlet(np.full(len(MOVEMENT_LABELS), 0.5), shots)
    geometry_p = rng.dirichlet(np.full(len(MOVEMENT_LABELS), 0.5), shots)
    evidence = rng.normal(0.0, 0.01, (shots, 3))
    quality = rng.uniform(0.3, 1.0, (shots, 3))
    rows = []
    for k in range(shots):
        motion = MotionEstimate(
            MOVEMENT_LABELS[geometry_p[k].argmax()], float(geometry_p[k].max()),
            {label: round(float(p), 4) for label, p in zip(MOVEMENT_LABELS, geometry_p[k], strict=True)},
            zoom=float(evidence[k, 0]), pan=float(evidence[k, 1]), residual=abs(float(evidence[k, 2])),
            quality=float(quality[k, 0]), pairs=15, still=float(quality[k, 1]), agreement=float(quality[k, 2]))
        rows.append(Shot(
            k, int(round(starts[k] * fps)), int(round(ends[k] * fps)), float(starts[k]), float(ends[k]),
            scale=SCALE_LABELS[scale_p[k].argmax()], scale_prob=round(float(scale_p[k].max()), 4),
            scale_probs={label: round(float(p), 4) for label, p in zip(SCALE_LABELS, scale_p[k], strict=True)},
            movement=MOVEMENT_LABELS[movement_p[k].argmax()], movement_prob=round(float(movement_p[k].max()), 4),
            movement_probs={label: round(float(p), 4) for label, p in zip(MOVEMENT_LABELS, movement_p[k], strict=True)},
            movement_source="fused", short=bool(lengths[k] < 0.75), motion=motion.to_dict()))
    settings = asdict(AnalyzeSettings(movement="fused"))
    path = f"/archive/films/film{i:04d}.mp4"
    film = FilmAnalysis(path, fps, int(round(ends[-1] * fps)), float(ends[-1]), 1920, 1080, rows, {
        "shotscope_version": __version__, "model": {"source": "benchmark", "name": "benchmark", "revision": None},
        "detector": {"name": "adaptive", "library": "scenedetect"},
        "decoder": {"backend": "pyav", "codec": "h264", "pixel_format": "yuv420p"}, "settings": settings,
        "num_frames": 16, "range": {"start": 0.0, "end": round(float(ends[-1]), 3)}})
    folder = root / f"film{i:04d}"
    folder.mkdir(parents=True)
    (folder / "shots.json").write_text(json_text(film), encoding="utf-8")
    provenance = make_provenance(path, None, settings, {"size": 10**9, "sha256_edges": f"{i:064x}"})
    provenance.update(written="2026-11-27T00:00:00+00:00", files={"shots.json": f"{i:064x}"})
    (folder / "provenance.json").write_text(json.dumps(provenance, indent=2), encoding="utf-8")


def film_page_in_a_browser(root: Path, film_id: int) -> dict[str, float]:
    """A film's page served by the web app and opened in headless Chromium (Debian's, as the tests
    use it): until its top is drawn (first contentful paint: the player and the charts show while the
    shot table is still read), until it is ready (DOMContentLoaded: clicks and keys work) and loaded,
    best of 3; and a sort of the shot table by length until it is laid out again. Seconds."""
    import os

    from playwright.sync_api import sync_playwright

    from shotscope.web import create_app, serving

    painted, ready, loaded = [], [], []
    with serving(create_app(root)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("SHOTSCOPE_CHROMIUM") or shutil.which("chromium"),
                                    args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for _ in range(4):  # the first run warms the server's templates and caches
            page.goto(f"{url}/film/{film_id}", wait_until="load")
            timing = page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0]; "
                                   "const p = performance.getEntriesByName('first-contentful-paint')[0]; "
                                   "return [p ? p.startTime : NaN, n.domContentLoadedEventEnd, n.loadEventEnd]; })()")
            painted.append(timing[0] / 1000)
            ready.append(timing[1] / 1000)
            loaded.append(timing[2] / 1000)
        sort = page.evaluate("""(() => {
            const th = [...document.querySelectorAll('#shots th')].find((t) => t.textContent.includes('Length'));
            const t0 = performance.now(); th.click(); document.body.offsetHeight;
            return (performance.now() - t0) / 1000; })()""")
        browser.close()
    return {"painted": min(painted[1:]), "ready": min(ready[1:]), "loaded": min(loaded[1:]), "sort": sort}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--films", type=int, default=1000)
    parser.add_argument("--shots-per-film", type=int, default=1500)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "out"
        t0 = time.perf_counter()
        with ProcessPoolExecutor() as pool:  # the folders of 1,000 films: 1.5 GB of JSON
            list(pool.map(film_folder, [root] * args.films, range(args.films), [args.shots_per_film] * args.films,
                          chunksize=8))
        print(f"{args.films} film folders generated in {time.perf_counter() - t0:.0f} s", flush=True)
        index_runs = []
        for _ in range(3):  # each from no database (the first run also meets the folders just written)
            for made in root.glob("shotscope.db*"):
                made.unlink()
            t0 = time.perf_counter()
            archive = Archive(root)
            report = archive.index()
            index_runs.append(time.perf_counter() - t0)
            assert report.read == args.films and not report.skipped
        index_s = min(index_runs)
        sample = [(root / f"film{i:04d}" / "shots.json").read_bytes() for i in range(min(20, args.films))]
        json_mb = sum(map(len, sample)) / len(sample) / 1e6
        json_gb = json_mb * args.films / 1e3
        loads_ms = 1000 * best_of(lambda: [json.loads(b) for b in sample], 3)[0] / len(sample)
        msgspec_ms = 1000 * best_of(lambda: [decode_shots_json(b) for b in sample], 3)[0] / len(sample)
        indented = [json.dumps(json.loads(b), indent=2, ensure_ascii=False).encode() for b in sample]
        indented_mb = sum(map(len, indented)) / len(indented) / 1e6
        indented_ms = 1000 * best_of(lambda: [decode_shots_json(b) for b in indented], 3)[0] / len(indented)
        read_ms = 1000 * best_of(lambda: [(root / f"film{i:04d}" / "shots.json").read_bytes()
                                          for i in range(len(sample))], 3)[0] / len(sample)
        with closing(sqlite3.connect(archive.path)) as con:
            shots_table = con.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'shots'").fetchone()[0]
        worker_ms = 1000 * best_of(lambda: write_shard(  # what a worker does for a film, all of it
            [(root / f"film{i:04d}", i + 1) for i in range(len(sample))], str(Path(tmp) / f"shard{time.time_ns()}.db"),
            root, shots_table), 3)[0] / len(sample)
        total = len(archive.shots(film="film0000*"))
        print(f"index: {report.read / index_s:.0f} folders/s ({index_s:.1f} s)", flush=True)
        t0 = time.perf_counter()
        report = archive.index(full=True)
        full_s = time.perf_counter() - t0
        assert report.read == args.films
        t0 = time.perf_counter()
        report = archive.index()
        same_s = time.perf_counter() - t0
        assert report.unchanged == args.films
        changed = max(1, args.films // 100)
        for i in range(changed):  # re-analysed films: their folders written anew
            (root / f"film{i:04d}").rename(root / f"old{i:04d}")
            film_folder(root, i, args.shots_per_film, seed=1)
            shutil.rmtree(root / f"old{i:04d}")
        t0 = time.perf_counter()
        report = archive.index()
        changed_s = time.perf_counter() - t0
        assert (report.read, report.unchanged) == (changed, args.films - changed)
        print(f"index --full {full_s:.1f} s; unchanged {same_s:.2f} s; {changed} changed {changed_s:.2f} s", flush=True)
        # corrections on a few shots, so searches pay for them as they would in use
        for k in range(20):
            archive.correct(f"/archive/films/film{k:04d}.mp4", k, "scale", "CS", "benchmark")

        def search_page():
            return archive.shots(scale="CS", movement="Push", min_duration=2.0, limit=200, count=True)

        def search_all():
            return archive.shots(scale="CS", movement="Push", min_duration=2.0)

        def search_movement():  # no scale named: the index is skipped through by scale
            return archive.shots(movement="Push", min_duration=2.0, limit=200, count=True)

        page_s, page = best_of(search_page, 5)
        movement_s, movement_page = best_of(search_movement, 5)
        all_s, everything = best_of(search_all, 3)
        print(f"search: page {1000 * page_s:.0f} ms, all {len(everything)} rows {1000 * all_s:.0f} ms", flush=True)
        from starlette.testclient import TestClient

        from shotscope.web import create_app

        client = TestClient(create_app(root), base_url=LOCAL)
        client.get("/")  # warm-up: templates compiled
        films_s, response = best_of(lambda: client.get("/"), 5)
        assert response.status_code == 200 and response.text.count("<tr>") >= args.films
        web_search_s, response = best_of(lambda: client.get("/shots", params={"scale": "CS", "movement": "Push",
                                                                             "min_duration": "2"}), 5)
        assert response.status_code == 200
        film_id = int(archive.films()["id"].iloc[-1])
        film_page_s, response = best_of(lambda: client.get(f"/film/{film_id}"), 3)  # a feature's shots in one page
        assert response.status_code == 200 and response.text.count('<tr data-shot="') == args.shots_per_film
        film_page_kb = len(response.content) / 1024
        print(f"films page {1000 * films_s:.0f} ms; shots page {1000 * web_search_s:.0f} ms; "
              f"film page {1000 * film_page_s:.0f} ms", flush=True)
        browser = film_page_in_a_browser(root, film_id)
        print(f"film page in Chromium: {browser}", flush=True)
        db_mb = archive.path.stat().st_size / 2**20
    n_shots = args.films * args.shots_per_film
    main_cpu = 4.0 * n_shots / 1.5e6  # the main process's copy, index build and commit: ~4 s for 1.5 million shots

    def verdict(value: float, goal: float, lower_is_better: bool = True) -> str:
        return "met" if (value <= goal if lower_is_better else value >= goal) else "**NOT met**"

    body = f"""Command: `.venv/bin/python benchmarks/archive.py` ({machine()})

An archive of {args.films:,} films and {n_shots:,} shots ({args.shots_per_film:,} per film; rows generated:
film folders with shots.json and provenance.json as analyze writes them), {db_mb:.0f} MB of SQLite.

| what | time | goal | |
|---|---|---|---|
| `index` of the archive without a database (every folder read; best of 3: {', '.join(f'{t:.1f}' for t in index_runs)} s) | {index_s:.1f} s, **{args.films / index_s:.0f} folders/s** | >= {GOALS['index']:.0f}/s | {verdict(args.films / index_s, GOALS['index'], False)} |
| `index --full` (every folder read again, database replaced) | {full_s:.1f} s, {args.films / full_s:.0f} folders/s | | |
| `index` with nothing changed | {same_s:.2f} s, {args.films / same_s:,.0f} folders/s | | |
| `index` after {changed} films were analysed again | {changed_s:.2f} s | | |
| search scale CS, movement Push, >= 2 s: first 200 + count (the shots page's query) | **{1000 * page_s:.0f} ms** ({page.attrs['total']:,} matches) | <= {1000 * GOALS['search']:.0f} ms | {verdict(page_s, GOALS['search'])} |
| search movement Push, >= 2 s, any scale: first 200 + count | **{1000 * movement_s:.0f} ms** ({movement_page.attrs['total']:,} matches) | <= {1000 * GOALS['search']:.0f} ms | {verdict(movement_s, GOALS['search'])} |
| the first search, all {len(everything):,} rows as a DataFrame (`shotscope search`) | {1000 * all_s:.0f} ms | | |
| web: films page (`GET /`, {args.films:,} rows, share bars) | **{1000 * films_s:.0f} ms** | <= {1000 * GOALS['films_page']:.0f} ms | {verdict(films_s, GOALS['films_page'])} |
| web: shots page for that search (`GET /shots?...`, 200 cards) | {1000 * web_search_s:.0f} ms | | |
| web: a film's page (`GET /film/N`: {args.shots_per_film:,} shots with their charts, table and probabilities; {film_page_kb:,.0f} KB) | {1000 * film_page_s:.0f} ms | | |
| that page in Chromium: first drawn / ready (DOMContentLoaded: clicks and keys work) / loaded (no video nor thumbnails here: the films are not on this machine) | {1000 * browser['painted']:.0f} / {1000 * browser['ready']:.0f} / {1000 * browser['loaded']:.0f} ms | | |
| sorting its {args.shots_per_film:,} shots by length in Chromium, laid out again | {1000 * browser['sort']:.0f} ms | | |

(The other `index` times are one run each; the searches and pages the best of 3-5 runs, warm. A film folder's {total:,} shots are one check that the index holds them all.)

A feature's page (1,500 shots) holds every shot's row, with its two frames, labels to correct and
probability bars: what Chromium spends on it is mostly style and layout of those rows. The label
selects get their options only when opened and a "corrected" badge is there only on a corrected
label: 36,400 elements where there were 49,900 (3.2 MB of HTML: 2.9 MB now). A table that draws only
the rows in view would make it quicker still; not done.

`index` reads only the folders that are new or changed since the last index (the size and
modification time of shots.json and provenance.json, kept in the database), so keeping an archive
in step after a few films are analysed again takes about a second, and a rebuild of an unchanged
archive a few milliseconds.

The film folders are written by the project's own JSON writer, as analyze writes them (a line per
field and a line per shot, values compact), both labels' probabilities and each shot's motion
evidence (movement fused): {json_mb:.2f} MB of shots.json a film ({json_gb:.1f} GB in all). A full read
of every folder: worker processes decode shots.json with msgspec into the fields the database holds
and the JSON it keeps (probabilities, motion evidence, statistics) as written ({msgspec_ms:.1f} ms a
file, against {loads_ms:.1f} ms for `json.loads`; a shots.json indented throughout, as earlier versions
wrote it, is {indented_mb:.2f} MB and takes {indented_ms:.1f} ms, its whitespace taken out first), and write the
rows into working SQLite databases of the archive's own `shots` table: {worker_ms:.1f} ms of a worker's
time a film, reading included ({read_ms:.1f} ms). The main process copies each one in as it comes (SQLite's transfer of whole
records, ~2 s for 1.5 million rows), in one transaction, builds the search index after the load
(~1.3 s, SQLite's sorter on helper threads) and commits. When nobody else has the database open,
that load goes through a rollback journal (written once into the file, not into the WAL and again at
the checkpoint) and the database is back in WAL mode after it; with a reader present it stays in
WAL. One index (scale, movement, duration) serves every label and length search: with the table's
statistics SQLite skips through it by scale when a search names no scale (the second search above;
with the duration index of the previous schema that search read a row per long shot and took 2.4 s).
A shot's row id is its key (film id << 20 | shot index), so the table needs no separate key index
and a film's shots are one range of rows. `--full` first deletes the old rows.

**200 folders/s is {verdict(args.films / index_s, GOALS['index'], False).replace('**', '')}** on this
2-core machine: the workers' {worker_ms:.1f} ms a film make {worker_ms * args.films / 1000:.1f} CPU-seconds for
{args.films:,} films, and the copy, index build and commit ~{main_cpu:.1f} more, over {(worker_ms * args.films / 1000 + main_cpu) / 2:.1f} s
on two cores however well they are shared (most of a worker's time is making and inserting 1,500 rows,
~2.5 microseconds a row, SQLite's own pace through Python). The workers scale with cores (up to 8).
Earlier figures of this benchmark (177-207/s) were measured on hand-made film folders a quarter of
this size (compact JSON, no motion evidence); on folders indented throughout the index ran at ~80/s
and the database was 1.2 GB, because the JSON was kept with its whitespace: kept compact, it is
{db_mb:.0f} MB. Writing shots.json a line per shot ({json_mb / indented_mb:.1f} of the size) saves {indented_ms - msgspec_ms:.1f} ms of decoding
a film, a small part of the whole. The incremental index is what keeps an archive in step day to day.
"""
    print(body)
    if not args.no_write:
        write_section("Archive at scale: search, films page, index", body)


if __name__ == "__main__":
    main()
