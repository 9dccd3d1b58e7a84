"""The archive database: kept in step by analyze, rebuilt by index, searched and summarised from the
command line and as pandas DataFrames, exported as a supercut timeline."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3

import opentimelineio as otio
import pandas as pd
import pytest

from shotscope import Archive, DataError
from shotscope._cli.main import main
from shotscope.archive.schema import MIGRATIONS, SCHEMA_VERSION
from shotscope.data.synthetic import make_film
from shotscope.runs.batch import output_dir_for

LOCAL = "http://localhost"  # the web app answers only to the names it serves (not "testserver")

GEO = ["--movement", "geometry", "--scale", "none", "-q"]  # movement only: scale left to corrections


@pytest.fixture(scope="module")
def archive(tmp_path_factory, ):
    root = tmp_path_factory.mktemp("archive")
    make_film(root / "films" / "one.mp4", [("LS", "Static", 24), ("CS", "Push", 30), ("MS", "Static", 60)],
              width=160, height=96)
    make_film(root / "films" / "two.mp4", [("FS", "Pull", 30), ("LS", "Motion", 48)], width=160, height=96)
    assert main(["analyze", str(root / "films"), "-o", str(root / "out"), *GEO]) == 0
    return root


def test_analyze_keeps_the_database_in_step(archive):
    db = Archive(archive / "out")
    films = db.films()
    assert sorted(films["shots"]) == [2, 3] and set(films["status"]) == {"done"}
    shots = db.shots()
    for film in ("one.mp4", "two.mp4"):
        data = json.loads((output_dir_for(archive / "films" / film, archive / "out") / "shots.json").read_text())
        mine = shots[shots["film"].str.endswith(film)]
        assert list(mine["start_frame"]) == [s["start_frame"] for s in data["shots"]]
        assert list(mine["movement"]) == [s["movement"] for s in data["shots"]]
    with sqlite3.connect(db.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)


def test_filters_match_a_hand_filter(archive):
    db = Archive(archive / "out")
    every = db.shots()
    long_static = db.shots(movement="Static", min_duration=1.5)
    assert len(long_static) == len(every[(every["movement"] == "Static") & (every["duration"] >= 1.5)]) >= 1
    assert set(db.shots(film="*two*")["film"].map(lambda p: p.rsplit("/", 1)[1])) == {"two.mp4"}
    assert db.shots(min_confidence=1.01).empty


def test_index_rebuilds_a_moved_archive(archive, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(archive / "out", moved)
    (moved / "shotscope.db").unlink()
    for extra in moved.glob("shotscope.db-*"):
        extra.unlink()
    (moved / "not-a-film").mkdir()
    assert main(["index", str(moved)]) == 0  # a folder with neither shots.json nor provenance.json: not a film
    assert len(Archive(moved).films()) == 2 and len(Archive(moved).shots()) == 5


def test_index_reads_only_what_changed_and_drops_what_is_gone(archive, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(archive / "out", out)
    db = Archive(out)
    before = db.shots()
    report = db.index()
    assert (report.read, report.unchanged, report.removed, report.skipped) == (0, 2, 0, [])
    assert db.shots().equals(before)
    one = output_dir_for(archive / "films" / "one.mp4", out)
    two = output_dir_for(archive / "films" / "two.mp4", out)
    # a re-analysed film: its folder's shots.json says something new
    data = json.loads((one / "shots.json").read_text())
    data["shots"][0]["scale"], data["shots"][0]["scale_probs"] = "ECS", {"ECS": 0.9, "CS": 0.1}
    (one / "shots.json").write_text(json.dumps(data))
    assert Archive(out).index() == (1, 1, 0, [], [])
    shots = Archive(out).shots(film="*one.mp4")
    assert shots["scale"].tolist()[0] == "ECS"
    assert Archive(out).index().read == 0  # in step again
    # a folder gone and one damaged since: both leave the index, the damaged one is named
    shutil.rmtree(one)
    (two / "shots.json").write_text('{"shots": [')
    report = Archive(out).index()
    assert (report.read, report.unchanged, report.removed) == (0, 0, 1)
    assert len(report.skipped) == 1 and str(two) in report.skipped[0]
    assert Archive(out).films().empty and Archive(out).shots().empty
    # --full reads every folder anew
    shutil.copytree(archive / "out", out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("shotscope.db*"))
    assert Archive(out).index() == (2, 0, 0, [], [])
    assert Archive(out).index(full=True) == (2, 0, 0, [], [])
    assert len(Archive(out).shots()) == len(before)


def test_index_holds_every_field_of_shots_json(archive, tmp_path):
    """What the database holds for a shot is what its film folder's shots.json says, including the
    probabilities and motion evidence kept as JSON; numbers Python wrote as NaN come in as missing."""
    out = tmp_path / "out"
    shutil.copytree(archive / "out", out)
    one = output_dir_for(archive / "films" / "one.mp4", out)
    text = (one / "shots.json").read_text()
    data = json.loads(text)
    data["shots"][1]["scale_prob"] = float("nan")
    data["shots"][1]["motion"] = {"flow": 1.5, "ratio": float("inf")}
    data["model"] = {"source": "a model", "sha": "abc"}
    (one / "shots.json").write_text(json.dumps(data))
    Archive(out).index(full=True)
    with sqlite3.connect(out / "shotscope.db") as con:
        con.row_factory = sqlite3.Row
        film = con.execute("SELECT * FROM films WHERE path LIKE '%one.mp4'").fetchone()
        rows = con.execute("SELECT * FROM shots WHERE film_id = ? ORDER BY idx", (film["id"],)).fetchall()
    assert json.loads(film["model"]) == {"source": "a model", "sha": "abc"}
    assert json.loads(film["statistics"]) == data["statistics"]
    assert film["average_shot_length"] == data["statistics"]["average_shot_length"]
    assert (film["fps"], film["width"], film["height"], film["shots"]) == (data["fps"], data["width"],
                                                                           data["height"], len(data["shots"]))
    assert len(rows) == len(data["shots"])
    for row, shot in zip(rows, data["shots"], strict=True):
        for key in ("start_frame", "end_frame", "start_time", "end_time", "duration", "movement",
                    "movement_prob", "movement_source", "scale"):
            assert row[key] == shot[key], key
        assert row["idx"] == shot["index"] and row["short"] == int(shot["short"])
        assert json.loads(row["movement_probs"]) == shot["movement_probs"]
        assert json.loads(row["scale_probs"]) == (shot["scale_probs"] or {})
        assert (row["scale_predicted"], row["movement_predicted"]) == (shot["scale"], shot["movement"])
    assert rows[1]["scale_prob"] is None and json.loads(rows[1]["motion"]) == {"flow": 1.5, "ratio": None}
    assert rows[0]["scale_prob"] == data["shots"][0]["scale_prob"]


@pytest.mark.parametrize("layout", ["as analyze writes it", "indented throughout"])
def test_the_json_kept_for_a_shot_is_compact(archive, tmp_path, layout):
    """The probabilities, motion evidence and statistics the database keeps are the values of
    shots.json without whitespace (which doubled the database), from shots.json as analyze writes it
    (a line per field and per shot) and from one indented throughout (as earlier versions wrote it)."""
    out = tmp_path / "out"
    shutil.copytree(archive / "out", out)
    one = output_dir_for(archive / "films" / "one.mp4", out)
    data = json.loads((one / "shots.json").read_text())
    if layout == "indented throughout":
        (one / "shots.json").write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    assert Archive(out).index(full=True).read == 2

    def compact(value):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    with sqlite3.connect(out / "shotscope.db") as con:
        con.row_factory = sqlite3.Row
        film = con.execute("SELECT * FROM films WHERE path LIKE '%one.mp4'").fetchone()
        rows = con.execute("SELECT * FROM shots WHERE film_id = ? ORDER BY idx", (film["id"],)).fetchall()
    assert film["statistics"] == compact(data["statistics"])
    assert film["model"] == compact(data["model"])
    assert any(shot["motion"] for shot in data["shots"])
    for row, shot in zip(rows, data["shots"], strict=True):
        assert row["scale_probs"] == compact(shot["scale_probs"])
        assert row["movement_probs"] == compact(shot["movement_probs"])
        assert row["motion"] == compact(shot["motion"])


def test_shots_with_details_carry_every_probability_and_the_motion_evidence(archive):
    one = output_dir_for(archive / "films" / "one.mp4", archive / "out")
    data = json.loads((one / "shots.json").read_text())
    shots = Archive(archive / "out").shots(film_folder=one.name, details=True)
    assert list(shots["movement_probs"]) == [s["movement_probs"] for s in data["shots"]]
    assert list(shots["scale_probs"]) == [s["scale_probs"] for s in data["shots"]]
    assert list(shots["motion"]) == [s["motion"] for s in data["shots"]]
    assert "motion" not in Archive(archive / "out").shots(film_folder=one.name).columns


def test_search_and_stats_commands(archive, tmp_path, capsys):
    assert main(["search", str(archive / "out"), "--movement", "Static", "--format", "csv"]) == 0
    rows = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert set(rows["movement"]) == {"Static"} and len(rows) == len(Archive(archive / "out").shots(movement="Static"))
    assert main(["search", str(archive / "out"), "--movement", "Static", "-o", str(tmp_path / "cut.otio")]) == 0
    clips = list(otio.adapters.read_from_file(str(tmp_path / "cut.otio")).find_clips())
    assert len(clips) == len(rows) and all(c.name.endswith("Static") for c in clips)
    assert main(["stats", str(archive / "out"), "--format", "csv"]) == 0
    stats = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert sorted(stats["shots"]) == [2, 3]
    time_shares = stats[[c for c in stats.columns if c.startswith("movement_") and c.endswith("_time_share")]]
    assert time_shares.sum(axis=1).round(3).tolist() == [1.0, 1.0]
    shots = Archive(archive / "out").shots()  # each label's average shot length, per film
    for film, mine in shots.groupby("film"):
        row = stats.set_index("film").loc[film]
        for label in ("Static", "Motion", "Pull", "Push"):
            lengths = mine.loc[mine["movement"] == label, "duration"]
            expected = round(lengths.mean(), 3) if len(lengths) else None
            assert (pd.isna(row[f"movement_{label}_asl"]) if expected is None
                    else row[f"movement_{label}_asl"] == pytest.approx(expected, abs=2e-3)), (film, label)
    assert main(["search", str(tmp_path / "nowhere")]) == 2


@pytest.mark.parametrize("suffix", ["edl", "otio", "xml"])
def test_a_search_that_finds_nothing_writes_an_empty_timeline(archive, tmp_path, suffix, capsys):
    """No shot matches (Push longer than any film): a valid, empty timeline that the timeline library
    reads back, and a warning; a wrong suffix is refused before any search."""
    target = tmp_path / f"none.{suffix}"
    assert main(["search", str(archive / "out"), "--movement", "Push", "--min-duration", "1e6", "-o", str(target)]) == 0
    assert "empty timeline" in capsys.readouterr().err
    timeline = otio.adapters.read_from_file(str(target))
    assert list(timeline.find_clips()) == []
    assert main(["search", str(archive / "out"), "-o", str(tmp_path / "cut.mov")]) == 2
    assert not (tmp_path / "cut.mov").exists()


def test_a_database_from_a_newer_shotscope_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    db = Archive(tmp_path / "out")
    with sqlite3.connect(db.path) as con:
        con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(DataError, match="made by a newer shotscope"):
        Archive(tmp_path / "out")


def test_corrections_show_everywhere_and_teach_a_model(archive, tmp_path, capsys):
    """Correct a label, see it in search with the prediction kept, export the corrections as a
    manifest, and train a small model on it: the loop from a correction to a better model."""
    out = tmp_path / "out"
    shutil.copytree(archive / "out", out)
    db = Archive(out)
    before = db.shots(film="one.mp4")
    predicted = before.loc[before["shot"] == 1, "movement"].item()
    first = next(k for k in ("Push", "Motion") if k != predicted)  # a label it has not (that one is no correction)
    assert main(["correct", str(out), "--film", "one.mp4", "--shot", "1", "--movement", first, "--scale", "CS",
                 "--note", "the arch grows"]) == 0
    assert main(["correct", str(out), "--film", "one.mp4", "--shot", "1", "--movement", "Pull"]) == 0  # last wins
    shot = db.shots(film="one.mp4").set_index("shot").loc[1]
    assert (shot["movement"], shot["scale"]) == ("Pull", "CS")
    assert bool(shot["movement_corrected"]) and shot["movement_predicted"] == predicted
    assert len(db.shots(corrected=True)) == 1 and len(db.shots(corrected=False)) == 4
    capsys.readouterr()
    assert main(["search", str(out), "--corrected", "yes", "--format", "csv"]) == 0
    found = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert found["shot"].tolist() == [1] and found["movement_corrected"].all()
    assert main(["search", str(out), "--corrected", "no", "--format", "csv"]) == 0
    assert len(pd.read_csv(io.StringIO(capsys.readouterr().out))) == 4
    assert main(["search", str(out), "--film", "one.mp4"]) == 0  # the table: corrected labels marked
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].split()[-2:] == ["CS*", "Pull*"]  # shot 1 (after the header and shot 0)
    assert "*" not in lines[1] + lines[3] and lines[-1].startswith("* corrected")
    assert (db.shots(movement="Pull")["shot"] == 1).any()
    with sqlite3.connect(db.path) as con:  # both corrections recorded, with the value each replaced
        rows = con.execute("SELECT field, old_value, new_value, note FROM corrections ORDER BY id").fetchall()
    assert rows[0] == ("scale", None, "CS", "the arch grows") and rows[1] == ("movement", predicted, first, "the arch grows")
    assert rows[2][1:3] == (first, "Pull")
    def shares():  # the film's movement shares by shot as `stats` gives them, and from its shots as shown
        row = Archive(out).stats().set_index("film").filter(like="one.mp4", axis=0).iloc[0]
        shown = Archive(out).shots(film="one.mp4")["movement"].value_counts(normalize=True)
        return ({k: row[f"movement_{k}_shot_share"] for k in ("Static", "Motion", "Pull", "Push")},
                {k: round(float(shown.get(k, 0.0)), 4) for k in ("Static", "Motion", "Pull", "Push")})

    counted, shown = shares()
    assert counted == shown and counted["Pull"] > 0  # stats count the corrected label, not the prediction
    assert main(["index", str(out), "--full"]) == 0  # a rebuilt index keeps the corrections
    assert Archive(out).shots(corrected=True)["movement"].tolist() == ["Pull"]
    assert shares()[0] == counted  # and the shares that follow from them
    assert main(["correct", str(out), "--film", "*.mp4", "--shot", "0", "--scale", "LS"]) == 2  # two films match
    assert main(["correct", str(out), "--film", "one.mp4", "--shot", "9", "--scale", "LS"]) == 2
    capsys.readouterr()
    manifest = tmp_path / "corrections.csv"
    assert main(["export-labels", str(out), "-o", str(manifest)]) == 0
    from shotscope.data import read_manifest

    records, report = read_manifest(manifest)
    assert report.skipped == 0 and len(records) == 1
    (r,) = records
    assert (r.scale_label, r.movement_label) == ("CS", "Pull") and r.start == pytest.approx(shot["start_time"])
    from shotscope.training.trainer import TINY_CONFIG, train

    model_dir = train(TINY_CONFIG, [f"output_dir={tmp_path / 'run'}", f"data.train={manifest}",
                                    f"data.val={manifest}", "train.epochs=1", "train.progress=false"])
    assert (model_dir / "model.safetensors").is_file()


def test_index_reads_film_folders_only(archive, tmp_path, capsys):
    """A folder of the user's own inside an archive is no film folder (not skipped, no error); one
    with a damaged shots.json is skipped and said; a folder with no film folders gets no database."""
    out = tmp_path / "out"
    shutil.copytree(archive / "out", out)
    (out / "my notes").mkdir()
    (out / "my notes" / "todo.txt").write_text("watch again")
    damaged = output_dir_for(archive / "films" / "two.mp4", out)
    (damaged / "shots.json").write_text((damaged / "shots.json").read_text()[:500])
    capsys.readouterr()
    assert main(["index", str(out), "--full"]) == 1
    err = capsys.readouterr().err
    assert "my notes" not in err and f"skipped: {damaged}" in err
    assert len(Archive(out).films()) == 1
    empty = tmp_path / "videos"
    (empty / "holiday").mkdir(parents=True)
    assert main(["index", str(empty)]) == 2
    assert "no film folders here" in capsys.readouterr().err and not (empty / "shotscope.db").exists()


def test_a_correction_does_not_land_on_another_shot_after_new_cuts(archive, tmp_path, capsys):
    """A film analysed again with other cuts has other shots under the same numbers: a correction
    keeps the times of the shot it was made on, and is kept but not applied (and said so) where the
    shot now under its number has other times; with the old cuts back, it applies again."""
    out = tmp_path / "out"
    shutil.copytree(archive / "out", out)
    one = output_dir_for(archive / "films" / "one.mp4", out)
    assert main(["correct", str(out), "--film", "one.mp4", "--shot", "1", "--scale", "ECS"]) == 0
    assert main(["correct", str(out), "--film", "one.mp4", "--shot", "2", "--movement", "Pull"]) == 0
    original = (one / "shots.json").read_text()
    data = json.loads(original)
    first, second, third = data["shots"]  # new cuts: the first moved, the last gone
    second["start_time"] = round(first["start_time"] + (second["start_time"] - first["start_time"]) / 2, 3)
    second["start_frame"] = (first["start_frame"] + second["start_frame"]) // 2
    first["end_time"], first["end_frame"] = second["start_time"], second["start_frame"]
    second["end_time"], second["end_frame"] = third["end_time"], third["end_frame"]
    data["shots"] = [first, second]
    (one / "shots.json").write_text(json.dumps(data, indent=2))
    capsys.readouterr()
    assert main(["index", str(out)]) == 0
    warned = capsys.readouterr().err
    assert "one.mp4: the correction of shot 1 (scale ECS" in warned and "kept, not applied" in warned
    assert "the correction of shot 2 (movement Pull" in warned and "no shot has that number now" in warned
    shots = Archive(out).shots(film="one.mp4").set_index("shot")
    assert not shots["scale_corrected"].any() and shots.loc[1, "scale"] == second["scale"]
    assert Archive(out).export_labels(tmp_path / "labels.csv") == 0  # nothing taught from it
    from starlette.testclient import TestClient

    from shotscope.web import create_app

    client = TestClient(create_app(out), base_url=LOCAL)
    film_id = int(Archive(out).films().set_index("folder").loc[one.name, "id"])
    assert [h["applies"] for h in client.get(f"/film/{film_id}/corrections").json()] == [False, False]
    assert "not applied: the film was cut differently since" in client.get(f"/film/{film_id}").text
    (one / "shots.json").write_text(original)  # the old cuts again
    report = Archive(out).index()
    assert report.read == 1 and report.stale == []
    shots = Archive(out).shots(film="one.mp4").set_index("shot")
    assert shots.loc[1, "scale"] == "ECS" and shots.loc[1, "scale_corrected"]
    film_id = int(Archive(out).films().set_index("folder").loc[one.name, "id"])  # indexed anew: maybe a new id
    assert [h["applies"] for h in client.get(f"/film/{film_id}/corrections").json()] == [True, True]


def _version_1_database(path) -> None:
    with sqlite3.connect(path) as con:  # the first schema, as the first release left it
        con.executescript(MIGRATIONS[1])
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        con.execute("INSERT INTO films (id, folder, path, status) VALUES (1, 'f', 'film.mp4', 'done')")
        con.executemany("INSERT INTO shots (film_id, idx, duration, scale, movement) VALUES (1, ?, 2.0, 'MS', 'Static')",
                        [(0,), (1,)])
        con.executemany("INSERT INTO corrections (folder, idx, field, old_value, new_value, at) VALUES (?, ?, ?, ?, ?, ?)",
                        [("f", 1, "scale", "MS", "CS", "t1"), ("f", 1, "scale", "CS", "ECS", "t2")])
    con.close()


def test_a_version_1_database_is_migrated_with_its_corrections(archive, tmp_path):
    """An archive written by the first schema (corrections joined at query time) opens with its
    corrections applied to the shots' labels and the predictions kept."""
    out = tmp_path / "out"
    shutil.copytree(archive / "out", out)
    (out / "shotscope.db").unlink()
    _version_1_database(out / "shotscope.db")
    shots = Archive(out).shots(film="film.mp4")
    assert shots["scale"].tolist() == ["MS", "ECS"] and shots["scale_predicted"].tolist() == ["MS", "MS"]
    assert shots["scale_corrected"].tolist() == [False, True]
    assert Archive(out).shots(scale="ECS")["shot"].tolist() == [1]
    with sqlite3.connect(out / "shotscope.db") as con:  # each shot keyed by its film and index
        assert con.execute("SELECT id, film_id, idx FROM shots ORDER BY id").fetchall() == [(2**20, 1, 0),
                                                                                          (2**20 + 1, 1, 1)]


