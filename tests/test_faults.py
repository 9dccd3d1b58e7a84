"""The fault corpus: bad films, models, manifests, configs, arguments and output places, each run
through the command line as a user would, each with its exact outcome: exit code, message, and
which files exist and are intact. No case may show a traceback.

Exit codes: 0 all done, 1 some inputs failed (the others finished), 2 usage or configuration
error (nothing ran). docs/reliability.md lists these cases as a table.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from shotscope._cli.main import main
from shotscope.data.synthetic import make_film
from shotscope.runs.batch import output_dir_for

from .conftest import TINY
from .faults import cut_short, damage_middle, faststart_copy, read_only_dir, small_disk

SHOTS = [("LS", "Static", 20), ("CS", "Motion", 20), ("MS", "Static", 20)]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Good and bad inputs, built once: a film, a model, manifests and their broken variants."""
    root = tmp_path_factory.mktemp("faults")
    film = root / "film.mp4"
    make_film(film, SHOTS, width=160, height=96, fps=24)
    torch.manual_seed(0)
    from shotscope import PreprocessConfig, ShotScopeConfig, ShotScopeModel

    model = ShotScopeModel(ShotScopeConfig(**TINY)).eval()
    model.preprocess_config = PreprocessConfig(image_size=TINY["image_size"])
    model.save_pretrained(root / "model")
    return root


@dataclass
class Case:
    """argv (``{root}``, ``{film}``, ``{model}``, ``{tmp}`` filled in), the exit code, text that
    stderr must hold, and a check of the files afterwards."""

    argv: list[str]
    code: int
    stderr: str = ""
    stdout: str = ""
    setup: Callable[[Path, Path], None] | None = None
    check: Callable[[Path, Path], None] | None = None
    tags: list[str] = field(default_factory=list)


def _copy_model(world: Path, tmp: Path, edit: Callable[[Path], None]) -> None:
    shutil.copytree(world / "model", tmp / "m")
    edit(tmp / "m")


def _edit_json(name: str, change: Callable[[dict], object]) -> Callable[[Path], None]:
    def edit(model: Path) -> None:
        data = json.loads((model / name).read_text())
        out = change(data)
        (model / name).write_text(json.dumps(data if out is None else out))
    return edit


def _write(name: str, content: bytes | str) -> Callable[[Path, Path], None]:
    def setup(world: Path, tmp: Path) -> None:
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        content_b = content.encode() if isinstance(content, str) else content
        path.write_bytes(content_b.replace(b"{film}", str(world / "film.mp4").encode()))
    return setup


def _copy_film(name: str, transform: Callable[[Path, Path], Path] | None = None) -> Callable[[Path, Path], None]:
    def setup(world: Path, tmp: Path) -> None:
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        if transform is None:
            shutil.copy(world / "film.mp4", tmp / name)
        else:
            transform(world / "film.mp4", tmp / name)
    return setup


def _model_case(edit: Callable[[Path], None], stderr: str) -> Case:
    return Case(["analyze", "{film}", "-m", "{tmp}/m", "-o", "{tmp}/out"], 2, stderr,
                setup=lambda w, t: _copy_model(w, t, edit), check=_nothing_written)


def _nothing_written(world: Path, tmp: Path) -> None:
    assert not (tmp / "out").exists() or not any((tmp / "out").iterdir())


