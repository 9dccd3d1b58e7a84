"""The archive's web app: pages, range requests, security (path traversal, script injection, CSRF,
tokens, read-only), concurrent corrections, and the whole flow in a real browser (Debian's
chromium driven by Playwright): open a film, play a shot to its end, correct a label, search, export."""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from shotscope import Archive
from shotscope._cli.main import main
from shotscope.data.synthetic import make_film
from shotscope.labels import SCALE_LABELS
from shotscope.video.decode import write_video
from shotscope.views.charts import MOVEMENT_COLOURS
from shotscope.web import create_app, serving

LOCAL = "http://localhost"  # the web app answers only to the names it serves (not "testserver")

EVIL = 'evil"><img src=x onerror=alert(1)>.mp4'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    films = root / "films"
    make_film(films / "one.mp4", [("LS", "Static", 48), ("CS", "Push", 60), ("MS", "Static", 72)], width=320, height=180)
    make_film(films / "two.mp4", [("FS", "Pull", 48), ("LS", "Motion", 72)], width=320, height=180)
    make_film(films / EVIL, [("MS", "Static", 30), ("CS", "Static", 30)], width=160, height=96)
    # MPEG-4 part 2 in an AVI: a film a browser cannot play (its thumbnails still work)
    rng = np.random.default_rng(0)
    write_video(films / "old.avi", (np.full((96, 160, 3), int(v), np.uint8) + rng.integers(0, 9, (96, 160, 3), dtype=np.uint8)
                                    for v in np.r_[np.full(30, 40), np.full(30, 200)]), fps=24, codec="mpeg4")
    assert main(["analyze", str(films), "-o", str(root / "out"), "--movement", "geometry", "--scale", "none", "-q"]) == 0
    return root / "out"


def film_id(out: Path, name: str) -> int:
    films = Archive(out).films()
    return int(films.loc[films["path"].map(lambda p: Path(p).name) == name, "id"].item())


@pytest.fixture
def copy(site, tmp_path):
    """A copy of the archive a test may write to (paths of the films stay absolute)."""
    shutil.copytree(site, tmp_path / "out")
    return tmp_path / "out"