def test_a_migration_that_fails_half_way_leaves_the_database_as_it_was(tmp_path, monkeypatch):
    """The schema's steps run in one transaction: a step failing after others (SQLite's statements
    that change tables included) leaves schema 1 as it was, so the next open migrates it whole."""
    import shotscope.archive.schema as database

    _version_1_database(tmp_path / "shotscope.db")
    monkeypatch.setitem(database.MIGRATIONS, 4, MIGRATIONS[4] + "; INSERT INTO no_such_table VALUES (1)")
    with pytest.raises(DataError, match=r"shotscope\.db: cannot bring the archive database from schema 1 to"):
        Archive(tmp_path)
    with sqlite3.connect(tmp_path / "shotscope.db") as con:
        assert con.execute("SELECT value FROM meta").fetchone() == ("1",)
        assert "scale_predicted" not in {row[1] for row in con.execute("PRAGMA table_info(shots)")}  # v2's column
        assert con.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'shots_v4'").fetchone() == (0,)
    con.close()
    monkeypatch.undo()
    shots = Archive(tmp_path).shots()
    assert shots["scale"].tolist() == ["MS", "ECS"] and shots["scale_corrected"].tolist() == [False, True]


def _open_archive(folder) -> int:
    return len(Archive(folder).shots())


def _add_films(folder, names: list[str]) -> list[str]:
    archive, errors = Archive(folder), []
    for name in names:
        try:
            archive.add_film(folder / name)
        except Exception as exc:  # what analyze would report as "could not update the archive database"
            errors.append(f"{name}: {exc}")
    return errors


