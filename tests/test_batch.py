"""The archive run's parts, one at a time: which files a run takes, where each film's folder goes,
shards, the run's records (errors.json, runs.json), a film folder swapped in whole, and the plan
that reuses or redoes stored results."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from pathlib import Path

import pytest

from shotscope import DataError
from shotscope.analysis.film import AnalyzeSettings
from shotscope.console import no_bar
from shotscope.provenance import PROVENANCE_FILE
from shotscope.runs.batch import expand_inputs, output_dir_for, parse_shard, plan_archive
from shotscope.runs.jobs import BatchResult, FilmJob, finish_job, run_job, write_film_folder
from shotscope.runs.records import ERRORS_FILE, RUNS_FILE, RunRecord

from .conftest import Terminal
from .test_writers import make_film as made_by_hand


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


# --- inputs --------------------------------------------------------------------------------------

def test_inputs_are_files_folders_and_patterns(tmp_path):
    a = _touch(tmp_path / "in" / "b.MP4")
    b = _touch(tmp_path / "in" / "sub" / "a.mkv")
    _touch(tmp_path / "in" / "notes.txt")
    (tmp_path / "in" / "folder.mov").mkdir()  # a folder named like a video is not one
    c = _touch(tmp_path / "other" / "c.avi")
    text = _touch(tmp_path / "other" / "list.txt")
    (tmp_path / "empty").mkdir()
    missing: dict[str, str] = {}
    found = expand_inputs([str(tmp_path / "in"), str(tmp_path / "other" / "*.avi"), str(text), str(a),
                           str(tmp_path / "empty"), str(tmp_path / "none.mp4"), str(tmp_path / "x*.mp4")], missing)
    assert found == [a, b, c, text]  # each once, in the order named; a folder's videos sorted
    assert missing == {
        str(tmp_path / "empty"): f"{tmp_path / 'empty'}: no video files in this directory "
                                 "(.avi, .flv, .m4v, .mkv, .mov, .mp4, .mpeg, .mpg, .mxf, .ts, .webm, .wmv)",
        str(tmp_path / "none.mp4"): f"{tmp_path / 'none.mp4'}: no such file",
        str(tmp_path / "x*.mp4"): f"{tmp_path / 'x*.mp4'}: the pattern matches no file",
    }
    # without a place for them, names that find nothing are just left out... or kept as files
    assert expand_inputs([str(tmp_path / "empty"), str(tmp_path / "x*.mp4")]) == []
    assert expand_inputs([str(tmp_path / "none.mp4")]) == [tmp_path / "none.mp4"]
    # a file whose name looks like a pattern is a file
    odd = _touch(tmp_path / "take[1].mp4")
    assert expand_inputs([str(odd)], {}) == [odd]


def test_each_film_has_its_own_folder(tmp_path, monkeypatch):
    one, two = _touch(tmp_path / "a" / "film.mp4"), _touch(tmp_path / "b" / "film.mp4")
    out = tmp_path / "out"
    first = output_dir_for(one, out)
    assert first.parent == out and first.name == "film-" + hashlib.sha1(str(one.resolve()).encode()).hexdigest()[:8]
    assert output_dir_for(two, out) != first
    monkeypatch.chdir(tmp_path)
    assert output_dir_for(Path("a/film.mp4"), out) == first  # by the full path, however named
    long = _touch(tmp_path / ("n" * 120 + ".mp4"))
    assert output_dir_for(long, out).name.startswith("n" * 80 + "-") and len(output_dir_for(long, out).name) == 89


def test_shards(monkeypatch):
    assert parse_shard("1/4") == (1, 4)
    assert parse_shard("0/1") == (0, 1)
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert parse_shard(None) == parse_shard("") == (0, 1)
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("WORLD_SIZE", "3")
    assert parse_shard(None) == (2, 3)
    monkeypatch.setenv("WORLD_SIZE", "three")
    with pytest.raises(DataError, match=r"^RANK and WORLD_SIZE must be whole numbers$"):
        parse_shard(None)
    for bad in ("4/4", "-1/2", "1/0"):
        with pytest.raises(DataError, match=rf"^shard '{bad}': expected i/n with 0 <= i < n$"):
            parse_shard(bad)
    for bad in ("1", "a/b", "1/2/3"):
        with pytest.raises(DataError, match=rf"^shard '{bad}': expected i/n, e.g. 0/4$"):
            parse_shard(bad)


def test_progress_bar_choice():
    assert (no_bar(None), no_bar(True), no_bar(False)) == (None, False, True)


# --- the run's records ---------------------------------------------------------------------------

def _json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_run_record_keeps_failures_across_runs_and_a_line_per_run(tmp_path):
    first = RunRecord(tmp_path, 3, {"a": 1})
    runs = _json(tmp_path / RUNS_FILE)
    assert len(runs) == 1 and runs[0]["run"] == first.id and runs[0]["status"] == "running"
    assert {k: runs[0][k] for k in ("films", "done", "reused", "failed", "flagged", "settings")} == \
        {"films": 3, "done": 0, "reused": 0, "failed": 0, "flagged": 0, "settings": {"a": 1}}
    first.failed("x.mp4", "cut short")
    first.failed("y.mp4", "no video stream ✗")
    first.finished("z.mp4")
    first.finished("w.mp4", reused=True, flagged=True)
    first.close("done")
    errors = _json(tmp_path / ERRORS_FILE)
    assert {k: v["error"] for k, v in errors.items()} == {"x.mp4": "cut short", "y.mp4": "no video stream ✗"}
    assert all(v["run"] == first.id and v["time"] for v in errors.values())
    assert "✗" in (tmp_path / ERRORS_FILE).read_text(encoding="utf-8")  # not escaped
    (entry,) = _json(tmp_path / RUNS_FILE)
    assert {k: entry[k] for k in ("status", "done", "reused", "failed", "flagged")} == \
        {"status": "done", "done": 1, "reused": 1, "failed": 2, "flagged": 1}
    assert entry["ended"] >= entry["started"]
    assert (tmp_path / RUNS_FILE).read_text(encoding="utf-8").rstrip("\n") == json.dumps(
        _json(tmp_path / RUNS_FILE), indent=2, ensure_ascii=False)  # indented, for people
    second = RunRecord(tmp_path, 1)
    second.finished("x.mp4")  # fixed since: its error goes
    second.failed("v.mp4", "bad")
    second.close("interrupted")
    assert set(_json(tmp_path / ERRORS_FILE)) == {"y.mp4", "v.mp4"}
    assert [(r["run"], r["status"]) for r in _json(tmp_path / RUNS_FILE)] == [(first.id, "done"),
                                                                             (second.id, "interrupted")]
    assert first.write_problems == second.write_problems == []


def test_an_unreadable_record_is_kept_aside_and_a_new_one_begun(tmp_path):
    (tmp_path / ERRORS_FILE).write_text("{not json")
    (tmp_path / RUNS_FILE).write_text('{"a": "not a list"}')
    record = RunRecord(tmp_path, 1)
    record.failed("x.mp4", "bad")
    assert set(_json(tmp_path / ERRORS_FILE)) == {"x.mp4"}
    assert (tmp_path / f"{ERRORS_FILE}.unreadable-{record.id}").read_text() == "{not json"
    assert [r["run"] for r in _json(tmp_path / RUNS_FILE)] == [record.id]  # the wrong kind of JSON: replaced


def test_a_record_that_cannot_be_written_is_reported_once_and_the_run_goes_on(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    record = RunRecord(out, 2)
    os.rename(out, tmp_path / "gone")  # the folder vanished under the run (a disk unmounted)
    record.failed("x.mp4", "bad")
    record.failed("y.mp4", "bad")
    record.close("done")
    assert len(record.write_problems) == 1
    assert record.write_problems[0].startswith(f"{out}: could not update the run record (")
    assert record.entry["failed"] == 2


def test_exit_codes():
    assert BatchResult().exit_code == 0
    assert BatchResult(done=[Path("a")], skipped=[Path("b")], flagged={"c": "damaged"}).exit_code == 0
    assert BatchResult(errors={"a": "bad"}).exit_code == 1
    assert BatchResult(record_problems=["disk full"]).exit_code == 1


def test_finish_job_records_each_outcome(tmp_path):
    result, record = BatchResult(), RunRecord(tmp_path, 3)
    job = FilmJob(Path("a.mp4"), tmp_path / "a", {})
    finish_job(result, record, job, error="cut short")
    assert result.errors == {"a.mp4": "cut short"} and result.done == []
    finish_job(result, record, FilmJob(Path("b.mp4"), tmp_path / "b", {}), {"status": "ok"})
    finish_job(result, record, FilmJob(Path("c.mp4"), tmp_path / "c", {}),
               {"status": "damaged", "summary": "12 % of the frames missing"})
    finish_job(result, record, FilmJob(Path("d.mp4"), tmp_path / "d", {}), {"status": "truncated"})
    assert result.done == [tmp_path / "b", tmp_path / "c", tmp_path / "d"]
    assert result.flagged == {"c.mp4": "12 % of the frames missing", "d.mp4": "truncated"}
    assert {k: record.entry[k] for k in ("done", "failed", "flagged")} == {"done": 3, "failed": 1, "flagged": 2}
    finish_job(result, record, job, {"status": "ok"})  # the film that failed, done again: its error goes
    assert "a.mp4" not in _json(tmp_path / ERRORS_FILE)


def test_an_archive_database_that_cannot_be_updated_is_reported_once(tmp_path):
    (tmp_path / "shotscope.db").mkdir()  # not a database
    record = RunRecord(tmp_path, 2)
    for name in ("a", "b"):
        folder = tmp_path / name
        write_film_folder(made_by_hand(), folder, {"film": {"size": 1}, "model": None})
        record.finished(f"{name}.mp4", folder=folder)
    assert len(record.write_problems) == 1, record.write_problems
    assert record.write_problems[0].startswith(f"{tmp_path}: could not update the archive database (")
    assert record.write_problems[0].endswith("); rebuild it with shotscope index")
    assert record.entry["done"] == 2  # the films themselves are done


# --- a film's folder ----------------------------------------------------------------------------

def test_a_film_folder_is_swapped_in_whole_with_its_provenance_last(tmp_path):
    target = tmp_path / "out" / "film-1234"
    target.mkdir(parents=True)
    (target / "old.txt").write_text("the previous result")
    film = made_by_hand()
    write_film_folder(film, target, {"film": {"size": 1, "title": "Café"}, "model": None})
    names = sorted(p.name for p in target.iterdir())
    assert names == sorted(["shots.csv", "shots.edl", "shots.otio", "shots.xml", "report.html", "shots.json",
                            "frames.zip", PROVENANCE_FILE])
    provenance = _json(target / PROVENANCE_FILE)
    assert provenance["film"] == {"size": 1, "title": "Café"} and provenance["model"] is None and provenance["written"]
    # a record people open: indented, and UTF-8 as it is
    assert (target / PROVENANCE_FILE).read_text(encoding="utf-8").rstrip("\n") == json.dumps(provenance, indent=2,
                                                                                              ensure_ascii=False)
    assert provenance["files"] == {name: hashlib.sha256((target / name).read_bytes()).hexdigest()
                                   for name in names if name != PROVENANCE_FILE}
    assert sorted(p.name for p in target.parent.iterdir()) == ["film-1234"]  # nothing left aside

    class Broken:
        path, fps = "x.mp4", 25.0  # fails inside the writers

    with pytest.raises(AttributeError):
        write_film_folder(Broken(), target, {})
    assert sorted(p.name for p in target.iterdir()) == names  # the old result, whole
    assert sorted(p.name for p in target.parent.iterdir()) == ["film-1234"]


# --- the plan ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def films(tmp_path_factory):
    from shotscope.data.synthetic import make_film

    root = tmp_path_factory.mktemp("films")
    for name, seed in (("one.mp4", 0), ("two.mp4", 1), ("three.mp4", 2)):
        make_film(root / name, [("LS", "Static", 12), ("CS", "Static", 12)], width=96, height=64, seed=seed)
    return root


def test_the_plan_reuses_what_is_current_and_says_why_it_redoes_the_rest(films, tmp_path):
    out = tmp_path / "out"
    geometry = AnalyzeSettings(movement="geometry")
    plan = plan_archive([str(films), str(tmp_path / "nothing.mp4")], out, settings=geometry)
    assert [j.film.name for j in plan.jobs] == ["one.mp4", "three.mp4", "two.mp4"]
    assert plan.result.errors == {str(tmp_path / "nothing.mp4"): f"{tmp_path / 'nothing.mp4'}: no such file"}
    assert [j.target for j in plan.jobs] == [output_dir_for(j.film, out) for j in plan.jobs]
    job = plan.jobs[0]
    assert job.provenance["settings"]["analyze"]["movement"] == "geometry"
    integrity = run_job(job, None, plan.settings, plan.detector)
    assert integrity["status"] == "ok" and (job.target / PROVENANCE_FILE).is_file()
    plan.record.close("done")

    again = plan_archive([str(films)], out, settings=geometry)
    assert again.result.skipped == [job.film] and [j.film.name for j in again.jobs] == ["three.mp4", "two.mp4"]
    assert again.record.entry["reused"] == 1
    changed = plan_archive([str(films)], out, settings=AnalyzeSettings(movement="geometry", short_shot_seconds=0.5))
    assert [j.film.name for j in changed.jobs] == ["one.mp4", "three.mp4", "two.mp4"]
    assert changed.result.redone == {str(job.film): "the settings changed (analyze: "
                                     + repr(again.jobs[0].provenance["settings"]["analyze"])
                                     + " -> " + repr(changed.jobs[0].provenance["settings"]["analyze"]) + ")"}
    forced = plan_archive([str(films)], out, settings=geometry, force=True)
    assert len(forced.jobs) == 3 and forced.result.skipped == [] and forced.result.redone == {}
    # shards split the films between runs
    shards = [plan_archive([str(films)], out, settings=geometry, force=True, shard=f"{i}/2") for i in range(2)]
    assert [[j.film.name for j in s.jobs] for s in shards] == [["one.mp4", "two.mp4"], ["three.mp4"]]
    with pytest.raises(DataError, match=r"^no video files to analyse: .*nothing.mp4: no such file$"):
        plan_archive([str(tmp_path / "nothing.mp4")], out)


def test_an_output_folder_that_cannot_take_files_is_refused_before_any_work(tmp_path):
    from shotscope.runs.batch import check_output_dir

    assert check_output_dir(tmp_path / "new" / "out") == tmp_path / "new" / "out"
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match=rf"^output folder {tmp_path / 'file'}: exists and is not a directory$"):
        check_output_dir(tmp_path / "file")
    if Path("/proc/self").is_dir():  # a folder even root cannot write a file in
        with pytest.raises(DataError, match=r"^output folder /proc/self: cannot write here \("):
            check_output_dir("/proc/self")


def test_the_plan_records_what_it_was_given(films, tmp_path, tiny_model, monkeypatch):
    import shotscope.runs.batch as batch
    from shotscope.video.cuts import make_detector

    out = tmp_path / "out"
    detector = make_detector("adaptive")
    plan = plan_archive([str(films), str(tmp_path / "a.mp4"), str(tmp_path / "b*.mp4")], out, tiny_model,
                        detector=detector, shard="0/2")
    assert plan.detector is detector and plan.settings.movement == "model"  # auto, for a model without combiner
    assert plan.record.entry["films"] == 2 and len(plan.jobs) == 2  # the first shard's films
    settings = plan.jobs[0].provenance["settings"]
    assert settings == {"analyze": plan.jobs[1].provenance["settings"]["analyze"], "detector": detector.settings()}
    assert plan.jobs[0].provenance["model"]["source"] == tiny_model.source
    assert set(plan.jobs[0].provenance["film"]) >= {"size", "sha256_edges"}
    runs = _json(out / RUNS_FILE)
    assert runs[-1]["settings"] == settings
    errors = _json(out / ERRORS_FILE)
    assert {k: v["error"] for k, v in errors.items()} == {
        str(tmp_path / "a.mp4"): f"{tmp_path / 'a.mp4'}: no such file",
        str(tmp_path / "b*.mp4"): f"{tmp_path / 'b*.mp4'}: the pattern matches no file"}
    with pytest.raises(DataError, match=r"^no video files to analyse: .*a.mp4: no such file; .*the pattern matches "
                                        r"no file$"):
        plan_archive([str(tmp_path / "a.mp4"), str(tmp_path / "b*.mp4")], out)
    # a film that cannot be read once listed (gone, or unreadable): named with the reason, the rest planned
    real = batch.film_fingerprint

    def unreadable(film):
        if film.name == "two.mp4":
            raise PermissionError(13, "Permission denied", str(film))
        return real(film)

    monkeypatch.setattr(batch, "film_fingerprint", unreadable)
    plan = plan_archive([str(films)], tmp_path / "out2", settings=AnalyzeSettings(movement="geometry"))
    assert [j.film.name for j in plan.jobs] == ["one.mp4", "three.mp4"]
    (name, reason), = plan.result.errors.items()
    assert name == str(films / "two.mp4") and "Permission denied" in reason and "two.mp4" in reason
    assert set(_json(tmp_path / "out2" / ERRORS_FILE)) == {str(films / "two.mp4")}


def test_a_finished_film_reaches_the_records_and_the_archive(films, tmp_path):
    from shotscope import Archive

    out = tmp_path / "out"
    plan = plan_archive([str(films / "one.mp4")], out, settings=AnalyzeSettings(movement="geometry"))
    (job,) = plan.jobs
    finish_job(plan.result, plan.record, job, run_job(job, None, plan.settings, plan.detector))
    finish_job(plan.result, plan.record, FilmJob(films / "x.mp4", out / "x", {}), error="cut short")
    plan.record.close("done")
    assert Archive(out).films()["path"].tolist() == [str(films / "one.mp4")]
    assert {k: v["error"] for k, v in _json(out / ERRORS_FILE).items()} == {str(films / "x.mp4"): "cut short"}
    assert plan.result.done == [job.target] and plan.record.write_problems == []


def test_a_job_analyses_with_the_runs_model_settings_and_detector(films, tmp_path, tiny_model, monkeypatch):
    from shotscope.video.cuts import make_detector

    out = tmp_path / "out"
    settings = AnalyzeSettings(movement="model", short_shot_seconds=0.25, max_views=2)
    detector = make_detector("content", threshold=20.0)
    plan = plan_archive([str(films / "two.mp4")], out, tiny_model, settings=settings, detector=detector)
    (job,) = plan.jobs
    monkeypatch.setattr(sys, "stderr", Terminal())
    integrity = run_job(job, tiny_model, plan.settings, plan.detector)
    assert sys.stderr.getvalue() == ""  # no bar unless asked, even on a terminal
    monkeypatch.undo()
    meta = _json(job.target / "shots.json")
    assert meta["settings"]["max_views"] == 2 and meta["settings"]["short_shot_seconds"] == 0.25
    assert meta["detector"] == detector.settings() == {"name": "content", "library": "scenedetect", "threshold": 20.0}
    assert meta["integrity"] == integrity and integrity["status"] == "ok"
    assert meta["num_frames"] == tiny_model.num_frames and meta["shots"]
    for shot in meta["shots"]:  # labelled by the model, by argmax
        assert shot["movement_source"] == "model" and shot["scale"] == max(shot["scale_probs"],
                                                                             key=shot["scale_probs"].get)


def test_a_ctrl_c_that_python_lost_still_stops_the_run_between_films(films, tmp_path, monkeypatch):
    """Python drops an exception raised inside a finaliser or a callback from C; a Ctrl-C arriving
    there must still stop the archive (before the next film), recorded as interrupted."""
    import signal

    import shotscope.runs.batch as batch

    ran = []

    def swallowed(job, *args, **kwargs):
        ran.append(job.film.name)
        try:
            os.kill(os.getpid(), signal.SIGINT)  # the KeyboardInterrupt lands here ...
        except KeyboardInterrupt:
            pass  # ... and is lost, as in a finaliser
        return {"status": "ok"}

    monkeypatch.setattr(batch, "run_job", swallowed)
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        batch.analyze_many([str(films)], tmp_path / "out", settings=AnalyzeSettings(movement="geometry"),
                           progress=False)
    assert len(ran) == 1  # stopped before the second film
    runs = json.loads((tmp_path / "out" / RUNS_FILE).read_text())
    assert runs[-1]["status"] == "interrupted"
    assert signal.getsignal(signal.SIGINT) is before  # the handler given back


def test_a_ctrl_c_just_after_a_films_folder_is_swapped_in_counts_that_film(films, tmp_path, monkeypatch):
    """Ctrl-C between a film's folder swapped in and its count (its directory's fsync is there): the
    film is whole in place, so the interrupted run's record counts it, and the next run reuses it."""
    import shotscope.runs.batch as batch
    import shotscope.runs.jobs as jobs

    real_swap = jobs.swap_in_dir

    def swap_then_ctrl_c(built, target):
        real_swap(built, target)
        raise KeyboardInterrupt

    monkeypatch.setattr(jobs, "swap_in_dir", swap_then_ctrl_c)
    out = tmp_path / "out"
    geometry = AnalyzeSettings(movement="geometry")
    with pytest.raises(KeyboardInterrupt):
        batch.analyze_many([str(films)], out, settings=geometry, progress=False)
    placed = [p.parent for p in out.glob("*/provenance.json") if not p.parent.name.startswith(".")]
    runs = json.loads((out / RUNS_FILE).read_text())
    assert len(placed) == 1 and (runs[-1]["status"], runs[-1]["done"]) == ("interrupted", 1)
    monkeypatch.undo()
    result = batch.analyze_many([str(films)], out, settings=geometry, progress=False)
    assert result.skipped == [f for f in sorted(films.iterdir()) if output_dir_for(f, out) == placed[0]]
    assert len(result.done) == 2


