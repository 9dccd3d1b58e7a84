"""The files an analysed film ends as, read back field by field: shots.csv, shots.json, the EDL,
the OTIO timeline and FCP 7 XML. Built from a FilmAnalysis made by hand (no video, no model), so
every value is known."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import zipfile
from pathlib import Path
from urllib.parse import quote

import numpy as np
import opentimelineio as otio
import pytest

from shotscope.analysis.film import FilmAnalysis, Shot
from shotscope.analysis.statistics import film_statistics
from shotscope.labels import MOVEMENT_LABELS, SCALE_LABELS
from shotscope.outputs import timelines, writers

NTSC = 30000 / 1001

SCALE_P = {"ECS": 0.05, "CS": 0.81, "MS": 0.1, "FS": 0.02, "LS": 0.02}
MOVE_P = {"Static": 0.2, "Motion": 0.1, "Pull": 0.1, "Push": 0.6}


def make_film(fps: float = 25.0, path: str = "/films/été one.mp4") -> FilmAnalysis:
    shots = [
        Shot(0, 0, 50, 0.0, 50 / fps, "CS", 0.81, dict(SCALE_P), "Push", 0.6, dict(MOVE_P), "fused", False, 2,
             {"flow": 0.123456, "points": 3}),
        Shot(1, 50, 60, 50 / fps, 60 / fps, None, None, {}, "Static", 0.9,
             {"Static": 0.9, "Motion": 0.05, "Pull": 0.03, "Push": 0.02}, "geometry", True),
        Shot(2, 60, 100, 60 / fps, 100 / fps, "LS", None, {"LS": 1.0}, None, None, {}, "model", False),
        Shot(3, 100, 125, 100 / fps, 125 / fps),
    ]
    return FilmAnalysis(path, fps, 125, 125 / fps, 1280, 720, shots, {"codec": "h264", "sar": "1:1"})


# --- time --------------------------------------------------------------------------------------

@pytest.mark.parametrize("fps, rate", [(24.0, 24.0), (25.0, 25.0), (NTSC, NTSC), (50.0, 50.0),
                                       (23.5, 24.0), (35.0, 24.0), (36.0, 60.0), (37.0, 60.0), (29.97, 24.0)])
def test_timeline_rate_keeps_smpte_rates_and_places_others_on_24_or_60(fps, rate):
    assert timelines.timeline_rate(fps) == pytest.approx(rate)


def test_timecodes_at_the_film_rate_and_by_seconds_on_a_substitute_rate():
    assert timelines.timecode(0, 25.0) == "00:00:00:00"
    assert timelines.timecode(25 * 3661 + 5, 25.0) == "01:01:01:05"
    assert timelines.timecode(1799, NTSC) == "00:00:59;29"  # drop-frame: frames 0 and 1 of minute 1 skipped
    assert timelines.timecode(1800, NTSC) == "00:01:00;02"
    # 23.5 fps is on a 24 fps timeline by seconds: frame 47 is 2.0 s
    assert timelines.timecode(47, 23.5) == "00:00:02:00"
    assert timelines.timecode(48, 23.5) == "00:00:02:01"  # 2.043 s -> frame 49 of 24 fps, rounded
    t = timelines.frame_time(47, 23.5)
    assert (t.value, t.rate) == (48, 24.0)
    t = timelines.frame_time(47, 25.0)
    assert (t.value, t.rate) == (47, 25.0)


# --- CSV -----------------------------------------------------------------------------------------

def test_csv_has_every_column_with_the_shot_values():
    film = make_film()
    text = writers.csv_text(film)
    assert text.endswith("\n") and "\r" not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["shot", "start_frame", "end_frame", "start_timecode", "end_timecode", "start_seconds",
                       "end_seconds", "duration", "scale", "scale_prob", *[f"p_{k}" for k in SCALE_LABELS],
                       "movement", "movement_prob", *[f"p_{k}" for k in MOVEMENT_LABELS], "movement_source",
                       "short"]
    assert len(rows) == 1 + len(film.shots)
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first == {"shot": "0", "start_frame": "0", "end_frame": "50", "start_timecode": "00:00:00:00",
                     "end_timecode": "00:00:02:00", "start_seconds": "0.000", "end_seconds": "2.000",
                     "duration": "2.000", "scale": "CS", "scale_prob": "0.81", "p_ECS": "0.05", "p_CS": "0.81",
                     "p_MS": "0.1", "p_FS": "0.02", "p_LS": "0.02", "movement": "Push", "movement_prob": "0.6",
                     "p_Static": "0.2", "p_Motion": "0.1", "p_Pull": "0.1", "p_Push": "0.6",
                     "movement_source": "fused", "short": "0"}
    second = dict(zip(rows[0], rows[2], strict=True))
    assert (second["scale"], second["scale_prob"], second["p_CS"]) == ("", "", "")
    assert (second["movement"], second["movement_source"], second["short"]) == ("Static", "geometry", "1")
    assert (second["start_seconds"], second["end_seconds"], second["duration"]) == ("2.000", "2.400", "0.400")
    assert (second["start_timecode"], second["end_timecode"]) == ("00:00:02:00", "00:00:02:10")
    third = dict(zip(rows[0], rows[3], strict=True))
    assert (third["scale"], third["scale_prob"], third["p_LS"], third["p_ECS"]) == ("LS", "", "1.0", "")
    assert (third["movement"], third["movement_prob"], third["p_Push"]) == ("", "", "")


# --- JSON ----------------------------------------------------------------------------------------

def test_json_holds_the_film_its_statistics_and_every_shot():
    film = make_film()
    text = writers.json_text(film)
    assert "été one.mp4" in text  # not escaped to \\u00e9
    assert text.startswith('{\n  "file"')  # indented
    data = json.loads(text)
    lines = text.splitlines()  # a line per field and a line per shot, each value compact
    assert len(lines) == len(data) + 2 + len(film.shots) + 1
    shot_lines = lines[-2 - len(film.shots):-2]
    assert [json.loads(line.rstrip(",")) for line in shot_lines] == data["shots"]
    assert all(line.startswith('    {"index":') and ": " not in line for line in shot_lines)
    assert data["file"] == film.path
    assert (data["fps"], data["timecode_rate"], data["timecode_note"]) == (25.0, 25.0, None)
    assert (data["frames"], data["duration"], data["width"], data["height"]) == (125, 5.0, 1280, 720)
    assert (data["codec"], data["sar"]) == ("h264", "1:1")
    assert data["integrity"] == {"status": "ok"}
    assert data["statistics"] == json.loads(json.dumps(film_statistics(film), default=float))
    assert data["shots"] == [json.loads(json.dumps(s.to_dict())) for s in film.shots]
    assert data["shots"][0]["motion"] == {"flow": 0.1235, "points": 3}
    assert data["shots"][0]["views"] == 2


def test_json_says_why_timecodes_are_on_another_rate():
    data = json.loads(writers.json_text(make_film(fps=23.456789)))
    assert data["fps"] == 23.4568
    assert data["duration"] == 5.329  # 125 / 23.456789 = 5.32895... to the millisecond
    assert data["timecode_rate"] == 24.0
    assert data["timecode_note"].startswith("23.457 fps is not a SMPTE timecode rate")
    assert "24 fps timeline" in data["timecode_note"]


def test_json_writes_numpy_numbers_as_numbers():
    film = make_film()
    film.metadata["rotation"] = np.float32(90.0)
    film.shots[0].motion = {"flow": np.float32(0.25)}
    data = json.loads(writers.json_text(film))
    assert data["rotation"] == 90.0 and data["shots"][0]["motion"] == {"flow": 0.25}


# --- names, titles, colours ---------------------------------------------------------------------

def test_clip_and_marker_names_carry_the_labels():
    film = make_film()
    assert [timelines.clip_name(s.scale, s.movement, s.index) for s in film.shots] == ["CS Push", "Static", "LS", "shot 3"]
    assert [timelines.marker_name(s) for s in film.shots] == ["CS 0.81 Push 0.60", "Static 0.90", "LS 0.00",
                                                             "shot 3"]
    assert timelines.marker_name(Shot(7, 0, 1, 0.0, 0.1, movement="Pull")) == "Pull 0.00"


def test_safe_title_turns_control_characters_into_spaces():
    assert timelines.safe_title("a\tb\nc\x1bd\x7fe~") == "a b c d e~"
    assert timelines.safe_title(" \x00x\x1f ") == "x"
    assert timelines.safe_title("\n\t") == "untitled"
    assert timelines.safe_title("") == "untitled"
    assert timelines.safe_title("Ça tourne!") == "Ça tourne!"


# --- the timeline and its three formats ---------------------------------------------------------

def test_timeline_has_a_clip_per_shot_with_range_marker_and_metadata():
    film = make_film()
    tl = timelines.film_timeline(film, "my\nfilm")
    assert tl.name == "my film"
    assert len(tl.tracks) == 1
    track = tl.tracks[0]
    assert (track.name, track.kind) == ("shots", otio.schema.TrackKind.Video)
    clips = list(track.find_clips())
    assert [c.name for c in clips] == ["CS Push", "Static", "LS", "shot 3"]
    assert [(c.source_range.start_time.value, c.source_range.duration.value) for c in clips] == \
        [(0, 50), (50, 10), (60, 40), (100, 25)]
    assert all(c.source_range.start_time.rate == 25.0 for c in clips)
    ref = clips[0].media_reference
    assert ref.target_url == Path(film.path).resolve().as_uri()
    assert (ref.available_range.start_time.value, ref.available_range.duration.value) == (0, 125)
    assert ref.available_range.start_time.rate == ref.available_range.duration.rate == 25.0
    meta = dict(clips[0].metadata["shotscope"])
    assert "motion" not in meta and "timeline" not in meta  # the evidence and the timeline stay in shots.json
    expected = {k: v for k, v in film.shots[0].to_dict().items() if k not in ("motion", "timeline")}
    assert {k: meta[k] for k in expected if not isinstance(expected[k], dict)} == \
        {k: v for k, v in expected.items() if not isinstance(v, dict)}
    assert dict(meta["scale_probs"]) == SCALE_P
    markers = [c.markers[0] for c in clips]
    assert all(len(c.markers) == 1 for c in clips)
    assert [m.name for m in markers] == ["CS 0.81 Push 0.60", "Static 0.90", "LS 0.00", "shot 3"]
    assert [m.color for m in markers] == ["PINK", "RED", "BLUE", "RED"]
    assert [(m.marked_range.start_time.value, m.marked_range.duration.value) for m in markers] == \
        [(0, 0), (50, 0), (60, 0), (100, 0)]


def test_marker_colours_follow_the_scale():
    assert timelines.SCALE_MARKER_COLOURS == {"ECS": "PURPLE", "CS": "PINK", "MS": "ORANGE", "FS": "GREEN",
                                            "LS": "BLUE"}
    assert set(timelines.SCALE_MARKER_COLOURS.values()) <= {c for c in dir(otio.schema.MarkerColor)
                                                          if c.isupper()}


def test_otio_file_reads_back_as_the_same_timeline():
    film = make_film()
    tl = otio.adapters.read_from_string(writers.otio_text(film, "t"), "otio_json")
    assert tl.name == "t"
    clips = list(tl.find_clips())
    assert [c.name for c in clips] == ["CS Push", "Static", "LS", "shot 3"]
    assert [c.source_range.duration.value for c in clips] == [50, 10, 40, 25]
    assert clips[1].metadata["shotscope"]["short"] is True


def test_edl_has_an_event_and_a_located_marker_per_shot():
    film = make_film()
    text = writers.edl_text(film, "a\tfilm")
    lines = text.splitlines()
    assert lines[0] == "TITLE: a film"
    events = [line for line in lines if line[:3].isdigit()]
    assert [e.split()[0] for e in events] == ["001", "002", "003", "004"]
    assert events[0].split()[-4:] == ["00:00:00:00", "00:00:02:00", "00:00:00:00", "00:00:02:00"]
    assert events[3].split()[-4:] == ["00:00:04:00", "00:00:05:00", "00:00:04:00", "00:00:05:00"]
    assert [line.split(":", 1)[1].strip() for line in lines if line.startswith("* FROM CLIP NAME")] == \
        ["CS Push", "Static", "LS", "shot 3"]
    locs = [line for line in lines if line.startswith("* LOC:")]
    assert len(locs) == 4
    assert locs[0].split()[2:] == ["00:00:00:00", "PINK", "CS", "0.81", "PUSH", "0.60"]
    assert locs[1].split()[2:4] == ["00:00:02:00", "RED"]
    # the editor's importer reads it back: same cuts
    tl = otio.adapters.read_from_string(text, "cmx_3600", rate=25)
    assert [c.source_range.duration.value for c in tl.find_clips()] == [50, 10, 40, 25]


def test_fcp_xml_reads_back_with_the_clip_names_and_lengths():
    film = make_film(fps=24.0)
    tl = otio.adapters.read_from_string(writers.fcpxml_text(film, "xml film"), "fcp_xml")
    assert tl.name == "xml film"
    clips = list(tl.find_clips())
    assert [c.name for c in clips] == ["CS Push", "Static", "LS", "shot 3"]
    assert [(c.source_range.start_time.value, c.source_range.duration.value) for c in clips] == \
        [(0, 50), (50, 10), (60, 40), (100, 25)]


# --- writing ----------------------------------------------------------------------------------

def test_write_outputs_writes_each_file_with_its_text_and_shots_json_last(tmp_path, monkeypatch):
    film = make_film()
    rng = np.random.default_rng(0)
    for shot in film.shots[:-1]:  # pictures of all but the last shot (one the analysis kept none of)
        shot.thumbnail, shot.first_frame, shot.last_frame = (rng.integers(0, 255, (72, 128, 3), np.uint8)
                                                             for _ in range(3))
    written: list[str] = []
    real = writers.atomic_write_text

    def record(path, text):
        written.append(Path(path).name)
        return real(path, text)

    monkeypatch.setattr(writers, "atomic_write_text", record)
    out = tmp_path / "out"
    out.mkdir()
    files = writers.write_outputs(film, out)
    assert files == {"csv": out / "shots.csv", "edl": out / "shots.edl", "otio": out / "shots.otio",
                     "fcpxml": out / "shots.xml", "report": out / "report.html", "json": out / "shots.json",
                     "frames": out / "frames.zip"}
    assert written[-1] == "shots.json" and sorted(written) == sorted(p.name for k, p in files.items() if k != "frames")
    title = "été one.mp4"
    assert files["csv"].read_text(encoding="utf-8") == writers.csv_text(film)
    assert files["json"].read_text(encoding="utf-8") == writers.json_text(film)
    assert files["edl"].read_text(encoding="utf-8") == writers.edl_text(film, title)
    assert files["otio"].read_text(encoding="utf-8") == writers.otio_text(film, title)
    assert files["fcpxml"].read_text(encoding="utf-8") == writers.fcpxml_text(film, title)
    report = files["report"].read_text(encoding="utf-8")
    assert "<html" in report
    # each shot's pictures, once encoded: in frames.zip (first, middle, last) and in the report
    with zipfile.ZipFile(files["frames"]) as stored:
        names = stored.namelist()
        pictured = [s for s in film.shots if s.thumbnail is not None]
        assert pictured and sorted(names) == sorted(f"{s.index:06d}-{kind}.webp" for s in pictured
                                                    for kind in ("first", "middle", "last"))
        assert stored.getinfo(names[0]).compress_type == zipfile.ZIP_STORED
        first = stored.read(f"{pictured[0].index:06d}-first.webp")
    assert f'src="data:image/webp;base64,{base64.b64encode(first).decode()}"' in report
    # the report's player finds the film by a path relative to the report's folder
    link = quote(Path(os.path.relpath(Path(film.path).absolute(), out.absolute())).as_posix())
    assert link.startswith("..") and f'src="{link}"' in report


def test_frames_read_back_from_frames_zip_as_stored_and_anew_when_it_is_replaced(tmp_path):
    """The web app's thumbnails: each picture read back as written, the new ones after the film is
    analysed again (the zip replaced), and None for a missing picture or a zip cut short."""
    from shotscope.outputs.frames import FRAMES_FILE, frames_zip, read_frame

    film = make_film()
    pictures = [{"first": b"first %d" % k, "middle": b"middle %d" % k, "last": b"last %d" % k}
                for k in range(len(film.shots))]
    (tmp_path / FRAMES_FILE).write_bytes(frames_zip(film, pictures))
    for shot, stored in zip(film.shots, pictures, strict=True):
        for kind, data in stored.items():
            assert read_frame(tmp_path, shot.index, kind) == data
    assert read_frame(tmp_path, 99, "first") is None
    again = [{"first": b"new first frame %d" % k} for k in range(len(film.shots))]  # analysed again
    (tmp_path / FRAMES_FILE).write_bytes(frames_zip(film, again))
    assert read_frame(tmp_path, film.shots[0].index, "first") == b"new first frame 0"
    assert read_frame(tmp_path, film.shots[0].index, "middle") is None
    whole = (tmp_path / FRAMES_FILE).read_bytes()
    (tmp_path / FRAMES_FILE).write_bytes(whole[: len(whole) // 2])  # cut short: no directory
    assert read_frame(tmp_path, film.shots[0].index, "first") is None
    assert read_frame(tmp_path / "nowhere", 0, "first") is None