def test_two_processes_writing_one_archive_at_once_both_land(archive, tmp_path):
    """Two analyze runs into one output folder (two terminals, two drives) add films to its database
    at once, and two programs open an archive of an old schema at once: each waits for the other's
    write; none fails with "database is locked" and no film is missing."""
    from concurrent.futures import ProcessPoolExecutor

    out = tmp_path / "out"
    out.mkdir()
    names = _many_film_folders(archive, out, 40)
    Archive(out)
    with ProcessPoolExecutor(2) as pool:
        errors = sum(pool.map(_add_films, [out, out], [names[0::2], names[1::2]]), [])
    assert errors == []
    assert sorted(Archive(out).films()["folder"]) == names
    _version_1_database(tmp_path / "shotscope.db")
    with ProcessPoolExecutor(4) as pool:
        assert list(pool.map(_open_archive, [tmp_path] * 4)) == [2] * 4


def test_pages_of_a_search_cover_it_once_and_count_it(archive):
    db = Archive(archive / "out")
    everything = db.shots()
    pages = [db.shots(limit=2, offset=k, count=True) for k in range(0, len(everything) + 2, 2)]
    assert all(p.attrs["total"] == len(everything) for p in pages)
    seen = [(r.film, r.shot) for p in pages for r in p.itertuples()]
    assert sorted(seen) == sorted((r.film, r.shot) for r in everything.itertuples()) and len(set(seen)) == len(seen)
    static = db.shots(movement="Static", limit=1, count=True)
    assert len(static) == 1 and static.attrs["total"] == len(db.shots(movement="Static"))
    assert db.shots(film="two.mp4", limit=10, count=True).attrs["total"] == 2