def csrf_of(page: str) -> str:
    return page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def test_pages_charts_and_range_requests(site):
    client = TestClient(create_app(site), base_url=LOCAL)
    one = film_id(site, "one.mp4")
    films = client.get("/")
    assert films.status_code == 200 and "one.mp4" in films.text and "two.mp4" in films.text
    assert films.headers["content-security-policy"].startswith("default-src 'self'")
    page = client.get(f"/film/{one}")
    assert page.status_code == 200
    assert page.text.count('class="seg" data-shot=') >= 3 + 3  # movement strip + length chart, a mark per shot
    assert "Movement over time" in page.text and "Shot length by position" in page.text
    assert "<h3>Scale" not in page.text  # no scale labels (geometry only): the scale charts are hidden, not empty
    assert "Movement:" in page.text and "Scale:" not in page.text  # and so is the scale colours' legend
    counts = re.findall(r"<b>(\d+) (shots?), ", page.text)  # the share bars: "1 shot", "2 shots"
    assert counts and all((n == "1") == (word == "shot") for n, word in counts), counts
    size = (site.parent / "films" / "one.mp4").stat().st_size
    part = client.get(f"/media/{one}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.headers["content-range"] == f"bytes 100-199/{size}"
    assert part.content == (site.parent / "films" / "one.mp4").read_bytes()[100:200]
    assert part.headers["content-type"] == "video/mp4"
    assert client.get(f"/media/{one}", headers={"Range": "bytes=abc"}).status_code == 400
    assert client.get(f"/media/{one}", headers={"Range": f"bytes={size + 10}-"}).status_code == 416
    assert client.get(f"/media/{film_id(site, 'old.avi')}").headers["content-type"] == "video/x-msvideo"
    thumb = client.get(f"/thumb/{one}/1/first")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"  # as analyze kept it
    assert client.get(f"/thumb/{one}/99/first").status_code == 404
    found = client.get("/shots", params={"movement": "Static", "min_duration": "2.5"})
    assert found.status_code == 200
    expected = Archive(site).shots(movement="Static", min_duration=2.5)
    assert f"{len(expected)} found" in found.text and found.text.count('<figure class="card"') == len(expected)
    csv = client.get("/shots/export.csv", params={"movement": "Static", "min_duration": "2.5"})
    assert len(csv.text.strip().splitlines()) == len(expected) + 1
    edl = client.get("/shots/export.edl", params={"movement": "Static"})
    assert edl.status_code == 200 and edl.text.startswith("TITLE: shotscope selection") and "one.mp4" in edl.text
    for kind in ("edl", "otio", "xml", "csv"):  # a selection of no shots: an empty file of that kind
        empty = client.get(f"/shots/export.{kind}", params={"movement": "Static", "min_duration": "1e6"})
        assert empty.status_code == 200 and "one.mp4" not in empty.text
    assert client.get("/shots/export.mov").status_code == 404
    compare = client.get("/compare", params={"film": [one, film_id(site, "two.mp4")]})
    assert compare.status_code == 200 and "one.mp4" in compare.text and "two.mp4" in compare.text
    assert client.get("/shots", params={"min_duration": "long"}).status_code == 400


def test_a_feature_of_many_shots_keeps_its_colours():
    """1,500 shots in a strip: slivers are drawn without the white boundary and the hatching that
    would wash them out; a long shot among them keeps both; every shot stays clickable."""
    from shotscope.views import charts

    shots, t = [], 0.0
    for k in range(1500):
        length = 60.0 if k == 700 else 4.0
        shots.append({"shot": k, "start_time": t, "end_time": t + length, "duration": length,
                      "scale": "CS", "scale_prob": 0.3})
        t += length
    svg = charts.strip(shots, "scale", t)
    assert svg.count('class="seg"') == 1500
    assert svg.count('stroke="#fff" stroke-width="0.6"') == 1 and svg.count('fill="url(#low)"') == 1  # only the long shot
    lengths = charts.length_by_position(shots, t)
    assert 'stroke-width="1"' in lengths and 'stroke-width="3"' not in lengths


def test_the_film_page_shows_what_the_model_hesitated_between(site):
    """Each shot's probabilities of every label (and the geometry's own say) as a bar whose label
    lists them from the most probable down, as the archive holds them."""
    import html
    import re

    one = film_id(site, "one.mp4")
    page = TestClient(create_app(site), base_url=LOCAL).get(f"/film/{one}").text
    said = [html.unescape(t) for t in re.findall(r'<i class="probs" role="img" title="([^"]*)"', page)]
    shots = Archive(site).shots(film="one.mp4", details=True)
    assert len(said) == len(shots) == 3  # movement only: this archive's movement is the geometry's
    for text, shot in zip(said, shots.itertuples(), strict=True):
        ranked = sorted(shot.movement_probs.items(), key=lambda kv: -kv[1])
        assert text.startswith("movement: " + ", ".join(f"{k} {v:.2f}" for k, v in ranked))
        assert ranked[0][0] == shot.movement_predicted
        assert f"the picture's geometry: {shot.motion['label']}" in text


@pytest.mark.parametrize("url", [
    "/media/..%2F..%2F..%2Fetc%2Fpasswd", "/media/1/../../../etc/passwd", "/media/%2Fetc%2Fpasswd",
    "/thumb/1/0/..%2F..%2F..%2Fetc%2Fpasswd", "/thumb/1/0/first%2F..%2F..%2Fshotscope.db",
    "/static/..%2Fapp.py", "/static/%2e%2e/%2e%2e/archive.py", "/static/../../../../etc/passwd",
    "/film/..%2F..%2Fetc%2Fpasswd", "/compare?film=..%2F..%2Fetc%2Fpasswd", "/shots/export.%2e%2e%2Fshotscope.db",
    "/media/-1", "/film/1e3",
])
def test_no_url_reaches_the_file_system_as_a_path(site, url):
    response = TestClient(create_app(site), base_url=LOCAL).get(url)
    assert response.status_code in (400, 404), (url, response.status_code)
    assert "root:" not in response.text and "import " not in response.text and "SQLite" not in response.text


def test_film_names_and_notes_cannot_inject_script(copy):
    client = TestClient(create_app(copy), base_url=LOCAL)
    evil = film_id(copy, EVIL)
    page = client.get(f"/film/{evil}")
    note = "<script>alert('note')</script>"
    done = client.post("/api/correct", json={"film": evil, "shot": 0, "field": "movement", "value": "Pull",
                                             "note": note}, headers={"X-CSRF-Token": csrf_of(page.text)})
    assert done.status_code == 200
    for url in ("/", f"/film/{evil}", "/shots", f"/compare?film={evil}"):
        text = client.get(url).text
        assert "<img src=x onerror=alert(1)>" not in text and note not in text, url
    film_page = client.get(f"/film/{evil}").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in film_page
    assert "&lt;script&gt;alert(&#39;note&#39;)&lt;/script&gt;" in film_page
    # the JSON island for the script cannot close its <script> element either
    island = film_page.split('id="film-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in island


def test_writes_need_the_csrf_token_and_read_only_refuses_them(copy):
    client = TestClient(create_app(copy), base_url=LOCAL)
    one = film_id(copy, "one.mp4")
    body = {"film": one, "shot": 1, "field": "scale", "value": "CS"}
    assert client.post("/api/correct", json=body).status_code == 403
    assert client.post("/api/correct", json=body, headers={"X-CSRF-Token": "guess"}).status_code == 403
    assert Archive(copy).shots(corrected=True).empty
    token = csrf_of(client.get("/").text)
    assert client.post("/api/correct", json={**body, "value": "XL"}, headers={"X-CSRF-Token": token}).status_code == 400
    assert client.post("/api/correct", content=b"{", headers={"X-CSRF-Token": token}).status_code == 400
    assert client.post("/api/correct", json=body, headers={"X-CSRF-Token": token}).status_code == 200
    assert Archive(copy).shots(corrected=True)["scale"].tolist() == ["CS"]
    read_only = TestClient(create_app(copy, read_only=True), base_url=LOCAL)
    page = read_only.get(f"/film/{one}").text
    assert "select class=\"correct\"" not in page and "read-only" in page
    answer = read_only.post("/api/correct", json=body, headers={"X-CSRF-Token": csrf_of(page)})
    assert answer.status_code == 403 and "read-only" in answer.json()["error"]


def test_a_token_guards_every_page_when_one_is_set(site):
    client = TestClient(create_app(site, token="s3cret"), base_url=LOCAL, follow_redirects=False)
    for url in ("/", "/film/1", "/media/1", "/static/app.js", "/shots/export.csv"):
        assert client.get(url).status_code == 401, url
    assert client.get("/?token=wrong").status_code == 401
    entry = client.get("/film/1?token=s3cret")
    assert entry.status_code == 303 and "token" not in entry.headers["location"]
    assert client.get("/film/1").status_code == 200  # the cookie it set lets the browser in


def test_two_browsers_correcting_one_shot_last_write_wins_both_recorded(copy):
    one = film_id(copy, "one.mp4")
    first, second = TestClient(create_app(copy), base_url=LOCAL), TestClient(create_app(copy), base_url=LOCAL)
    for client, value in ((first, "Motion"), (second, "Pull")):
        token = csrf_of(client.get(f"/film/{one}").text)
        assert client.post("/api/correct", json={"film": one, "shot": 2, "field": "movement", "value": value},
                           headers={"X-CSRF-Token": token}).status_code == 200
    shot = Archive(copy).shots(film="one.mp4").set_index("shot").loc[2]
    assert shot["movement"] == "Pull" and shot["movement_predicted"] == "Static"
    history = first.get(f"/film/{one}/corrections").json()
    assert [(h["old_value"], h["new_value"]) for h in history] == [("Static", "Motion"), ("Motion", "Pull")]


# --- in a real browser ------------------------------------------------------------------------

def chromium() -> str:
    path = os.environ.get("SHOTSCOPE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Debian's chromium is needed for the browser tests: `make install` installs it"
    return path


@pytest.fixture
def browser_site(copy):
    with serving(create_app(copy)) as url:
        yield url, copy


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(),
                                    args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        yield page
        browser.close()


def until(page, js: str, timeout: float = 20.0):
    """Poll a JavaScript expression (the page's CSP forbids the eval that wait_for_function uses)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = page.evaluate(js)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {js}")


def shoot(page, name: str, tmp_path: Path) -> None:
    """Screenshots go beside the test's files, and into SHOTSCOPE_SCREENSHOTS when set (docs/)."""
    page.screenshot(path=str(tmp_path / name), full_page=True)
    if os.environ.get("SHOTSCOPE_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["SHOTSCOPE_SCREENSHOTS"], name), full_page=False)


# every time axis against the chart above it: how far (px) its ticks are from where the chart puts
# that fraction of its width, and the height of the smallest axis text
AXIS_MISALIGNMENT = """(() => {
  let px = 0, smallest = 1e9, charts = 0, ticks = 0;
  for (const axis of document.querySelectorAll('svg.axis-svg')) {
    const chart = axis.previousElementSibling.getBoundingClientRect();
    charts += 1;
    for (const tick of axis.querySelectorAll('line.tick')) {
      ticks += 1;
      const x = tick.getBoundingClientRect().left;
      px = Math.max(px, Math.abs(x - (chart.left + chart.width * parseFloat(tick.dataset.at))));
    }
    for (const text of axis.querySelectorAll('text')) smallest = Math.min(smallest, text.getBoundingClientRect().height);
  }
  return {px, smallest_text: smallest, charts, ticks};
})()"""


def test_in_a_browser_play_a_shot_correct_it_search_and_export(browser_site, page, tmp_path):
    url, out = browser_site
    page.goto(url + "/")
    rows = page.locator("#films tbody tr")
    assert rows.count() == 4
    page.click("#films th:has-text('Shots')")  # sortable: fewest shots first
    counts = [int(c) for c in page.locator("#films tbody tr td:nth-child(4)").all_inner_texts()]
    assert counts == sorted(counts)
    shoot(page, "films.png", tmp_path)

    page.click("text=one.mp4")
    until(page, "document.getElementById('player').readyState >= 1")
    for width in (1280, 700):  # every chart's axis lines up with it, at any width, and can be read
        page.set_viewport_size({"width": width, "height": 900})
        worst = page.evaluate(AXIS_MISALIGNMENT)
        assert worst["charts"] >= 3 and worst["ticks"] >= 2 * worst["charts"] and worst["px"] <= 1.5 and worst["smallest_text"] >= 10, (width, worst)
    page.set_viewport_size({"width": 1280, "height": 900})
    shots = page.evaluate("shotscope.shots")
    start, end = shots[1]["start_time"], shots[1]["end_time"]
    page.click("table.shots tr[data-shot='1'] a.play")
    t = until(page, "(() => { const v = document.getElementById('player'); "
                    "return !v.paused && v.currentTime > 0 ? v.currentTime : 0; })()")
    assert start <= t < end, (t, start, end)  # it plays from the shot's first frame...
    until(page, "document.getElementById('player').paused")
    t = page.evaluate("document.getElementById('player').currentTime")
    assert end - 0.2 <= t <= end, (t, end)  # ...and stops at its end
    assert page.locator("table.shots tr.current").get_attribute("data-shot") == "1"
    assert "Shot 1" in page.inner_text("#now")

    page.click("svg.strip[data-field='movement'] rect.seg[data-shot='2']")  # a click on the strip plays that shot
    until(page, "shotscope.current === 2")
    until(page, "document.getElementById('player').paused")
    page.keyboard.press("j")  # keys: previous shot
    until(page, "shotscope.current === 1")
    badge = "tr[data-shot='1'] select[data-field='movement'] + .corrected"
    assert shots[1]["movement"] == "Push"  # the film's Push, found by geometry
    page.keyboard.press("9")  # 9: movement Push, the label it has: nothing to correct, nothing stored
    until(page, "document.getElementById('message') && document.getElementById('message').textContent.includes('already')")
    assert page.locator(badge).count() == 0 and not Archive(out).shots(corrected=True).shape[0]
    page.keyboard.press("7")  # 7: movement Motion for the current shot
    until(page, f"document.querySelector(\"{badge}\")")
    mark = "svg.strip[data-field='movement'] rect.seg[data-shot='1']"  # its strip shows it at once
    assert page.get_attribute(mark, "fill") == MOVEMENT_COLOURS["Motion"]
    assert "Motion (corrected)" in page.text_content(f"{mark} title") and "Motion" in page.inner_text("#now")
    assert page.inner_text(badge) == f"corrected (model: {shots[1]['movement']})"
    scale_of_0 = "tr[data-shot='0'] select[data-field='scale']"
    assert page.locator(f"{scale_of_0} option").count() == 1  # only its label until it opens...
    page.click(scale_of_0)  # ...by mouse: then every label, the one shown selected
    shown = shots[0]["scale"] or ""  # none: a shot too short to label
    assert page.locator(f"{scale_of_0} option").all_inner_texts() == ([""] if not shown else []) + list(SCALE_LABELS)
    assert page.input_value(scale_of_0) == shown
    page.select_option(scale_of_0, "LS")
    until(page, "document.querySelector(\"tr[data-shot='0'] select[data-field='scale'] + .corrected\")")
    shoot(page, "film.png", tmp_path)
    page.reload()
    assert page.input_value("tr[data-shot='0'] select[data-field='scale']") == "LS"
    assert page.input_value("tr[data-shot='1'] select[data-field='movement']") == "Motion"
    assert page.inner_text(badge) == f"corrected (model: {shots[1]['movement']})"  # as the server writes it
    assert page.get_attribute(mark, "fill") == MOVEMENT_COLOURS["Motion"]  # as the server draws it
    assert page.locator("table.shots .corrected").count() == 2  # the corrected labels only
    assert page.locator("table.history tbody tr").count() == 2
    manifest = tmp_path / "corrections.csv"
    assert main(["export-labels", str(out), "-o", str(manifest)]) == 0
    text = manifest.read_text()
    assert "LS" in text and "Motion" in text and len(text.strip().splitlines()) == 3

    page.goto(url + "/shots")
    page.select_option("select[name=movement]", "Static")
    page.fill("input[name=min_duration]", "2.5")
    page.click("button:has-text('Search')")
    expected = Archive(out).shots(movement="Static", min_duration=2.5)
    assert page.locator(".card").count() == len(expected) > 0
    page.locator(".card img.inline-play").first.click()  # plays in place, from the shot's start
    until(page, "(() => { const v = document.querySelector('.card video'); return v && v.currentTime > 0; })()")
    t = page.evaluate("document.querySelector('.card video').currentTime")
    first = expected.iloc[0]
    assert first["start_time"] <= t <= first["end_time"] + 0.05
    shoot(page, "shots.png", tmp_path)
    with page.expect_download() as download:
        page.click("text=CSV")
    saved = tmp_path / "selection.csv"
    download.value.save_as(saved)
    assert len(saved.read_text().strip().splitlines()) == len(expected) + 1

    page.goto(url + "/")
    page.check(f"#films input[value='{film_id(out, 'one.mp4')}']")
    page.check(f"#films input[value='{film_id(out, 'two.mp4')}']")
    page.click("button:has-text('Compare')")
    assert page.locator(".side section").count() == 2
    shoot(page, "compare.png", tmp_path)
    assert page.errors == []


def test_in_a_browser_a_film_it_cannot_play_says_so_until_it_has_a_copy(browser_site, page, capsys):
    url, out = browser_site
    old = film_id(out, "old.avi")
    page.goto(f"{url}/film/{old}")
    until(page, "!document.getElementById('cannot-play').hidden")
    # thumbnails still work (made on first request: wait for the picture, not a fixed time)
    assert until(page, "document.querySelector('td.thumbs img').naturalWidth") > 0
    page.goto(f"{url}/shots?film=old.avi")  # a search result of it, played where it is: the picture stays
    page.click("#grid figure img.inline-play")
    until(page, "document.querySelector('#grid img.unplayable')")
    assert "cannot play the film from here" in page.inner_text("#message")
    assert page.locator("#grid video").count() == 0
    assert main(["proxy", str(out), "-q"]) == 0
    assert "1 playable copies made" in capsys.readouterr().out  # only the AVI: the MP4s play as they are
    page.goto(f"{url}/film/{old}")
    until(page, "document.getElementById('player').readyState >= 1")
    assert page.evaluate("document.getElementById('proxy-note') !== null")
    page.click("tr[data-shot='1'] .play")  # the second shot: 1.25 s to 2.5 s
    t = until(page, "(() => { const v = document.getElementById('player'); "
                    "return v.currentTime > 1.3 && v.currentTime; })()")
    assert 1.25 <= t < 2.5
    until(page, "document.getElementById('player').paused")
    assert page.evaluate("document.getElementById('cannot-play').hidden") and page.errors == []
    page.goto(f"{url}/shots?film=old.avi")  # and its search results play where they are
    page.click("#grid figure img.inline-play")
    until(page, "(() => { const v = document.querySelector('#grid video'); return v && v.currentTime > 0; })()")


def test_in_a_browser_the_report_plays_its_film_and_filters_its_shots(site, page, tmp_path):
    """report.html, opened from disk: the film plays beside it (a relative link), a click plays one
    shot to its end, the current shot is highlighted, the table filters and sorts."""
    from shotscope.runs.batch import output_dir_for

    report = output_dir_for(site.parent / "films" / "one.mp4", site) / "report.html"
    html = report.read_text()
    assert 'src="../../films/one.mp4"' in html  # relative: the report works offline beside the films
    page.goto(report.as_uri())
    until(page, "document.getElementById('player').readyState >= 1")
    shots = page.evaluate("shotscope.shots")
    worst = page.evaluate(AXIS_MISALIGNMENT)  # the histogram's axis too
    assert worst["charts"] >= 4 and worst["ticks"] >= 2 * worst["charts"] and worst["px"] <= 1.5, worst
    assert worst["smallest_text"] >= 10, worst
    page.click("table.shots tr[data-shot='2'] img.play >> nth=0")  # the first frame's picture
    until(page, "!document.getElementById('player').paused")
    until(page, "document.getElementById('player').paused")
    t = page.evaluate("document.getElementById('player').currentTime")
    assert shots[2]["end_time"] - 0.2 <= t <= shots[2]["end_time"]
    assert page.locator("table.shots tr.current").get_attribute("data-shot") == "2"
    page.select_option("#filter-movement", "Push")
    visible = page.locator("table.shot-table tbody tr:not([hidden])")
    assert visible.count() == sum(s["movement"] == "Push" for s in shots)
    page.select_option("#filter-movement", "")
    page.click("table.shot-table th:has-text('Length')")
    page.click("table.shot-table th:has-text('Length')")  # longest first
    lengths = [float(x.split()[0]) for x in page.locator("table.shot-table tbody td:nth-child(4)").all_inner_texts()]
    assert lengths == sorted(lengths, reverse=True)
    shoot(page, "report.png", tmp_path)
    assert page.errors == []


def test_thumbnails_are_the_pictures_analyze_kept_even_with_the_film_elsewhere(copy, tmp_path):
    """frames.zip holds each shot's first, middle and last frame: the web app serves them as they
    are, also when the film's video is not there (an archive on a laptop, its films on a drive); a
    folder without it (written before it existed) gets its thumbnails decoded from the video."""
    import cv2

    from shotscope.outputs.frames import FRAMES_FILE, read_frame

    films = Archive(copy).films().set_index("folder")
    folder = next(f for f in films.index if films.loc[f, "path"].endswith("two.mp4"))
    two = int(films.loc[folder, "id"])
    moved = tmp_path / "elsewhere.mp4"
    Path(films.loc[folder, "path"]).rename(moved)
    try:
        client = TestClient(create_app(copy), base_url=LOCAL)
        page = client.get(f"/film/{two}").text
        assert "playback is off." in page and page.count(f'src="/thumb/{two}/') == 2 * 2  # first + last, 2 shots
        for shot in (0, 1):
            for kind in ("first", "middle", "last"):
                served = client.get(f"/thumb/{two}/{shot}/{kind}")
                assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
                assert served.content == read_frame(copy / folder, shot, kind)
                picture = cv2.imdecode(np.frombuffer(served.content, np.uint8), cv2.IMREAD_COLOR)
                assert picture.shape[1] == 160 and picture.std() > 5  # a frame of the film, not a blank
        (copy / folder / FRAMES_FILE).unlink()  # a folder from before: nothing stored, no video
        assert client.get(f"/thumb/{two}/0/first").status_code == 404
        assert "and so are the thumbnails" in client.get(f"/film/{two}").text
    finally:
        moved.rename(films.loc[folder, "path"])
    decoded = client.get(f"/thumb/{two}/0/first")  # the video back: decoded from it
    assert decoded.status_code == 200 and decoded.content[:2] == b"\xff\xd8"  # a JPEG


def test_thumbnails_decode_a_few_at_a_time_and_the_video_does_not_wait(copy, tmp_path):
    """A table scrolled through asks for dozens of thumbnails at once: where they must be decoded
    (folders without frames.zip) they are a few at a time on threads of their own, and a range
    request of the video (playing) is answered meanwhile."""
    import asyncio

    import httpx

    from shotscope.outputs.frames import FRAMES_FILE
    from shotscope.web.app import THUMBNAIL_DECODERS

    for stored in copy.glob(f"*/{FRAMES_FILE}"):
        stored.unlink()
    site = copy
    app = create_app(site)
    picture = tmp_path / "frame.jpg"
    picture.write_bytes(b"\xff\xd8\xff\xd9")
    running, most = 0, 0

    def slow_decode(film, shot, which):  # in place of seeking and decoding a frame
        nonlocal running, most
        running += 1
        most = max(most, running)
        time.sleep(0.3)
        running -= 1
        return picture

    app.state.site._thumbnail = slow_decode
    one = film_id(site, "one.mp4")

    async def scroll_while_playing():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=LOCAL) as client:
            thumbs = [asyncio.create_task(client.get(f"/thumb/{one}/{k % 3}/{('first', 'last')[k % 2]}"))
                      for k in range(4 * THUMBNAIL_DECODERS)]
            await asyncio.sleep(0.05)
            video = await client.get(f"/media/{one}", headers={"Range": "bytes=0-999"})
            done = sum(t.done() for t in thumbs)  # thumbnails finished when the video was answered
            return [t.status_code for t in await asyncio.gather(*thumbs)], video.status_code, done

    codes, video, done = asyncio.run(scroll_while_playing())
    assert codes == [200] * len(codes) and most == THUMBNAIL_DECODERS
    # answered while they were still decoding: queued behind them, the video would have waited for
    # three rounds at least (a count, not a time: a loaded machine answers late but in this order)
    assert video == 206 and done < 3 * THUMBNAIL_DECODERS


def test_serving_runs_the_app_while_its_block_runs(site):
    """The app from a thread (a script or notebook): it answers inside the block, on IPv6's loopback
    too, and is gone after it."""
    import urllib.error
    import urllib.request

    hosts = ["127.0.0.1"]
    try:  # where this machine has IPv6
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        hosts.append("::1")
    except OSError:
        pass
    for host in hosts:
        with serving(create_app(site), host=host) as url:
            assert urllib.request.urlopen(url + "/", timeout=10).status == 200
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url + "/", timeout=2)


def test_serve_from_the_command_line_prints_a_token_for_other_hosts(site):
    """The real entry point: `shotscope serve DIR --host 0.0.0.0` prints an address with a token;
    without it nothing is served; Ctrl-C stops it cleanly."""
    import signal
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "shotscope", "serve", str(site), "--host", "0.0.0.0", "--port",
                             str(port), "--read-only"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "?token=" in line and "(read-only)" in line, line
        token = line.split("?token=", 1)[1].split()[0]
        deadline = time.time() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
                raise AssertionError("served without the token")
            except urllib.error.HTTPError as exc:
                assert exc.code == 401
                break
            except urllib.error.URLError:
                assert time.time() < deadline, "the server did not start"
                time.sleep(0.1)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        page = opener.open(f"http://127.0.0.1:{port}/?token={token}", timeout=5)  # sets the cookie, redirects
        assert page.status == 200 and "one.mp4" in page.read().decode()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
    assert proc.returncode in (0, 130), proc.stderr.read()[-2000:]


def test_shots_link_to_their_own_folder_when_two_folders_hold_one_film(copy):
    """Two folders made from the same file (say, by two models): each card on the shots page links to
    its own folder's film, not to whichever the path matches first."""
    folder = next(p for p in copy.iterdir() if p.name.startswith("one-"))
    shutil.copytree(folder, copy / "one-second-model")
    Archive(copy).index()
    ids = {int(i) for i in Archive(copy).films().query("path.str.endswith('one.mp4')", engine="python")["id"]}
    assert len(ids) == 2
    shots = Archive(copy).shots(film="one.mp4")
    assert set(shots["film_id"]) == ids and len(shots) == 6
    page = TestClient(create_app(copy), base_url=LOCAL).get("/shots", params={"film": "one.mp4"}).text
    linked = {int(part.split('"', 1)[0]) for part in page.split('data-film="')[1:]}
    assert linked == ids


def test_proxies_are_made_once_for_what_browsers_cannot_play(copy):
    from shotscope.outputs.proxies import browser_plays, make_proxies, proxy_path
    from shotscope.video.decode import open_video

    assert browser_plays("a.MP4", "h264") and browser_plays("b.webm", "vp9")
    assert not browser_plays("c.avi", "h264") and not browser_plays("d.mp4", "mpeg4")
    archive = Archive(copy)
    films = archive.films()
    old = films[films["path"].str.endswith("old.avi")].iloc[0]
    made, failed = make_proxies(archive)
    assert made == [proxy_path(copy, old["folder"])] and failed == {}
    with open_video(old["path"]) as a, open_video(made[0]) as b:
        assert b.info.codec == "h264" and (b.info.width, b.info.height) == (160, 96)  # never enlarged
        assert [f.time for f in b.frames()] == pytest.approx([f.time for f in a.frames()], abs=1e-4)
    stamp = made[0].stat().st_mtime_ns
    assert make_proxies(archive) == ([], {})  # up to date: kept
    assert make_proxies(archive, force=True)[0] == made and made[0].stat().st_mtime_ns != stamp
    assert Archive(copy).index().read == 0  # the copies' folder is not a film folder
    made[0].unlink()
    made[0].mkdir()  # something in the copy's place: that film fails, named, the run goes on
    made, failed = make_proxies(archive)
    assert made == [] and list(failed) == [old["path"]]
    assert "old.avi" in next(iter(failed.values()))
    assert not [p for p in (copy / ".proxies").iterdir() if p.name.startswith(".")]  # no half-written copy left
    # a film no longer where it was analysed: named with the reason
    import sqlite3

    with sqlite3.connect(copy / "shotscope.db") as con:
        con.execute("UPDATE films SET path = ? WHERE id = ?", (str(copy / "gone.avi"), int(old["id"])))
    made, failed = make_proxies(Archive(copy))
    assert made == [] and list(failed) == [str(copy / "gone.avi")]
    assert "gone.avi: no such file" in failed[str(copy / "gone.avi")]


def test_in_a_browser_the_probability_timeline_lies_under_the_strip(browser_site, page, tmp_path):
    """Within each shot, what geometry said every half second, under the movement strip: the push
    in the push's place, still elsewhere, found by what the browser draws at those points."""
    url, out = browser_site
    page.goto(url + f"/film/{film_id(out, 'one.mp4')}")
    shots = page.evaluate("shotscope.shots")
    total = shots[-1]["end_time"]
    probe = """([at, share]) => {
      const strip = document.querySelector('svg.strip[data-field="movement"]').getBoundingClientRect();
      const line = document.querySelector('svg.timeline[data-field="movement"]').getBoundingClientRect();
      const hit = document.elementFromPoint(line.left + line.width * at, line.top + line.height * share);
      return {below: line.top >= strip.bottom, fill: hit && hit.getAttribute('fill')};
    }"""
    for shot, label in ((1, "Push"), (2, "Static")):
        assert shots[shot]["movement"] == label
        middle = (shots[shot]["start_time"] + shots[shot]["end_time"]) / 2 / total
        seen = page.evaluate(probe, [middle, 0.5])
        assert seen["below"] and seen["fill"] == MOVEMENT_COLOURS[label], (shot, seen)
    shoot(page, "timeline.png", tmp_path)
    assert not page.errors