def _names(folders) -> list[str]:
    """Film names of films and of their folders (named name-HASH)."""
    return sorted(p.stem if p.suffix else p.name.rsplit("-", 1)[0] for p in folders)


def test_an_archive_run_analyses_reuses_redoes_and_shards_as_asked(films, tmp_path, tiny_model, monkeypatch,
                                                                    caplog):
    """analyze_many end to end on three small films and a file that is not one: each film's folder,
    the failure recorded and the rest carried on, a second run reusing what is current, force
    redoing it, a shard taking its share, the run's model, settings and detector in every folder."""
    from shotscope.runs.batch import analyze_many

    out = tmp_path / "out"
    bad = _touch(tmp_path / "broken.mp4")
    geometry = AnalyzeSettings(movement="geometry", short_shot_seconds=0.25)
    with caplog.at_level(logging.DEBUG, logger="shotscope.runs.batch"):
        first = analyze_many([str(films), str(bad)], out, settings=geometry, detector="content", progress=False)
    told = [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"{bad} failed:\n")]
    assert len(told) == 1 and "Traceback (most recent call last)" in told[0]  # the whole story, for --verbose
    assert _names(first.done) == ["one", "three", "two"] and first.skipped == []
    assert list(first.errors) == [str(bad)] and "broken.mp4" in first.errors[str(bad)]
    assert "not a readable video file" in first.errors[str(bad)]  # and why
    assert first.record_problems == [] and first.exit_code == 1
    stored = _json(first.done[0] / "shots.json")
    assert stored["detector"]["name"] == "content" and stored["settings"]["short_shot_seconds"] == 0.25
    assert set(_json(out / ERRORS_FILE)) == {str(bad)}

    again = analyze_many([str(films)], out, settings=geometry, detector="content", progress=False)
    assert again.done == [] and _names(again.skipped) == ["one", "three", "two"]
    forced = analyze_many([str(films)], out, settings=geometry, detector="content", force=True, progress=False)
    assert _names(forced.done) == ["one", "three", "two"] and forced.exit_code == 0
    from .faults import cut_short, faststart_copy

    cut = cut_short(faststart_copy(films / "one.mp4", tmp_path / "web.mp4"), tmp_path / "half.mp4", 0.5)
    flagged = analyze_many([str(cut)], tmp_path / "flagged", settings=geometry, progress=False)
    assert _names(flagged.done) == ["half"] and list(flagged.flagged) == [str(cut)]  # done, and said to be cut short
    assert flagged.flagged[str(cut)].startswith("truncated: decoded")
    halves = [analyze_many([str(films)], tmp_path / "sharded", settings=geometry, shard=f"{i}/2", progress=False)
              for i in range(2)]
    assert sorted(len(h.done) for h in halves) == [1, 2]
    assert _names([p for h in halves for p in h.done]) == ["one", "three", "two"]

    monkeypatch.setattr(sys, "stderr", Terminal())  # a terminal: the archive's bar, counted in films
    modelled = analyze_many([str(films / "one.mp4")], tmp_path / "model", tiny_model, progress=None)
    shown = sys.stderr.getvalue()
    monkeypatch.setattr(sys, "stderr", Terminal())
    analyze_many([str(films / "two.mp4")], tmp_path / "quiet", settings=geometry, progress=False)
    quiet = sys.stderr.getvalue()
    monkeypatch.undo()
    assert shown.startswith("\rfilms:") and "1/1" in shown and "film/s" in shown  # on the first line
    assert "one.mp4]" in shown  # the film under way, after the count
    assert "\n\rone.mp4:" in shown  # and the film's own bar of frames, a line below
    assert quiet == ""  # told no: no bar even on a terminal
    assert _json(modelled.done[0] / PROVENANCE_FILE)["model"] is not None  # the run's model, recorded
    (folder,) = modelled.done
    assert folder.parent == tmp_path / "model" and _json(folder / "shots.json")["num_frames"] == tiny_model.num_frames