def _many_film_folders(archive, out, copies: int) -> list[str]:
    """``copies`` film folders made from the fixture's two (each names its own film file)."""
    names = []
    for k in range(copies):
        source = output_dir_for(archive / "films" / ("one.mp4", "two.mp4")[k % 2], archive / "out")
        target = out / f"film{k:03d}"
        shutil.copytree(source, target)
        data = json.loads((target / "shots.json").read_text())
        data["file"] = f"films/copy{k:03d}.mp4"
        (target / "shots.json").write_text(json.dumps(data))
        provenance = json.loads((target / "provenance.json").read_text())  # the two agree on the film
        provenance["film"]["path"] = str(archive / data["file"])
        (target / "provenance.json").write_text(json.dumps(provenance))
        names.append(target.name)
    return names


def test_a_bulk_index_holds_what_one_by_one_holds(archive, tmp_path, monkeypatch):
    """Many folders are read by worker processes into working databases copied in at the end; the
    archive holds the same rows as when each folder is added on its own, skips the bad folders with
    their reason, keeps corrections through a rebuild and leaves no working database behind."""
    import tempfile

    work = tmp_path / "tmp"
    work.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(work))
    bulk, single = tmp_path / "bulk", tmp_path / "single"
    bulk.mkdir()
    names = _many_film_folders(archive, bulk, 80)
    (bulk / "film005" / "shots.json").write_text('{"shots": [')  # damaged
    data = json.loads((bulk / "film006" / "shots.json").read_text())
    data["shots"][0]["index"] = 2**20  # a shot index no film reaches
    (bulk / "film006" / "shots.json").write_text(json.dumps(data))
    shutil.copytree(bulk, single)
    report = Archive(bulk).index()
    assert (report.read, report.unchanged, report.removed) == (78, 0, 0)
    assert sorted(report.skipped) == sorted(s for s in report.skipped if "film005" in s or "film006" in s)
    assert len(report.skipped) == 2 and "outside 0-1048575" in " ".join(report.skipped)
    one_by_one = Archive(single)
    for name in names:
        if name not in ("film005", "film006"):
            one_by_one.add_film(single / name)
    ours, theirs = Archive(bulk).shots(), one_by_one.shots()
    assert len(ours) == 39 * 3 + 39 * 2
    pd.testing.assert_frame_equal(ours.drop(columns="film_id"), theirs.drop(columns="film_id"))  # ids differ
    assert Archive(bulk).films().drop(columns="id").equals(one_by_one.films().drop(columns="id"))
    for name in ("film010", "film011"):  # each film's shots are found by film, in order
        shots = Archive(bulk).shots(film_folder=name)
        assert shots["shot"].tolist() == list(range(len(shots))) and shots["film"].nunique() == 1
    # a correction survives a full rebuild in bulk, which leaves no working database behind
    shown = Archive(bulk).shots(film_folder="film010").set_index("shot").loc[1, "movement"]
    other = next(k for k in ("Push", "Motion") if k != shown)  # a label it has not (that one is no correction)
    Archive(bulk).correct("film010", 1, "movement", other)
    assert Archive(bulk).index(full=True).read == 78
    corrected = Archive(bulk).shots(corrected=True)
    assert corrected[["shot", "movement"]].values.tolist() == [[1, other]]
    assert corrected["film"].tolist() == [str(archive / "films/copy010.mp4")]  # where provenance says it is
    assert list(work.iterdir()) == []
    with sqlite3.connect(bulk / "shotscope.db") as con:  # loaded through a rollback journal, then WAL again
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # the search index is back after the load
        names = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        plan = con.execute("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM shots WHERE movement = 'Push' AND duration >= 2")
        assert "shots_find" in names and "INDEX shots_find" in " ".join(row[3] for row in plan)


