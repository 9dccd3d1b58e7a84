"""The web app and the archive under hostile and faulty input (the fault corpus's web and archive
part): other sites reaching a loopback server (DNS rebinding, cross-site writes), tokens that guard
nothing, film folders naming files that are no film, ids past every bound, search patterns past
SQLite's, full / read-only / damaged databases, racing corrections, films stored by relative
paths, supercuts in every format read back, and a model whose label order differs."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from starlette.testclient import TestClient

from shotscope import Archive
from shotscope._cli.main import main
from shotscope.data.synthetic import make_film
from shotscope.errors import ArchiveUnavailable
from shotscope.web import create_app, serving

from .conftest import reordered
from .faults import small_disk

LOCAL = "http://localhost"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """An archive of two films analysed from inside their folder by relative paths."""
    root = tmp_path_factory.mktemp("hostile")
    films = root / "films"
    make_film(films / "one.mp4", [("LS", "Static", 36), ("CS", "Push", 40), ("MS", "Static", 36)], width=192, height=108)
    make_film(films / "two.mp4", [("FS", "Pull", 36), ("LS", "Motion", 40)], width=192, height=108)
    cwd = os.getcwd()
    os.chdir(films)
    try:  # `shotscope analyze one.mp4 two.mp4 -o ../out` as typed in the films' folder
        assert main(["analyze", "one.mp4", "two.mp4", "-o", "../out", "--movement", "geometry", "--scale", "none", "-q"]) == 0
    finally:
        os.chdir(cwd)
    return root / "out"


@pytest.fixture
def copy(site, tmp_path):
    shutil.copytree(site, tmp_path / "out")
    return tmp_path / "out"


def film_id(out: Path, name: str) -> int:
    films = Archive(out).films()
    return int(films.loc[films["path"].map(lambda p: Path(p).name) == name, "id"].item())


def folder_of(out: Path, name: str) -> str:
    films = Archive(out).films()
    return str(films.loc[films["path"].map(lambda p: Path(p).name) == name, "folder"].item())


def csrf_of(page: str) -> str:
    return page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_briefly(args: list[str]) -> subprocess.CompletedProcess:
    """``shotscope serve ARGS`` expected to refuse to start; one that serves instead fails the test."""
    try:
        return subprocess.run([sys.executable, "-m", "shotscope", "serve", *args, "--port", str(free_port())],
                              capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"`shotscope serve {' '.join(args)}` served") from None


# --- 1. other sites: DNS rebinding and cross-site writes ----------------------------------------

def test_a_loopback_server_answers_only_its_own_names(copy):
    app = create_app(copy)
    one = film_id(copy, "one.mp4")
    for base in ("http://attacker.example:8765", "http://127.0.0.1.attacker.example", "http://localhost.example"):
        client = TestClient(app, base_url=base)
        for url in ("/", f"/film/{one}", f"/media/{one}", "/shots/export.csv", f"/film/{one}/corrections"):
            answer = client.get(url)
            assert answer.status_code == 421, (base, url)
            assert "csrf-token" not in answer.text and "one.mp4" not in answer.text
        assert client.post("/api/correct", json={}).status_code == 421
    for base in ("http://localhost:8765", "http://127.0.0.1:9", "http://[::1]:8765"):
        assert TestClient(app, base_url=base).get("/").status_code == 200, base


def test_writes_come_only_from_the_servers_own_pages(copy):
    client = TestClient(create_app(copy), base_url="http://localhost:8765")
    one = film_id(copy, "one.mp4")
    token = csrf_of(client.get(f"/film/{one}").text)
    body = {"film": one, "shot": 0, "field": "scale", "value": "CS"}
    for origin in ("http://attacker.example", "http://localhost:9999", "null", "https://localhost:8765"):
        answer = client.post("/api/correct", json=body, headers={"X-CSRF-Token": token, "Origin": origin})
        assert answer.status_code == 403 and "another site" in answer.text, origin
    answer = client.post("/api/correct", json=body, headers={"X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 403
    assert Archive(copy).shots(corrected=True).empty
    same = client.post("/api/correct", json=body, headers={"X-CSRF-Token": token, "Origin": "http://localhost:8765"})
    assert same.status_code == 200 and same.json()["new"] == "CS"


def test_in_a_browser_a_rebound_name_gets_nothing(copy):
    """Chromium resolving attacker.example to this machine (what DNS rebinding does to a page of that
    site) gets no page and no CSRF token; the same server by its own name serves the page."""
    from playwright.sync_api import sync_playwright

    from .test_web import chromium

    one = film_id(copy, "one.mp4")
    with serving(create_app(copy)) as url, sync_playwright() as p:
        port = url.rsplit(":", 1)[1]
        browser = p.chromium.launch(executable_path=chromium(), args=[
            "--no-sandbox", "--host-resolver-rules=MAP attacker.example 127.0.0.1"])
        page = browser.new_page()
        answer = page.goto(f"http://attacker.example:{port}/film/{one}")
        assert answer.status == 421 and "csrf-token" not in page.content() and "one.mp4" not in page.content()
        assert "--allow-host" in page.content()
        assert page.goto(f"http://localhost:{port}/film/{one}").status == 200
        assert page.evaluate("document.querySelector('meta[name=csrf-token]').content")
        browser.close()


# --- 2. tokens that guard nothing ---------------------------------------------------------------

@pytest.mark.parametrize(("host", "token", "message"), [
    ("0.0.0.0", "", "--token is empty"),
    ("0.0.0.0", "   ", "--token is empty"),
    ("0.0.0.0", "abc123", "needs at least 16"),
    ("192.168.1.20", "short", "needs at least 16"),
    ("127.0.0.1", "", "--token is empty"),
])
def test_serve_refuses_a_token_that_guards_nothing(site, host, token, message):
    done = serve_briefly([str(site), "--host", host, "--token", token])
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_serve_off_loopback_with_a_long_token_starts_and_guards(site):
    import time
    import urllib.error
    import urllib.request

    port = free_port()
    token = "a-long-enough-token-1234"
    proc = subprocess.Popen([sys.executable, "-m", "shotscope", "serve", str(site), "--host", "0.0.0.0", "--port",
                             str(port), "--token", token], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert f"?token={token}" in proc.stdout.readline()
        deadline = time.time() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
                raise AssertionError("served without the token")
            except urllib.error.HTTPError as exc:
                assert exc.code == 401
                break
            except urllib.error.URLError:
                assert time.time() < deadline
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(20)


# --- 3. film folders naming what is no film -------------------------------------------------------

def _name_film(folder: Path, path: str) -> None:
    """Make a film folder name ``path`` as its film, in shots.json and provenance.json alike."""
    data = json.loads((folder / "shots.json").read_text())
    data["file"] = path
    (folder / "shots.json").write_text(json.dumps(data))
    provenance = json.loads((folder / "provenance.json").read_text())
    provenance["film"]["path"] = path
    (folder / "provenance.json").write_text(json.dumps(provenance))


def test_a_folder_naming_a_file_that_is_no_video_is_refused_at_index_time(copy, capsys):
    folder = next(p for p in copy.iterdir() if p.name.startswith("two-"))
    _name_film(folder, "/etc/passwd")
    assert run(["index", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "/etc/passwd" in err and "not a video file" in err
    assert [Path(p).name for p in Archive(copy).films()["path"]] == ["one.mp4"]


def test_media_serves_only_the_film_analysed(copy, tmp_path):
    one = film_id(copy, "one.mp4")
    client = TestClient(create_app(copy), base_url=LOCAL)
    film = Path(Archive(copy).films().set_index("id").loc[one, "path"])
    assert client.get(f"/media/{one}").content == film.read_bytes()
    # the film replaced by another file of its name: not the film analysed
    original = film.read_bytes()
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"root:x:0:0:" + bytes(len(original) - 11))
    try:
        film.unlink()
        film.symlink_to(secret)  # a link to something of the same size
        answer = client.get(f"/media/{one}")
        assert answer.status_code == 404 and "root:" not in answer.text and "not the film analysed" in answer.text
    finally:
        film.unlink()
        film.write_bytes(original)
    # a folder that names a system file, put straight into the database (as an older index would)
    with sqlite3.connect(copy / "shotscope.db") as db:
        db.execute("UPDATE films SET path = '/etc/passwd' WHERE id = ?", (one,))
    answer = TestClient(create_app(copy), base_url=LOCAL).get(f"/media/{one}")
    assert answer.status_code == 404 and "root:" not in answer.text


def test_a_link_among_the_copies_is_not_served(copy, tmp_path):
    from shotscope.outputs.proxies import proxy_path

    one = film_id(copy, "one.mp4")
    folder = Archive(copy).films().set_index("id").loc[one, "folder"]
    target = proxy_path(copy, folder)
    target.parent.mkdir(exist_ok=True)
    target.symlink_to("/etc/passwd")
    answer = TestClient(create_app(copy), base_url=LOCAL).get(f"/media/{one}")
    assert "root:" not in answer.text
    assert answer.content == Path(Archive(copy).films().set_index("id").loc[one, "path"]).read_bytes()  # the film itself


# --- 4, 5. ids and patterns past every bound -----------------------------------------------------

@pytest.mark.parametrize("url", [
    "/film/99999999999999999999", "/film/99999999999999999999/corrections", "/media/99999999999999999999",
    "/thumb/99999999999999999999/0/first", "/thumb/1/99999999999999999999/first", "/compare?film=99999999999999999999",
    "/thumb/1/1048576/first", "/thumb/1/-1/first", "/film/1099511627776",
])
def test_huge_ids_are_not_found(site, url):
    answer = TestClient(create_app(site), base_url=LOCAL).get(url)
    assert answer.status_code == 404, (url, answer.status_code)


@pytest.mark.parametrize(("body", "status"), [
    ('{"film": 1e20, "shot": 0, "field": "scale", "value": "CS"}', 422),
    ('{"film": 1, "shot": Infinity, "field": "scale", "value": "CS"}', 422),
    ('{"film": 1, "shot": NaN, "field": "scale", "value": "CS"}', 422),
    ('{"film": 99999999999999999999, "shot": 0, "field": "scale", "value": "CS"}', 422),
    ('{"film": 1, "shot": 1048576, "field": "scale", "value": "CS"}', 422),
    ('{"film": 1, "shot": 1.5, "field": "scale", "value": "CS"}', 422),
    ('{"film": true, "shot": 0, "field": "scale", "value": "CS"}', 422),
    ('{"film": 1, "shot": 0, "field": ["scale"], "value": "CS"}', 400),
    ('[1, 2]', 400),
    ('{"film": 1, "shot": 999, "field": "scale", "value": "CS"}', 400),
])
def test_a_correction_with_ids_past_their_bounds_is_refused(copy, body, status):
    client = TestClient(create_app(copy), base_url=LOCAL)
    token = csrf_of(client.get("/").text)
    answer = client.post("/api/correct", content=body.encode(), headers={"X-CSRF-Token": token,
                                                                          "Content-Type": "application/json"})
    assert answer.status_code == status, answer.text
    assert "error" in answer.json() and "Traceback" not in answer.text
    assert Archive(copy).shots(corrected=True).empty


def test_a_film_pattern_past_its_bound_is_refused_without_sql(site, capsys):
    pattern = "*" + "a" * 60_000
    answer = TestClient(create_app(site), base_url=LOCAL).get("/shots", params={"film": pattern})
    assert answer.status_code == 400 and "at most 1000" in answer.text
    assert TestClient(create_app(site), base_url=LOCAL).get("/shots/export.csv", params={"film": pattern}).status_code == 400
    assert run(["search", str(site), "--film", pattern]) == 2
    err = capsys.readouterr().err
    assert "at most 1000" in err and "SELECT" not in err and len(err) < 400


# --- 6. a full disk, a read-only database or medium, a damaged database --------------------------

def _mounts() -> bool:
    probe = Path("/tmp") / f"shotscope-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True).returncode == 0
    if ok:
        subprocess.run(["umount", str(probe)], capture_output=True)
    probe.rmdir()
    return ok


needs_mount = pytest.mark.skipif(not _mounts(), reason="a real small or read-only file system needs mount (root)")


@needs_mount
def test_a_full_disk_says_so_and_changes_nothing(site, tmp_path, capsys):
    with small_disk(tmp_path / "disk", "8m") as disk:
        out = disk / "out"
        shutil.copytree(site, out)
        before = Archive(out).shots()
        client = TestClient(create_app(out), base_url=LOCAL)  # a server running when the disk fills up
        token, one = csrf_of(client.get("/").text), film_id(out, "one.mp4")
        filler = disk / "filler"
        try:  # fill what is left
            with open(filler, "wb") as fh:
                while True:
                    fh.write(b"\0" * 4096)
                    fh.flush()
        except OSError:
            pass
        for argv in (["correct", str(out), "--film", "one.mp4", "--shot", "0", "--scale", "CS", "--note", "x" * 9000],
                     ["index", str(out), "--full"]):
            code = run(argv)
            err = capsys.readouterr().err
            assert code == 1 and "disk is full" in err and "unexpected" not in err, err
        answer = client.post("/api/correct", json={"film": one, "shot": 0, "field": "scale",
                                                   "value": "CS", "note": "y" * 9000}, headers={"X-CSRF-Token": token})
        assert answer.status_code == 503 and "disk is full" in answer.json()["error"]
        filler.unlink()
        assert Archive(out).shots().equals(before)  # nothing lost, nothing half-done


def test_a_database_file_that_cannot_be_written_says_so(copy, capsys):
    if os.geteuid() == 0:  # root writes through file modes: a read-only medium below tests that case
        (copy / "shotscope.db").chmod(0o444)
        db = copy / "shotscope.db"
        subprocess.run(["chattr", "+i", str(db)], capture_output=True)
        immutable = subprocess.run(["lsattr", str(db)], capture_output=True, text=True).stdout.split(" ")[0]
        if "i" not in immutable:
            pytest.skip("as root, a file can be made unwritable only with chattr +i, which this file system lacks")
    else:
        (copy / "shotscope.db").chmod(0o444)
    try:
        assert run(["correct", str(copy), "--film", "one.mp4", "--shot", "0", "--scale", "CS"]) == 1
        err = capsys.readouterr().err
        assert "cannot be written" in err and "--read-only" in err and "unexpected" not in err
    finally:
        subprocess.run(["chattr", "-i", str(copy / "shotscope.db")], capture_output=True)


@needs_mount
def test_a_read_only_medium_serves_read_only_and_refuses_writes_clearly(site, tmp_path, capsys):
    medium = tmp_path / "medium"
    medium.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(medium)], check=True)
    try:
        out = medium / "out"
        shutil.copytree(site, out)
        one = film_id(out, "one.mp4")
        subprocess.run(["mount", "-o", "remount,ro", str(medium)], check=True)  # the archive as burnt on a disc
        for argv in (["correct", str(out), "--film", "one.mp4", "--shot", "0", "--scale", "CS"], ["index", str(out)]):
            code = run(argv)
            err = capsys.readouterr().err
            assert code == 1 and ("cannot be written" in err or "read-only" in err) and "unexpected" not in err, err
        client = TestClient(create_app(out, read_only=True), base_url=LOCAL)
        for url in ("/", f"/film/{one}", "/shots?scale=&movement=Static", f"/thumb/{one}/0/first"):
            assert client.get(url).status_code == 200, url
        with pytest.raises(ArchiveUnavailable, match="--read-only"):  # served as if writable: says why not
            create_app(out)
        done = serve_briefly([str(out)])
        assert done.returncode == 1 and "serve --read-only" in done.stderr
    finally:
        subprocess.run(["umount", "-l", str(medium)], capture_output=True)


def test_a_damaged_database_is_named_and_index_rebuilds_it_keeping_corrections(copy, capsys):
    assert run(["correct", str(copy), "--film", "one.mp4", "--shot", "1", "--movement", "Static", "--note", "tripod"]) == 0
    with sqlite3.connect(copy / "shotscope.db") as db:
        db.execute("DROP TABLE shots")
    capsys.readouterr()
    for argv in (["search", str(copy)], ["correct", str(copy), "--film", "one.mp4", "--shot", "0", "--scale", "CS"],
                 ["stats", str(copy)], ["index", str(copy)]):
        code = run(argv)
        err = capsys.readouterr().err
        assert code == 1 and "damaged" in err and f"shotscope index {copy} --rebuild" in err, (argv, err)
    with pytest.raises(Exception, match="damaged"):
        create_app(copy)
    assert run(["index", str(copy), "--rebuild"]) == 0
    err = capsys.readouterr().err
    assert "1 corrections carried over" in err
    assert list(copy.glob("shotscope.db.damaged-*"))  # the damaged file kept aside
    shots = Archive(copy).shots(corrected=True)
    assert shots[["shot", "movement"]].values.tolist() == [[1, "Static"]]
    assert Archive(copy).corrections(folder_of(copy, "one.mp4"))[0]["note"] == "tripod"


def test_a_file_that_is_no_database_is_named_damaged(copy, capsys):
    (copy / "shotscope.db").write_bytes(b"this is not a database" * 100)
    for name in ("shotscope.db-wal", "shotscope.db-shm"):
        (copy / name).unlink(missing_ok=True)
    assert run(["search", str(copy)]) == 1
    assert "damaged" in capsys.readouterr().err
    assert run(["index", str(copy), "--rebuild"]) == 0
    assert len(Archive(copy).films()) == 2


# --- 7. thumbnails of one film never another's ---------------------------------------------------

def test_a_shot_number_past_the_film_is_not_another_films_picture(copy, site, monkeypatch, tmp_path):
    monkeypatch.setenv("SHOTSCOPE_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(site.parent / "films")  # where the films were analysed (older archives kept that path)
    for folder in copy.iterdir():  # the pictures decoded from the film, not the ones analyze kept
        if folder.is_dir():
            (folder / "frames.zip").unlink(missing_ok=True)
    one, two = film_id(copy, "one.mp4"), film_id(copy, "two.mp4")
    client = TestClient(create_app(copy), base_url=LOCAL)
    assert client.get(f"/thumb/{one}/0/first").status_code == 200
    for shot in (3, 1 << 20, (1 << 20) + 1, (two - one) << 20):
        assert client.get(f"/thumb/{one}/{shot}/first").status_code == 404, shot


# --- 8. read-only writes nothing -----------------------------------------------------------------

def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_read_only_writes_not_a_byte_into_the_archive(copy, tmp_path, monkeypatch):
    monkeypatch.setenv("SHOTSCOPE_CACHE", str(tmp_path / "cache"))
    for folder in copy.iterdir():  # thumbnails decoded from the films: the pictures analyze kept are gone
        if folder.is_dir():
            (folder / "frames.zip").unlink(missing_ok=True)
    Archive(copy).index()
    with sqlite3.connect(copy / "shotscope.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    before = _snapshot(copy)
    client = TestClient(create_app(copy, read_only=True), base_url=LOCAL)
    one = film_id(copy, "one.mp4")
    for url in ("/", f"/film/{one}", "/shots", "/shots/export.edl", f"/compare?film={one}", f"/media/{one}",
                f"/thumb/{one}/0/first", f"/thumb/{one}/1/middle", f"/film/{one}/corrections"):
        assert client.get(url).status_code == 200, url
    assert _snapshot(copy) == before  # not a byte, not a file (no -wal, -shm, thumbnails)
    assert list((tmp_path / "cache").rglob("*.jpg"))  # the thumbnails went to the user's cache


# --- 9. racing corrections record what each replaced ----------------------------------------------

def test_racing_corrections_on_one_shot_each_record_the_label_they_replaced(copy):
    labels = ["ECS", "CS", "MS", "FS", "LS"]
    barrier = threading.Barrier(8)
    errors = []

    def writer(k: int) -> None:
        archive = Archive(copy)
        barrier.wait()
        try:
            for j in range(5):
                archive.correct("one.mp4", 1, "scale", labels[(k + j) % 5])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    history = Archive(copy).corrections(folder_of(copy, "one.mp4"))
    # 40 asked; one asking for the label the shot has just then is no correction and is not recorded
    assert 30 <= len(history) <= 40 and all(h["old_value"] != h["new_value"] for h in history)
    for before, after in zip(history, history[1:], strict=False):  # each says what the one before it left
        assert after["old_value"] == before["new_value"]
    assert history[0]["old_value"] is None  # geometry only: no scale before the first correction


# --- 10. films analysed by relative paths ----------------------------------------------------------

def test_a_supercut_made_elsewhere_links_to_films_that_exist(site, tmp_path, monkeypatch, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert all(Path(p).is_absolute() for p in Archive(site).films()["path"])
    assert run(["search", str(site), "-o", "cut.otio"]) == 0
    tl = otio.adapters.read_from_file("cut.otio")
    targets = {clip.media_reference.target_url for clip in tl.find_clips()}
    assert targets and all(Path(otio.url_utils.filepath_from_url(t)).is_file() for t in targets)


def test_a_supercut_warns_of_films_not_on_this_machine(copy, tmp_path, monkeypatch, capsys):
    with sqlite3.connect(copy / "shotscope.db") as db:
        db.execute("UPDATE films SET path = '/nowhere/lost.mp4' WHERE path LIKE '%two.mp4'")
    monkeypatch.chdir(tmp_path)
    assert run(["search", str(copy), "-o", "cut.edl"]) == 0
    assert "/nowhere/lost.mp4: not on this machine" in capsys.readouterr().err


# --- 11. every export format of a real selection, read back ---------------------------------------

@pytest.mark.parametrize("kind", ["edl", "otio", "xml"])
def test_a_selection_exports_in_every_format_and_reads_back(site, tmp_path, kind, capsys):
    shots = Archive(site).shots(movement="Static")
    assert len(shots) >= 2
    target = tmp_path / f"cut.{kind}"
    assert run(["search", str(site), "--movement", "Static", "-o", str(target)]) == 0
    web = TestClient(create_app(site), base_url=LOCAL).get(f"/shots/export.{kind}", params={"movement": "Static"})
    assert web.status_code == 200
    for text in (target.read_text(), web.text):
        adapter = {"edl": "cmx_3600", "otio": "otio_json", "xml": "fcp_xml"}[kind]
        tl = otio.adapters.read_from_string(text, adapter)
        clips = list(tl.find_clips())
        assert len(clips) == len(shots)
        for clip, row in zip(clips, shots.itertuples(), strict=True):
            assert clip.source_range.start_time.to_frames() == row.start_frame
            assert clip.source_range.duration.to_frames() == row.end_frame - row.start_frame
            if kind != "edl":  # an EDL names its reels, not files
                assert Path(otio.url_utils.filepath_from_url(clip.media_reference.target_url)) == Path(row.film)


# --- 12. evaluate a model whose labels are in another order ----------------------------------------

def test_evaluate_scores_a_model_by_its_labels_names_not_their_order(tiny_model, tmp_path):

    from shotscope.data.records import ClipRecord
    from shotscope.training.evaluation import evaluate_predictions, predict_records

    films = tmp_path / "clips"
    records = []
    for k, (scale, movement) in enumerate([("CS", "Static"), ("LS", "Motion"), ("MS", "Push"), ("FS", "Static")]):
        path = films / f"c{k}.mp4"
        make_film(path, [(scale, movement, 16)], width=64, height=48)
        records.append(ClipRecord(str(path), ["ECS", "CS", "MS", "FS", "LS"].index(scale),
                                  ["Static", "Motion", "Pull", "Push"].index(movement)))
    # the same network with its heads' rows and label maps in another order: the same answers
    other = reordered(tiny_model, [4, 2, 0, 3, 1], [3, 1, 0, 2])
    ours = evaluate_predictions(tiny_model, predict_records(tiny_model, records))
    theirs = evaluate_predictions(other, predict_records(other, records))
    for task in ("scale", "movement"):
        assert theirs[task]["accuracy"] == ours[task]["accuracy"]
        assert theirs[task]["confusion"] == ours[task]["confusion"]
        assert theirs[task]["labels"] == ours[task]["labels"]
    first = predict_records(tiny_model, records[:1])
    second = predict_records(other, records[:1])
    assert first.labels(0) == second.labels(0)
    assert np.isclose(sorted(first.scale_probs[0]), sorted(second.scale_probs[0])).all()


def test_every_film_analyze_finds_in_a_folder_is_one_the_archive_serves():
    from shotscope.video.decode import FOLDER_SUFFIXES, VIDEO_SUFFIXES

    assert FOLDER_SUFFIXES and FOLDER_SUFFIXES <= VIDEO_SUFFIXES and ".txt" not in VIDEO_SUFFIXES