def _one_folder(world: Path, tmp: Path) -> dict:
    folders = [p for p in (tmp / "out").iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    data = json.loads((folders[0] / "shots.json").read_text())
    provenance = json.loads((folders[0] / "provenance.json").read_text())
    from shotscope.provenance import file_sha256

    for name, digest in provenance["files"].items():
        assert file_sha256(folders[0] / name) == digest, name
    return data


def _flagged(status: str) -> Callable[[Path, Path], None]:
    def check(world: Path, tmp: Path) -> None:
        data = _one_folder(world, tmp)
        assert data["integrity"]["status"] == status, data["integrity"]
    return check


def _errors_record_names(name: str) -> Callable[[Path, Path], None]:
    def check(world: Path, tmp: Path) -> None:
        errors = json.loads((tmp / "out" / "errors.json").read_text())
        assert any(name in k for k in errors), errors
        runs = json.loads((tmp / "out" / "runs.json").read_text())
        assert runs[-1]["status"] == "done" and runs[-1]["failed"] >= 1
    return check


def _edl_parses(world: Path, tmp: Path) -> None:
    import opentimelineio as otio

    folder = next(p for p in (tmp / "out").iterdir() if p.is_dir())
    edl = (folder / "shots.edl").read_text()
    assert "TITLE:" in edl.splitlines()[0] and "\n\n" not in edl.split("\n", 1)[0]
    assert len(list(otio.adapters.read_from_string(edl, "cmx_3600", rate=24).find_clips())) == len(SHOTS)


GEO = ["--movement", "geometry"]
ANALYZE = ["analyze", "{film}", "-o", "{tmp}/out", *GEO]
MANIFEST_HEAD = "path,scale,movement,start,end\n"

CASES: dict[str, Case] = {
    # --- films ------------------------------------------------------------------------------
    "film-missing": Case(["analyze", "{tmp}/nope.mp4", "-o", "{tmp}/out", *GEO], 2, "nope.mp4: no such file"),
    "film-dir-empty": Case(["analyze", "{tmp}/empty", "-o", "{tmp}/out", *GEO], 2, "no video files in this directory",
                           setup=lambda w, t: (t / "empty").mkdir()),
    "film-glob-nothing": Case(["analyze", "{tmp}/*.mkv", "-o", "{tmp}/out", *GEO], 2, "the pattern matches no file"),
    "film-one-missing-one-good": Case(["analyze", "{film}", "{tmp}/nope.mp4", "-o", "{tmp}/out", *GEO], 1,
                                      "nope.mp4: no such file", check=_errors_record_names("nope.mp4")),
    "film-zero-bytes": Case(["analyze", "{tmp}/z.mp4", "-o", "{tmp}/out", *GEO], 1, "z.mp4: empty file",
                            setup=_write("z.mp4", b""), check=_errors_record_names("z.mp4")),
    "film-text": Case(["analyze", "{tmp}/t.mp4", "-o", "{tmp}/out", *GEO], 1, "t.mp4: not a readable video file",
                      setup=_write("t.mp4", "hello\n" * 100)),
    "film-cut-in-half": Case(["analyze", "{tmp}/c.mp4", "-o", "{tmp}/out", *GEO], 1, "c.mp4: not a readable video file",
                             setup=_copy_film("c.mp4", cut_short)),
    "film-faststart-cut": Case(["analyze", "{tmp}/fs.mp4", "-o", "{tmp}/out", *GEO], 0, "truncated: decoded",
                               setup=_copy_film("fs.mp4", lambda a, b: cut_short(faststart_copy(a, b.with_name("full.mp4")), b)),
                               check=_flagged("truncated")),
    "film-damaged-middle": Case(["analyze", "{tmp}/d.mp4", "-o", "{tmp}/out", *GEO], 0, "damaged",
                                setup=_copy_film("d.mp4", damage_middle), check=_flagged("damaged")),
    "film-name-newline": Case(["analyze", "{tmp}/a\nb.mp4", "-o", "{tmp}/out", *GEO], 0,
                              setup=_copy_film("a\nb.mp4"), check=_edl_parses),
    "film-name-unicode": Case(["analyze", "{tmp}/Ümlaut — 映画 🎬.mp4", "-o", "{tmp}/out", *GEO], 0,
                              setup=_copy_film("Ümlaut — 映画 🎬.mp4"), check=_edl_parses),
    "film-name-markup": Case(["analyze", "{tmp}/<b>x<script>.mp4", "-o", "{tmp}/out", *GEO], 0,
                             setup=_copy_film("<b>x<script>.mp4"),
                             check=lambda w, t: _assert_escaped(t)),
    "film-range-beyond-end": Case([*ANALYZE, "--start", "100"], 1, "no decodable video frames in [100.000"),
    "film-range-reversed": Case([*ANALYZE, "--start", "2", "--end", "1"], 2, "end (1.0) must be after start (2.0)"),
    "film-range-not-a-time": Case([*ANALYZE, "--start", "abc"], 2, "argument --start: expected seconds"),
    "film-range-ok": Case([*ANALYZE, "--start", "0.5", "--end", "00:00:02"], 0,
                          check=lambda w, t: _range_check(t, 0.5, 2.0)),
    # --- arguments --------------------------------------------------------------------------
    "arg-shard-too-big": Case([*ANALYZE, "--shard", "5/2"], 2, "expected i/n with 0 <= i < n"),
    "arg-shard-text": Case([*ANALYZE, "--shard", "abc"], 2, "expected i/n"),
    "arg-shard-zero": Case([*ANALYZE, "--shard", "0/0"], 2, "expected i/n with 0 <= i < n"),
    "arg-batch-zero": Case([*ANALYZE, "--batch-size", "0"], 2, "argument --batch-size: expected a whole number >= 1"),
    "arg-batch-text": Case([*ANALYZE, "--batch-size", "x"], 2, "argument --batch-size"),
    "arg-threshold-negative": Case([*ANALYZE, "-t", "-1"], 2, "argument -t/--threshold"),
    "arg-threshold-nan": Case([*ANALYZE, "-t", "nan"], 2, "argument -t/--threshold"),
    "arg-min-len-zero": Case([*ANALYZE, "--min-scene-len", "0"], 2, "argument --min-scene-len"),
    "arg-min-len-transnet": Case([*ANALYZE, "--detector", "transnetv2", "--min-scene-len", "5"], 2,
                                 "the transnetv2 detector has none"),
    "arg-cuts-two-films": Case(["analyze", "{film}", "{film}x", "-o", "{tmp}/out", "--cuts", "{tmp}/c.csv", *GEO], 2,
                               "--cuts takes exactly one film"),
    "arg-cuts-missing": Case([*ANALYZE, "--cuts", "{tmp}/none.csv"], 2, "none.csv: no such cut list"),
    "arg-cuts-bad-csv": Case([*ANALYZE, "--cuts", "{tmp}/c.csv"], 2, "not a PySceneDetect scene list",
                             setup=_write("c.csv", "a,b\n1,2\n")),
    "arg-cuts-unknown-format": Case([*ANALYZE, "--cuts", "{tmp}/c.txt"], 2, "unknown cut list format",
                                    setup=_write("c.txt", "0\n")),
    "arg-device-cuda": Case(["analyze", "{film}", "-m", "{model}", "-o", "{tmp}/out", "--device", "cuda"], 2,
                            "no CUDA GPU is available"),
    "arg-device-bogus": Case(["analyze", "{film}", "-m", "{model}", "-o", "{tmp}/out", "--device", "toaster"], 2,
                             "expected auto, cpu, cuda"),
    "arg-format-two-films": Case(["analyze", "{film}", "{film}x", "-o", "{tmp}/out", "--format", "json", *GEO], 2,
                                 "--format takes exactly one film"),
    "arg-fused-without-combiner": Case(["analyze", "{film}", "-m", "{model}", "-o", "{tmp}/out", "--movement",
                                        "fused"], 2, "needs a model with a fitted movement combiner"),
    "arg-unknown-option": Case([*ANALYZE, "--frobnicate"], 2, "unrecognized arguments: --frobnicate"),
    "arg-movement-choice": Case(["analyze", "{film}", "--movement", "sideways"], 2, "invalid choice: 'sideways'"),
    # --- output places ----------------------------------------------------------------------
    "out-is-a-file": Case(["analyze", "{film}", "-o", "{tmp}/out", *GEO], 2, "exists and is not a directory",
                          setup=_write("out", "precious"), check=lambda w, t: _unchanged(t / "out", "precious")),
    "out-read-only": Case(["analyze", "{film}", "-o", "{tmp}/ro/out", *GEO], 2, "/ro/out: cannot write here (Read-only file system)",
                          tags=["read-only"]),
    "out-disk-full": Case(["analyze", "{film}", "-o", "{tmp}/full/out", *GEO], 1, "No space left on device",
                          tags=["full"], check=lambda w, t: _no_half_folders(t / "full" / "out")),
    "predict-out-is-dir": Case(["predict", "{film}", "-o", "{tmp}", *GEO], 2, "is a directory; give a file name"),
    "evaluate-out-is-file": Case(["evaluate", "--data", "{tmp}/m.csv", "-o", "{tmp}/m.csv", *GEO], 2,
                                 "exists and is not a directory", setup=_write("m.csv", MANIFEST_HEAD + "{film},LS,Static,,\n")),
    "evaluate-baseline-not-json": Case(["evaluate", "--data", "{tmp}/m.csv", "-o", "{tmp}/ev", "--baseline",
                                        "{tmp}/b.json", *GEO], 2, "the baseline is not JSON",
                                       setup=lambda w, t: (_write("m.csv", MANIFEST_HEAD + "{film},LS,Static,,\n")(w, t),
                                                           _write("b.json", "not json")(w, t)),
                                       check=lambda w, t: _absent(t / "ev" / "metrics.json")),
    "evaluate-baseline-wrong-shape": Case(["evaluate", "--data", "{tmp}/m.csv", "-o", "{tmp}/ev", "--baseline",
                                           "{tmp}/b.json", *GEO], 2, "a baseline is a metrics.json",
                                          setup=lambda w, t: (_write("m.csv", MANIFEST_HEAD + "{film},LS,Static,,\n")(w, t),
                                                              _write("b.json", "[1, 2]")(w, t))),
    # --- models -----------------------------------------------------------------------------
    "model-missing": Case(["analyze", "{film}", "-m", "{tmp}/nomodel", "-o", "{tmp}/out"], 2,
                          "nomodel: no such model directory", check=_nothing_written),
    "model-is-a-file": Case(["analyze", "{film}", "-m", "{film}", "-o", "{tmp}/out"], 2, "is a file, expected a model"),
    "model-no-config": _model_case(lambda m: (m / "config.json").unlink(), "not a model directory (no config.json)"),
    "model-config-not-json": _model_case(lambda m: (m / "config.json").write_text("{oops"), "cannot read config"),
    "model-config-list": _model_case(lambda m: (m / "config.json").write_text("[]"), "expected a JSON object"),
    "model-type-unknown": _model_case(_edit_json("config.json", lambda d: d.update(model_type="bert")),
                                      "model_type 'bert' is not a shotscope"),
    "model-weights-cut": _model_case(lambda m: cut_short(m / "model.safetensors", m / "model.safetensors", 0.5),
                                     "model.safetensors: cannot read the weights"),
    "model-weights-garbage": _model_case(lambda m: (m / "model.safetensors").write_bytes(b"\x00" * 64),
                                         "cannot read the weights"),
    "model-no-weights": _model_case(lambda m: (m / "model.safetensors").unlink(), "no weights (model.safetensors)"),
    "model-labels-vs-head": _model_case(
        _edit_json("config.json", lambda d: d.update(scale_id2label={"0": "A", "1": "B", "2": "C", "3": "D"},
                                                      scale_label2id=None)),
        "the weights have 5 scale classes, the config's scale_id2label has 4"),
    "model-layer-sizes": _model_case(_edit_json("config.json", lambda d: d.update(intermediate_size=96)),
                                     "the weights do not fit config.json"),
    "model-label-ids-gap": _model_case(
        _edit_json("config.json", lambda d: d.update(movement_id2label={"0": "Static", "1": "Motion", "2": "Pull",
                                                                         "7": "Push"}, movement_label2id=None)),
        "movement_id2label: ids must be 0..n-1"),
    "model-heads-vs-hidden": _model_case(_edit_json("config.json", lambda d: d.update(num_attention_heads=3)),
                                         "not a multiple of num_attention_heads"),
    "model-frames-vs-tubelet": _model_case(_edit_json("config.json", lambda d: d.update(num_frames=5)),
                                           "num_frames 5 is not a multiple of tubelet_size 2"),
    "model-preprocess-std-zero": _model_case(_edit_json("preprocessor_config.json",
                                                        lambda d: d.update(image_std=[0, 0.2, 0.2])),
                                             "preprocessor_config.json: not a valid preprocessor config (image_std"),
    "model-preprocess-mean-len": _model_case(_edit_json("preprocessor_config.json", lambda d: d.update(image_mean=[0.5])),
                                             "image_mean must be three numbers"),
    "model-preprocess-size": _model_case(_edit_json("preprocessor_config.json",
                                                    lambda d: d.update(shotscope_resize_mode="center_crop",
                                                                       crop_size={"height": -3})),
                                         "image_size must be a whole number of pixels"),
    "model-preprocess-not-json": _model_case(lambda m: (m / "preprocessor_config.json").write_text("<xml/>"),
                                             "not a valid preprocessor config"),
    "model-fusion-garbage": _model_case(lambda m: (m / "movement_fusion.json").write_text('{"coef": 1}'),
                                        "movement_fusion.json: not a valid movement combiner"),
    "model-fusion-shape": _model_case(
        lambda m: (m / "movement_fusion.json").write_text(json.dumps(
            {"features": __import__("shotscope.sources.fusion", fromlist=["FEATURES"]).FEATURES, "coef": [[0.0] * 15] * 3,
             "intercept": [0.0] * 3, "mean": [0.0] * 15, "scale": [1.0] * 15})),
        "fitted on other features"),
    # --- manifests (predict reads them; a bad line is skipped and named) -------------------------
    "manifest-bom": Case(["predict", "{tmp}/m.csv", *GEO], 0, stdout="film.mp4\t",
                         setup=_write("m.csv", b"\xef\xbb\xbf" + (MANIFEST_HEAD + "{film},LS,Static,,\n").encode())),
    "manifest-utf16": Case(["predict", "{tmp}/m.csv", *GEO], 0, stdout="film.mp4",
                           setup=lambda w, t: (t / "m.csv").write_bytes(
                               (MANIFEST_HEAD + f"{w / 'film.mp4'},LS,Static,,\n").encode("utf-16"))),
    "manifest-latin1-name": Case(["predict", "{tmp}/m.csv", *GEO], 0, stdout="café.mp4",
                                 setup=lambda w, t: (shutil.copy(w / "film.mp4", t / "café.mp4"), (t / "m.csv").write_bytes(
                                     (MANIFEST_HEAD + "café.mp4,LS,Static,,\n").encode("latin-1")))),
    "manifest-no-path-column": Case(["predict", "{tmp}/m.csv", *GEO], 2, "a manifest needs a header with a 'path' column",
                                    setup=_write("m.csv", "file,scale\nx.mp4,LS\n")),
    "manifest-binary": Case(["predict", "{tmp}/m.csv", *GEO], 2, "a binary file, not a text manifest",
                            setup=_write("m.csv", b"\x00\x01\x02" * 100)),
    "manifest-missing": Case(["predict", "{tmp}/none.csv", *GEO], 2, "none.csv: cannot read"),
    "manifest-jsonl-not-object": Case(["predict", "{tmp}/m.jsonl", *GEO], 2, "m.jsonl:1: expected an object",
                                      setup=_write("m.jsonl", "[1, 2]\n")),
    "manifest-jsonl-bad-json": Case(["predict", "{tmp}/m.jsonl", *GEO], 2, "m.jsonl:2: not valid JSON",
                                    setup=_write("m.jsonl", '{"path": "{film}"}\n{oops\n')),
    "manifest-json-array": Case(["predict", "{tmp}/m.jsonl", *GEO], 0, stdout="film.mp4",
                                setup=_write("m.jsonl", '[{"path": "{film}", "scale": "LS"}]')),
    "manifest-start-nan": Case(["predict", "{tmp}/m.csv", *GEO], 2, "start must be a finite number of seconds >= 0",
                               setup=_write("m.csv", MANIFEST_HEAD + "{film},LS,Static,nan,1\n")),
    "manifest-start-inf": Case(["predict", "{tmp}/m.csv", *GEO], 2, "end must be a finite number",
                               setup=_write("m.csv", MANIFEST_HEAD + "{film},LS,Static,0,inf\n")),
    "manifest-start-negative": Case(["predict", "{tmp}/m.csv", *GEO], 1, "start must be a finite number",
                                    setup=_write("m.csv", MANIFEST_HEAD + "{film},LS,Static,-1,1\n{film},LS,Static,0,1\n")),
    "manifest-end-before-start": Case(["predict", "{tmp}/m.csv", *GEO], 2, "end 1.0 is not after start 2.0",
                                      setup=_write("m.csv", MANIFEST_HEAD + "{film},LS,Static,2,1\n")),
    "manifest-unknown-label": Case(["predict", "{tmp}/m.csv", *GEO], 1, "unknown scale label 'XL'",
                                   setup=_write("m.csv", MANIFEST_HEAD + "{film},XL,Static,,\n{film},LS,Static,,\n")),
    "manifest-clip-missing": Case(["predict", "{tmp}/m.csv", *GEO], 1, "clip not found: gone.mp4",
                                  setup=_write("m.csv", MANIFEST_HEAD + "gone.mp4,LS,,,\n{film},LS,Static,,\n")),
    "manifest-evaluate-all-bad": Case(["evaluate", "--data", "{tmp}/m.csv", "-o", "{tmp}/ev", *GEO], 2,
                                      "no usable clips", setup=_write("m.csv", MANIFEST_HEAD + "gone.mp4,LS,,,\n")),
    # --- training configs ---------------------------------------------------------------------
    "train-unknown-key": Case(["train", "train.epocs=1"], 2, "unknown key train.epocs (did you mean train.epochs?)"),
    "train-not-a-number": Case(["train", "train.epochs=abc"], 2, "train.epochs: expected a whole number, got 'abc'"),
    "train-negative-lr": Case(["train", "train.lr=-1"], 2, "train.lr: must be >= 0"),
    "train-bad-choice": Case(["train", "train.precision=fp64"], 2, "train.precision: expected one of auto, bf16"),
    "train-unknown-section": Case(["train", "optimizer.lr=1"], 2, "unknown key optimizer"),
    "train-model-config-typo": Case(["train", "model.config.hidden_sise=64"], 2,
                                    "unknown key model.config.hidden_sise (did you mean model.config.hidden_size?)"),
    "train-config-missing": Case(["train", "--config", "{tmp}/none.yaml"], 2, "none.yaml: no such config file"),
    "train-config-not-yaml": Case(["train", "--config", "{tmp}/c.yaml"], 2, "not valid YAML",
                                  setup=_write("c.yaml", "a: [unclosed\n")),
    "train-config-a-list": Case(["train", "--config", "{tmp}/c.yaml"], 2, "expected sections of key: value pairs",
                                setup=_write("c.yaml", "- 1\n- 2\n")),
    "train-output-is-file": Case(["train", "output_dir={tmp}/f", "data.train={tmp}/m.csv", "data.val={tmp}/m.csv"], 2,
                                 "exists and is not a directory", setup=_write("f", "x")),
    "train-override-malformed": Case(["train", "train.epochs"], 2, "expected key=value"),
    # --- frame cache ------------------------------------------------------------------------------
    "prepare-cache-is-file": Case(["prepare", "--manifest", "{tmp}/m.csv", "--cache-dir", "{tmp}/c"], 2,
                                  "exists and is not a directory",
                                  setup=lambda w, t: (_write("m.csv", MANIFEST_HEAD + "{film},LS,Static,,\n")(w, t),
                                                      _write("c", "x")(w, t))),
    "synth-one-clip": Case(["synth", "{tmp}/s", "--n", "1"], 2, "synth needs --n >= 2"),
}


def _assert_escaped(tmp: Path) -> None:
    folder = next(p for p in (tmp / "out").iterdir() if p.is_dir())
    html = (folder / "report.html").read_text()
    assert "<b>x<script>" not in html and "&lt;b&gt;x&lt;script&gt;.mp4" in html


def _range_check(tmp: Path, start: float, end: float) -> None:
    data = _one_folder(None, tmp)
    assert data["shots"][0]["start_time"] == pytest.approx(start, abs=0.05)
    assert data["shots"][-1]["end_time"] == pytest.approx(end, abs=0.05)
    assert data["settings"]["start"] == start and data["integrity"]["status"] == "ok"


def _unchanged(path: Path, text: str) -> None:
    assert path.read_text() == text


def _absent(path: Path) -> None:
    assert not path.exists()


def _no_half_folders(out: Path) -> None:
    if out.is_dir():
        for p in out.iterdir():
            assert not p.is_dir() or (p / "provenance.json").is_file(), f"half-written folder {p}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_fault_corpus(name, world, tmp_path, capsys):
    case = CASES[name]
    if case.setup:
        case.setup(world, tmp_path)
    argv = [a.replace("{film}", str(world / "film.mp4")).replace("{model}", str(world / "model"))
            .replace("{tmp}", str(tmp_path)) for a in case.argv]
    if "read-only" in case.tags:
        with read_only_dir(tmp_path / "ro"):
            code = _run(argv)
    elif "full" in case.tags:
        with small_disk(tmp_path / "full", "16k"):
            code = _run(argv)
            captured = capsys.readouterr()
            if case.check:
                case.check(world, tmp_path)
        _verify(case, code, captured)
        return
    else:
        code = _run(argv)
    _verify(case, code, capsys.readouterr())
    if case.check:
        case.check(world, tmp_path)


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's usage errors
        return int(exc.code)


def _verify(case: Case, code: int, captured) -> None:
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    assert code == case.code, f"exit {code}, expected {case.code}; stderr: {captured.err[-1500:]}"
    assert case.stderr in captured.err, captured.err[-1500:]
    assert case.stdout in captured.out, captured.out[-1500:]


def test_corpus_is_large_enough():
    assert len(CASES) >= 60


# --- results that must not be reused, or lost ----------------------------------------------------


def test_results_are_recomputed_when_film_model_or_settings_change(world, tmp_path, capsys):
    film = tmp_path / "film.mp4"
    shutil.copy(world / "film.mp4", film)
    out = tmp_path / "out"
    assert main(["analyze", str(film), "-o", str(out), *GEO]) == 0
    folder = output_dir_for(film, out)
    first = json.loads((folder / "shots.json").read_text())
    assert all(s["scale_source"] == "people" for s in first["shots"])  # no model: scale from the people
    capsys.readouterr()
    assert main(["analyze", str(film), "-o", str(out), *GEO]) == 0  # the same: reused, and said
    assert "1 reused" in capsys.readouterr().err
    assert main(["analyze", str(film), "-o", str(out), "-m", str(world / "model")]) == 0  # a model now
    err = capsys.readouterr().err
    assert "1 analysed" in err and "the model changed" in err
    assert all(s["scale"] and s["scale_source"] == "model" for s in json.loads((folder / "shots.json").read_text())["shots"])
    assert main(["analyze", str(film), "-o", str(out), "-m", str(world / "model"), "--batch-size", "3"]) == 0
    assert "the settings changed (analyze" in capsys.readouterr().err
    make_film(film, SHOTS[:2], width=160, height=96, fps=24)  # the film replaced
    assert main(["analyze", str(film), "-o", str(out), "-m", str(world / "model"), "--batch-size", "3"]) == 0
    assert "the film changed" in capsys.readouterr().err
    assert len(json.loads((folder / "shots.json").read_text())["shots"]) == 2


def test_error_record_merges_across_runs(world, tmp_path, capsys):
    out = tmp_path / "out"
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a film")
    assert main(["analyze", str(bad), "-o", str(out), *GEO]) == 1
    assert main(["analyze", str(world / "film.mp4"), "-o", str(out), *GEO]) == 0  # other inputs: bad.mp4 stays
    errors = json.loads((out / "errors.json").read_text())
    assert list(errors) == [str(bad)] and "not a readable video file" in errors[str(bad)]["error"]
    shutil.copy(world / "film.mp4", bad)  # mended: it leaves the record
    assert main(["analyze", str(bad), "-o", str(out), *GEO]) == 0
    assert json.loads((out / "errors.json").read_text()) == {}
    runs = json.loads((out / "runs.json").read_text())
    assert [r["status"] for r in runs] == ["done"] * 3 and [r["failed"] for r in runs] == [1, 0, 0]
    (out / "errors.json").write_text("{broken")  # an unreadable record is kept aside, not lost
    assert main(["analyze", str(tmp_path / "nope.mp4"), str(bad), "-o", str(out), *GEO]) == 1
    assert list(json.loads((out / "errors.json").read_text())) == [str(tmp_path / "nope.mp4")]
    assert [p.read_text() for p in out.glob("errors.json.unreadable-*")] == ["{broken"]


def test_outputs_follow_the_umask(world, tmp_path):
    import os

    import shotscope.files as files

    for mask, file_mode, dir_mode in ((0o022, 0o644, 0o755), (0o077, 0o600, 0o700), (0o002, 0o664, 0o775)):
        old = os.umask(mask)
        files._UMASK = None
        try:
            out = tmp_path / f"out{mask:o}"
            assert main(["analyze", str(world / "film.mp4"), "-o", str(out), *GEO]) == 0
        finally:
            os.umask(old)
            files._UMASK = None
        folder = output_dir_for(world / "film.mp4", out)
        assert folder.stat().st_mode & 0o777 == dir_mode
        for path in [*folder.iterdir(), out / "errors.json", out / "runs.json"]:
            if path.is_file():
                assert path.stat().st_mode & 0o777 == file_mode, (path, oct(path.stat().st_mode))


def test_full_disk_mid_archive_keeps_finished_films_and_names_the_rest(world, tmp_path, capsys):
    """A disk that fills up while the archive runs: films written before stay whole, the rest
    are named, nothing half-written is left, and the exit code says some failed."""
    with small_disk(tmp_path / "disk", "160k"):
        films = []
        for i in range(6):
            films.append(tmp_path / f"f{i}.mp4")
            shutil.copy(world / "film.mp4", films[-1])
        out = tmp_path / "disk" / "out"
        code = main(["analyze", *map(str, films), "-o", str(out), *GEO])
        err = capsys.readouterr().err
        assert code == 1 and "No space left on device" in err and "Traceback" not in err
        done = [f for f in films if (output_dir_for(f, out) / "provenance.json").is_file()]
        assert 0 < len(done) < len(films), err
        _no_half_folders(out)
        leftovers = [p.name for p in out.iterdir() if ".shotscope-tmp" in p.name]
        assert leftovers == []
        for f in done:
            json.loads((output_dir_for(f, out) / "shots.json").read_text())


def _folder_is_whole(folder: Path) -> str:
    """The run that wrote ``folder`` (its provenance's time), after checking every file against
    the hashes recorded with it: a folder mixing two runs fails here."""
    from shotscope.provenance import file_sha256

    provenance = json.loads((folder / "provenance.json").read_text())
    names = {p.name for p in folder.iterdir()} - {"provenance.json"}
    assert names == set(provenance["files"]), (names, provenance["files"])
    for name, digest in provenance["files"].items():
        assert file_sha256(folder / name) == digest, f"{folder / name} is not the file its run wrote"
    return provenance["written"] + json.dumps(provenance["settings"], sort_keys=True)


def test_sigkill_at_random_moments_of_a_forced_rerun(world, tmp_path):
    """SIGKILL at 20 random moments of `analyze --force` over an archive: every film folder is
    wholly the old result or wholly the new one, and the run records always parse."""
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    films = tmp_path / "films"
    films.mkdir()
    for i in range(4):
        shutil.copy(world / "film.mp4", films / f"f{i}.mp4")
    out = tmp_path / "out"
    assert main(["analyze", str(films), "-o", str(out), *GEO, "-q"]) == 0
    folders = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(folders) == 4
    cmd = [sys.executable, "-m", "shotscope", "analyze", str(films), "-o", str(out), "--force", "-q",
           "-m", str(world / "model")]
    env = dict(os.environ, HF_HUB_OFFLINE="1")

    def runs() -> int:
        try:
            return len(json.loads((out / "runs.json").read_text()))
        except (OSError, ValueError):
            return -1

    def start_and_wait_for_work() -> subprocess.Popen:
        """Start a rerun and return once it has begun on the films (imports and model loading done)."""
        before = runs()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while runs() <= before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return proc

    proc = start_and_wait_for_work()
    began = time.monotonic()
    assert proc.wait() == 0
    work = time.monotonic() - began  # the films' part of a run
    rng = random.Random(1234)
    seen: set[str] = set()
    for _ in range(20):
        proc = start_and_wait_for_work()
        time.sleep(rng.uniform(0, 1.1 * work))  # a random moment of the films' work
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for folder in folders:
            seen.add(_folder_is_whole(folder))
        for record in ("errors.json", "runs.json"):
            json.loads((out / record).read_text())
    assert len(seen) > 3, "the kills never fell between two films' writes"
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0  # and a rerun finishes
    assert not [p for p in out.iterdir() if ".shotscope-" in p.name]  # leftovers of killed runs are cleared
    for folder in folders:
        assert all(s["scale"] and s["scale_source"] == "model" for s in json.loads((folder / "shots.json").read_text())["shots"])


def test_interrupt_is_recorded_and_resumable(world, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    films = tmp_path / "films"
    films.mkdir()
    for i in range(30):
        shutil.copy(world / "film.mp4", films / f"f{i:02d}.mp4")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "shotscope", "analyze", str(films), "-o", str(out), *GEO],
                            env=dict(os.environ, HF_HUB_OFFLINE="1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 300  # (generous: a loaded machine)
    def swapped_in():  # film folders in place (a folder still being built is a hidden one beside them)
        return [p for p in out.glob("*/provenance.json") if not p.parent.name.startswith(".")]

    while time.monotonic() < deadline and len(swapped_in()) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    runs = json.loads((out / "runs.json").read_text())
    placed = len(swapped_in())  # the films done are those in place (one the interrupt met just after
    assert runs[-1]["status"] == "interrupted" and 2 <= runs[-1]["done"] == placed < 30  # its swap too)
    done_before = runs[-1]["done"]
    assert main(["analyze", str(films), "-o", str(out), *GEO, "-q"]) == 0
    runs = json.loads((out / "runs.json").read_text())
    assert runs[-1]["reused"] >= done_before and runs[-1]["reused"] + runs[-1]["done"] == 30


def test_config_key_lists_match_the_libraries():
    """The key lists the fast config check uses are VideoMAEConfig's and AugmentConfig's own."""
    from dataclasses import fields

    from transformers import VideoMAEConfig

    from shotscope.model.preprocessing import AugmentConfig
    from shotscope.training.config import AUGMENT_KEYS, VIDEOMAE_KEYS

    generic = set(__import__("transformers").PretrainedConfig().to_dict())
    assert set(VideoMAEConfig().to_dict()) - generic - {"num_frames", "image_size"} == VIDEOMAE_KEYS
    assert {f.name for f in fields(AugmentConfig)} - {"reversible_movements"} == AUGMENT_KEYS


def test_reliability_doc_lists_every_case():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "reliability.md").read_text()
    missing = [name for name in CASES if f"| `{name}` |" not in doc]
    assert not missing, f"docs/reliability.md lacks {missing}"