def test_a_bulk_index_on_a_full_disk_says_so_and_keeps_the_archive(archive, tmp_path, monkeypatch):
    import os
    import tempfile

    from .faults import small_disk

    out = tmp_path / "out"
    out.mkdir()
    _many_film_folders(archive, out, 70)
    Archive(out).index()
    before = Archive(out).shots()
    with small_disk(tmp_path / "full", "64k") as disk:
        if not os.path.ismount(disk):
            pytest.skip("a full disk needs a small file system, which only root can mount")
        monkeypatch.setattr(tempfile, "tempdir", str(disk))
        with pytest.raises(DataError, match="cannot write the index's working database"):
            Archive(out).index(full=True)
    pd.testing.assert_frame_equal(Archive(out).shots(), before)
    with sqlite3.connect(out / "shotscope.db") as con:  # the search index was dropped in the rolled-back transaction
        assert con.execute("SELECT name FROM sqlite_master WHERE name = 'shots_find'").fetchone()
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_bulk_index_while_someone_reads_the_archive(archive, tmp_path):
    """A reader in the middle of a read keeps its view of the old index while a full index runs (the
    index stays in WAL mode, as it must when the database is open elsewhere) and sees the new one after."""
    out = tmp_path / "out"
    out.mkdir()
    _many_film_folders(archive, out, 70)
    Archive(out).index()
    (out / "film003" / "shots.json").write_text((out / "film000" / "shots.json").read_text())  # 2 shots -> 3
    reader = sqlite3.connect(out / "shotscope.db", isolation_level=None)
    reader.execute("BEGIN")
    count = "SELECT COUNT(*) FROM shots s JOIN films f ON f.id = s.film_id WHERE f.folder = 'film003'"
    assert reader.execute(count).fetchone()[0] == 2
    assert Archive(out).index(full=True).read == 70
    assert reader.execute(count).fetchone()[0] == 2  # its snapshot
    reader.execute("COMMIT")
    assert reader.execute(count).fetchone()[0] == 3
    assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reader.close()


