"""What a newcomer meets on the command line: stdout that is data alone, a busy port said plainly,
one film given two ways analysed once, mistyped commands and options answered with what was
meant, labels in any case, a hint where nothing matched, a correction to the label a shot has
already not recorded, the statistics scholars publish, and a report that finds its film."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from shotscope import Archive
from shotscope._cli.main import main
from shotscope.data.synthetic import make_film

SHOTS = [("LS", "Static", 30), ("CS", "Static", 36), ("MS", "Static", 30)]


def run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code)


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    path = tmp_path_factory.mktemp("newcomer") / "films" / "film.mp4"
    make_film(path, SHOTS, width=160, height=96)
    return path


def test_format_csv_on_a_first_run_prints_the_csv_alone(film, tmp_path, capsys):
    """`analyze FILM --format csv > shots.csv` on a film not analysed before: stdout is the CSV (the
    report's path and the summary go to stderr)."""
    assert run(["analyze", str(film), "-o", str(tmp_path / "out"), "--movement", "geometry", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert len(rows) == len(SHOTS) and captured.out.startswith("shot,start_frame")
    assert "report.html" not in captured.out
    assert "3 shots, average length" in captured.err and "movement from the picture's geometry" in captured.err


def test_after_analyze_it_says_shots_length_and_where_labels_came_from(film, tmp_path, capsys):
    assert run(["analyze", str(film), "-o", str(tmp_path / "out"), "--movement", "geometry", "--scale", "none"]) == 0
    err = capsys.readouterr().err
    assert "film.mp4: 3 shots, average length 1.33 s; scale left empty (--scale none)" in err


def test_one_film_given_two_ways_is_analysed_once_and_stored_whole(film, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(film.parent)
    spelled = ["film.mp4", f"../{film.parent.name}/film.mp4", str(film)]
    assert run(["analyze", *spelled, "-o", str(tmp_path / "out"), "--movement", "geometry", "-q"]) == 0
    folders = [p for p in (tmp_path / "out").iterdir() if (p / "shots.json").is_file()]
    assert len(folders) == 1
    stored = json.loads((folders[0] / "shots.json").read_text())["file"]
    assert stored == str(film) and ".." not in stored
    assert Archive(tmp_path / "out").films()["path"].tolist() == [str(film)]


def test_serve_on_a_busy_port_says_so_and_stops(film, tmp_path):
    assert run(["analyze", str(film), "-o", str(tmp_path / "out"), "--movement", "geometry", "-q"]) == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "shotscope", "serve", str(tmp_path / "out"), "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and f"port {port} on 127.0.0.1 is in use" in done.stderr and "--port" in done.stderr
    assert "serving" not in done.stdout and "Traceback" not in done.stderr


@pytest.mark.parametrize(("argv", "meant"), [
    (["anlyze", "x"], "did you mean analyze?"),
    (["serch", "x"], "did you mean search?"),
    (["analyze", "x", "--movment", "geometry"], "did you mean --movement?"),
    (["search", "x", "--min-confidance", "0.5"], "did you mean --min-confidence?"),
])
def test_mistyped_commands_and_options_get_what_was_meant(argv, meant, capsys):
    assert run(argv) == 2
    assert meant in capsys.readouterr().err


def test_analyse_is_analyze(film, tmp_path):
    assert run(["analyse", str(film), "-o", str(tmp_path / "out"), "--movement", "geometry", "-q"]) == 0
    assert list((tmp_path / "out").glob("*/shots.json"))


def test_labels_in_any_case_and_a_hint_where_nothing_matched(film, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["analyze", str(film), "-o", str(out), "--movement", "geometry", "--scale", "none", "-q"]) == 0
    capsys.readouterr()
    assert run(["search", str(out), "--movement", "static", "--format", "csv"]) == 0
    assert len(list(csv.DictReader(io.StringIO(capsys.readouterr().out)))) == 3
    assert run(["search", str(out), "--movement", "PUSH"]) == 0
    printed = capsys.readouterr().out
    assert "no shot matches; the archive holds 3 shots of 1 films" in printed and "(none)" not in printed
    assert run(["correct", str(out), "--film", "film.mp4", "--shot", "0", "--scale", "ls"]) == 0
    assert "scale None -> LS" in capsys.readouterr().out
    assert run(["search", str(out), "--scale", "XL"]) == 2  # still a usage error, naming the choices


def test_a_correction_to_the_label_a_shot_has_is_not_recorded(film, tmp_path, capsys):
    from starlette.testclient import TestClient

    from shotscope.web import create_app

    out = tmp_path / "out"
    assert run(["analyze", str(film), "-o", str(out), "--movement", "geometry", "--scale", "none", "-q"]) == 0
    shown = Archive(out).shots()["movement"].iloc[0]
    capsys.readouterr()
    assert run(["correct", str(out), "--film", "film.mp4", "--shot", "0", "--movement", shown]) == 0
    assert f"movement is {shown} already; nothing recorded" in capsys.readouterr().out
    client = TestClient(create_app(out), base_url="http://localhost")
    token = client.get("/").text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    film_id = int(Archive(out).films()["id"].iloc[0])
    answer = client.post("/api/correct", json={"film": film_id, "shot": 0, "field": "movement", "value": shown},
                         headers={"X-CSRF-Token": token})
    assert answer.status_code == 200 and answer.json()["unchanged"] is True
    assert Archive(out).shots(corrected=True).empty
    assert Archive(out).corrections(Archive(out).films()["folder"].iloc[0]) == []


def test_stats_give_cinemetrics_figures_and_name_shares_as_shares(film, tmp_path, capsys):
    import numpy as np

    out = tmp_path / "out"
    assert run(["analyze", str(film), "-o", str(out), "--movement", "geometry", "-q"]) == 0
    stats = Archive(out).stats()
    lengths = np.array(Archive(out).shots()["duration"])
    row = stats.iloc[0]
    assert row["shot_length_sd"] == pytest.approx(lengths.std(), abs=1e-3)
    assert row["shot_length_cv"] == pytest.approx(lengths.std() / lengths.mean(), abs=1e-3)
    assert row["msl_asl"] == pytest.approx(np.median(lengths) / lengths.mean(), abs=1e-3)
    assert row["shot_length_range"] == pytest.approx(lengths.max() - lengths.min(), abs=1e-3)
    assert "movement_Static_time_share" in stats and "movement_Static_shot_share" in stats
    assert not [c for c in stats.columns if c.endswith("_time") or c.endswith("_shots") and c != "shots"]
    capsys.readouterr()
    assert run(["stats", str(out)]) == 0
    table = capsys.readouterr().out
    assert "shot_length_cv" in table and "movement_Static_time_share" in table


def test_the_report_finds_its_film_beside_it_or_where_it_was_analysed(film, tmp_path):
    out = tmp_path / "out"
    assert run(["analyze", str(film), "-o", str(out), "--movement", "geometry", "-q"]) == 0
    html = next(out.glob("*/report.html")).read_text()
    sources = [part.split('"', 1)[0] for part in html.split('<source src="')[1:]]
    assert sources[0] == os.path.relpath(film, next(out.glob("*/report.html")).parent)  # moved with its films
    assert sources[1] == Path(film).as_uri()  # mailed on its own: the film where it was analysed


# --- the film page in a browser: undo, notes, the keys, timecodes, contrast -------------------------

from .test_web import browser_site, copy, film_id, page, site, until  # noqa: E402, F401 - the web tests' fixtures

CONTRAST = """(() => {
  const lum = (c) => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const opaque = (c) => { const m = c.match(/[\\d.]+/g); return m && (m.length < 4 || +m[3] > 0.5); };
  const worst = [];
  for (const el of document.querySelectorAll("body *")) {
    const text = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim()).map((n) => n.textContent).join("");
    if (!text || !el.offsetParent && getComputedStyle(el).position !== "fixed") continue;
    let bg = el, colour = getComputedStyle(el).color;
    while (bg && !opaque(getComputedStyle(bg).backgroundColor)) bg = bg.parentElement;
    const back = bg ? getComputedStyle(bg).backgroundColor : "rgb(255,255,255)";
    const [a, b] = [lum(colour), lum(back)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) worst.push([el.tagName, el.className, text.trim().slice(0, 30), ratio.toFixed(2)]);
  }
  return worst;
})()"""


def test_in_a_browser_text_is_readable_and_corrections_take_notes_and_undo(browser_site, page, tmp_path):  # noqa: F811
    url, out = browser_site
    one = film_id(out, "one.mp4")
    for path in ("/", f"/film/{one}", "/shots", f"/compare?film={one}"):
        page.goto(url + path)
        assert page.evaluate(CONTRAST) == [], path  # every text at least 4.5:1 against what is behind it
    page.goto(f"{url}/film/{one}")
    until(page, "window.shotscope && shotscope.shots.length > 0")
    assert "00:00:02:00" in page.inner_text("table.shots tr[data-shot='1']")  # timecodes and frame numbers
    assert "frame 48" in page.inner_text("table.shots tr[data-shot='1']")
    page.keyboard.press("?")
    assert page.is_visible("#keys") and "undo the last correction" in page.inner_text("#keys")
    page.keyboard.press("Escape")
    assert not page.is_visible("#keys")
    shots = page.evaluate("shotscope.shots")
    page.click("table.shots tr[data-shot='2'] a.play")
    until(page, "shotscope.current === 2")
    page.fill("#note", "a crane, not a zoom")
    page.evaluate("document.activeElement.blur()")
    target = next(k for k in ("Motion", "Static") if k != shots[2]["movement"])
    page.keyboard.press({"Static": "6", "Motion": "7"}[target])
    badge = "tr[data-shot='2'] select[data-field='movement'] + .corrected"
    until(page, f"document.querySelector(\"{badge}\")")
    history = Archive(out).corrections(Archive(out).films().set_index("id").loc[one, "folder"])
    assert [(h["new_value"], h["note"]) for h in history] == [(target, "a crane, not a zoom")]
    page.keyboard.press("u")  # undo: the model's label again, nothing left recorded
    until(page, f"!document.querySelector(\"{badge}\")")
    assert page.input_value("tr[data-shot='2'] select[data-field='movement']") == shots[2]["movement"]
    shot = Archive(out).shots(film="one.mp4").set_index("shot").loc[2]
    assert shot["movement"] == shots[2]["movement"] and not shot["movement_corrected"]
    assert Archive(out).corrections(Archive(out).films().set_index("id").loc[one, "folder"]) == []
    page.reload()
    assert page.locator(badge).count() == 0


def test_the_demo_shows_what_its_film_was_made_with(monkeypatch, tmp_path, capsys):
    """`shotscope demo` prints each shot's labels beside the ones its generated film was made with,
    and how many are right (the demo itself trains a model: here its result is made by hand)."""
    import shotscope.demo as demo
    from shotscope.analysis.results import FilmAnalysis, Shot

    starts = np.cumsum([0] + [n for _, _, n in demo.DEMO_SHOTS])
    shots = [Shot(k, int(a), int(b), a / 24, b / 24, scale=s, scale_prob=0.9, movement="Static", movement_prob=0.8)
             for k, (a, b, (s, _, _)) in enumerate(zip(starts[:-1], starts[1:], demo.DEMO_SHOTS, strict=True))]
    film = FilmAnalysis(str(tmp_path / "demo-film.mp4"), 24.0, int(starts[-1]), starts[-1] / 24, 640, 360, shots, {})
    monkeypatch.setattr(demo, "run_demo", lambda out, progress=None: (film, tmp_path / "report.html"))
    assert run(["demo", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    statics = sum(m == "Static" for _, m, _ in demo.DEMO_SHOTS)
    assert f"right: scale {len(shots)}/{len(shots)}, movement {statics}/{len(shots)}" in out
    first = out.splitlines()[3]
    assert first.split("|")[1].split() == list(demo.DEMO_SHOTS[0][:2])
    assert demo.truth_of(Shot(0, 50, 60, 0, 1)) == demo.DEMO_SHOTS[1][:2]  # frames 48-87 are the second shot


def test_compare_puts_films_on_common_axes(site):  # noqa: F811
    """Films of different lengths compared: one scale of seconds for every film's shot lengths, each
    film's place as a share of it, and their length distributions overlaid on one set of bins."""
    import re

    from starlette.testclient import TestClient

    from shotscope.web import create_app

    one, two = film_id(site, "one.mp4"), film_id(site, "two.mp4")
    html = TestClient(create_app(site), base_url="http://localhost").get(f"/compare?film={one}&film={two}").text
    charts = html.split('<div class="lengths-chart">')[1:]
    assert len(charts) == 2
    y_labels = [re.findall(r'dominant-baseline="middle">([^<]+)</text>', c) for c in charts]
    assert y_labels[0] == y_labels[1] and y_labels[0]  # one scale of seconds for both
    assert all(">50 %</text>" in c.split("</div></div>", 1)[0] for c in charts)  # x: the share of each film
    histograms = html.split('class="time histograms"', 1)[1].split("</svg>", 1)[0]
    assert [m for m in re.findall(r'data-film="([^"]+)"', histograms)] == ["one.mp4", "two.mp4"]