def test_sigkill_during_a_bulk_index_leaves_the_archive_as_it_was(archive, tmp_path, monkeypatch):
    """`index --full` killed (with its workers) while its transaction is open and the working
    databases are being written: the next open rolls the journal back, and the archive holds the old
    index whole, search index and WAL mode included; the next bulk index clears the killed one's work."""
    import os
    import signal
    import subprocess
    import sys
    import tempfile
    import time

    out = tmp_path / "out"
    out.mkdir()
    names = _many_film_folders(archive, out, 64)
    for name in names:  # longer films, so that the kill falls inside the load
        data = json.loads((out / name / "shots.json").read_text())
        data["shots"] = [dict(data["shots"][k % len(data["shots"])], index=k) for k in range(3000)]
        (out / name / "shots.json").write_text(json.dumps(data))
    Archive(out).index()
    before = Archive(out).shots()
    work = tmp_path / "tmp"
    work.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "shotscope", "index", str(out), "--full"],
                            env=dict(os.environ, TMPDIR=str(work)), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(work.glob("shotscope-index-*/*.db")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert proc.poll() is None, "the index finished before a working database was written"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (out / "shotscope.db-journal").exists()  # killed inside the transaction
    pd.testing.assert_frame_equal(Archive(out).shots(), before)
    with sqlite3.connect(out / "shotscope.db") as con:
        assert con.execute("SELECT name FROM sqlite_master WHERE name = 'shots_find'").fetchone()
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert [p.name.split("-")[2] for p in work.iterdir()] == [str(proc.pid)]  # the killed run's work
    monkeypatch.setattr(tempfile, "tempdir", str(work))
    assert Archive(out).index(full=True).read == 64  # the next index finishes and clears it
    assert list(work.iterdir()) == []
