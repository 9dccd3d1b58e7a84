"""Mutation testing of the core modules with mutmut: `make mutation` (slow, not part of CI).

Each group mutates one or more modules and runs the test files that exercise them (mutmut then
picks, for each mutant, the tests that reach the mutated function). A group runs in a scratch copy
of the repository (build/mutation/GROUP) so the working tree is never touched; results are
written to docs/testing.md: the score per module and every surviving mutant.

Run: .venv/bin/python tools/mutation.py [GROUP ...] [--children N] [--no-write]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DOC = ROOT / "docs" / "testing.md"
RESULTS = ROOT / "docs" / "mutation-results.json"

# group -> (modules to mutate, test files that exercise them)
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "sampling": (["video/sampling.py"], ["test_properties.py", "test_video.py", "test_outcomes.py"]),
    "statistics": (["analysis/statistics.py"], ["test_properties.py", "test_outcomes.py"]),
    "fusion": (["sources/fusion.py", "training/fusion.py"], ["test_fusion.py", "test_outcomes.py"]),
    "writers": (["outputs/writers.py", "outputs/timelines.py"], ["test_writers.py", "test_properties.py"]),
    "preprocessing": (["model/preprocessing.py"], ["test_preprocessing.py", "test_properties.py"]),
    "motion": (["sources/geometry.py"], ["test_motion.py"]),
    "inference": (["model/inference.py"], ["test_inference.py"]),
    "modeling": (["model/modeling.py"], ["test_model.py", "test_loading.py"]),
    "loading": (["model/loading.py"], ["test_loading.py", "test_model.py"]),
    "video": (["video/decode.py"], ["test_decoding.py", "test_video.py"]),
    "analysis": (["analysis/film.py", "analysis/labelling.py", "analysis/shot_frames.py", "analysis/results.py"], ["test_analysis_parts.py", "test_analysis.py"]),
    "batch": (["runs/batch.py", "runs/jobs.py", "runs/records.py"], ["test_batch.py", "test_ray.py"]),
    "training": (["training/trainer.py"], ["test_trainer_parts.py", "test_outcomes.py"]),
}


# tests a `--lean N` pass leaves out (node id substrings), by level: level 1 the tests that cost far more
# than the rest (the TransNetV2 network on CPU: 20 s of the ~50 s an analyze mutant's tests take), level 2
# the whole end-to-end file (the fast tests of the parts alone). The survivors of a lean pass are re-tested
# with more tests (`--survivors --lean 1`, then `--survivors`), so no verdict rests on a lean pass alone
LEAN: dict[str, list[list[str]]] = {
    "analysis": [["test_transnetv2_streamed_matches_the_reference"], ["tests/test_analysis.py::"]],
}


def _leave_out(group: str, lean: int) -> list[str]:
    """The tests a `--lean` pass of this level leaves out (the group's deepest level if it has fewer)."""
    levels = LEAN.get(group, [])
    return levels[min(lean, len(levels)) - 1] if lean and levels else []


def scratch_copy(group: str) -> Path:
    """The repository's sources, tests and docs in build/mutation/GROUP (with ../shared beside it)."""
    base = ROOT / "build" / "mutation" / group
    shutil.rmtree(base, ignore_errors=True)
    repo = base / "repo"
    for part in ("src", "tests", "docs", "benchmarks"):
        shutil.copytree(ROOT / part, repo / part, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    if SHARED.exists():  # the real footage the tests read: ../shared from the repository (and from mutants/)
        (base / "shared").symlink_to(SHARED)
        (repo / "shared").symlink_to(SHARED)
    return repo


def refresh_copy(group: str) -> Path:
    """Bring a group's existing scratch copy up to date with the working tree, keeping mutmut's results:
    a changed module gets a new mtime (mutmut then makes its mutants again and re-tests the changed
    functions'); changed tests drop mutmut's test map, so that it traces which tests reach what again."""
    repo = ROOT / "build" / "mutation" / group / "repo"
    tests_changed = False
    for part in ("src", "tests", "docs", "benchmarks"):
        for source in (ROOT / part).rglob("*"):
            if not source.is_file() or "__pycache__" in source.parts or ".egg-info" in str(source):
                continue
            target = repo / source.relative_to(ROOT)
            if target.exists() and target.read_bytes() == source.read_bytes():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)  # a new mtime: mutmut sees the change
            tests_changed |= part == "tests"
    if tests_changed:
        (repo / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    return repo


def run_group(group: str, children: int, resume: bool = False, survivors_only: bool = False,
              lean: int = 0, also: list[str] | None = None, only: list[str] | None = None) -> dict:
    """Run a group's mutation testing; `resume` continues a stopped run in its scratch copy (the mutants it
    tested keep their results), `survivors_only` re-tests just the mutants that survived last time, `lean`
    leaves out the group's slowest tests (LEAN) for a first pass whose survivors are then re-tested."""
    existing = ROOT / "build" / "mutation" / group / "repo" / "mutants"
    if (resume or survivors_only) and existing.exists():
        if resume and (existing.parent.parent / "seeded.json").exists():
            raise SystemExit(f"{group}: its scratch copy re-tests recorded survivors only; use --survivors")
        repo = refresh_copy(group)
        names = _matching(collect(group, repo)["survivors"], only or []) if survivors_only else []
        if survivors_only and not names:
            return collect(group, repo)
        return _mutmut(group, repo, children, names, lean)
    recorded = json.loads(RESULTS.read_text()).get(group) if RESULTS.exists() else None
    if survivors_only and recorded:  # no scratch copy (a new checkout): re-test what docs/ recorded as open
        return _retest_recorded(group, recorded, children, lean, also or [], only or [])
    return _mutmut(group, _configured_copy(group), children, [], lean)


def _matching(names, patterns: list[str]) -> list[str]:
    """The names matching any of the fnmatch patterns (all of them when there are none), sorted."""
    return sorted(n for n in names if not patterns or any(fnmatch.fnmatch(n, p) for p in patterns))


def _configured_copy(group: str) -> Path:
    """A new scratch copy of the repository set up for mutmut to mutate this group's modules."""
    modules, tests = GROUPS[group]
    repo = scratch_copy(group)
    paths = ", ".join(f'"src/shotscope/{m}"' for m in modules)
    test_paths = ", ".join(f'"tests/{t}"' for t in tests)
    with open(repo / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write(f"\n[tool.mutmut]\npaths_to_mutate = [{paths}]\ntests_dir = [{test_paths}]\n"
                 f'also_copy = ["src/shotscope", "docs", "benchmarks"]\n'
                 'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]\n'
                 # a mutant whose tests take 6x their measured CPU time (+12 s) is a hang: stop it there (default
                 # 30x); generous, so that a slow machine or a second group running beside is not a false kill
                 "timeout_multiplier = 3.0\ntimeout_constant = 2.0\n"
                 # workers forked from a clean server, not from a process that ran torch, PyAV and
                 # sklearn threads (forking that one crashes children: crashes counted as kills)
                 'process_isolation = "forkserver"\n')
    return repo


def _retest_recorded(group: str, recorded: dict, children: int, lean: int, also: list[str],
                     only: list[str]) -> dict:
    """Re-test, in a new scratch copy, the survivors recorded in docs/mutation-results.json (plus the mutants
    matching `also`, recorded as reached by no test); `collect` merges the verdicts into the recorded counts.
    The module must be unchanged since the recorded run (mutmut numbers mutants by their place in a function)."""
    repo = _configured_copy(group)
    (repo.parent / "seeded.json").write_text(json.dumps(recorded, indent=1) + "\n")
    names = _matching(recorded["survivors"], only)
    return _mutmut(group, repo, children, names + list(also), lean)


def _merge_seed(result: dict, seed: dict) -> dict:
    """A seeded copy's verdicts over the recorded run's: each mutant it tested leaves its recorded state
    (survived, or reached by no test) for its new one; the others keep the recorded counts."""
    missing = [n for n in seed["survivors"] if n not in result["status"]]
    if missing:  # mutmut numbers mutants by their place: a changed module has other mutants under these names
        raise SystemExit(f"{result['group']}: recorded mutants the module no longer has ({missing[0]}...); "
                         "run the group in full")
    counts, survivors = dict(seed["counts"]), dict(seed["survivors"])
    for name, state in result["status"].items():
        if state == "not checked":
            continue
        before = "survived" if name in seed["survivors"] else "no tests"
        counts[before] -= 1
        counts[state] = counts.get(state, 0) + 1
        survivors.pop(name, None)
        if state == "survived":
            survivors[name] = result["survivors"][name]
    return dict(result, counts={k: v for k, v in counts.items() if v}, survivors=survivors)


def _mutmut(group: str, repo: Path, children: int, names: list[str], lean: int = 0) -> dict:
    mutmut = Path(sys.executable).with_name("mutmut")
    t0 = time.time()
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false",
               # each mutant's tests fastest first (tools/mutation_order.py): a killed mutant stops sooner
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "tools"), os.environ.get("PYTHONPATH")])),
               PYTEST_ADDOPTS="-p mutation_order", SHOTSCOPE_MUTATION_STATS=str(repo / "mutants" / "mutmut-stats.json"),
               SHOTSCOPE_MUTATION_LEAVE_OUT=",".join(_leave_out(group, lean)))
    run = subprocess.run([str(mutmut), "run", "--max-children", str(children), *names], cwd=repo,
                         capture_output=True, text=True, env=env)
    result = collect(group, repo)
    result.update(seconds=round(time.time() - t0), ok=run.returncode == 0 and bool(result["counts"]),
                  log_tail=(run.stdout + run.stderr)[-2000:] if run.returncode or not result["counts"] else "")
    return result


def collect(group: str, repo: Path | None = None) -> dict:
    """The results of a group's run so far, from its scratch copy (a run stopped midway gives the
    mutants it tested; the rest count as "not checked")."""
    modules, tests = GROUPS[group]
    repo = repo or ROOT / "build" / "mutation" / group / "repo"
    mutmut = Path(sys.executable).with_name("mutmut")
    results = subprocess.run([str(mutmut), "results", "--all", "true"], cwd=repo, capture_output=True, text=True)
    status: dict[str, str] = {}
    for line in results.stdout.splitlines():
        m = re.match(r"\s*([\w.]+__mutmut_\d+): (.+)$", line)
        if m:
            status[m.group(1)] = m.group(2).strip()
    survivors = {}
    for name, state in status.items():
        if state == "survived":
            shown = subprocess.run([str(mutmut), "show", name], cwd=repo, capture_output=True, text=True).stdout
            survivors[name] = "\n".join(line for line in shown.splitlines() if line.startswith(("-", "+"))
                                        and not line.startswith(("---", "+++")))
    counts: dict[str, int] = {}
    for state in status.values():
        counts[state] = counts.get(state, 0) + 1
    result = {"group": group, "modules": modules, "tests": tests, "counts": counts, "survivors": survivors,
              "seconds": None, "ok": bool(status), "log_tail": "", "status": status}
    seed = repo.parent / "seeded.json"  # a copy that re-tests a recorded run's survivors: merged with that run
    return _merge_seed(result, json.loads(seed.read_text())) if seed.exists() else result


def score(counts: dict[str, int]) -> float | None:
    """Killed among killed + survived. Mutants stopped at the CPU limit ("timeout") are not counted
    either way: mutmut's budget leaves out module-scoped fixtures (generated films), so a mutant
    whose tests had to make them again can be stopped without being a hang."""
    killed = counts.get("killed", 0) + counts.get("segfault", 0)
    considered = killed + counts.get("survived", 0)
    return killed / considered if considered else None


# survivors looked at and judged equivalent (no test can tell them apart) or not worth a test,
# with the reason; keyed by mutmut's mutant name. Everything else that survives is listed as open.
V = "shotscope.video.decode.xǁPyAVBackendǁ"  # the prefix of the video backend's mutants
T = "shotscope.training.trainer."  # the prefix of the training module's mutants
JUDGED: dict[str, str] = {
    "shotscope.analysis.statistics.x__shares__mutmut_4": "equivalent: the fallback divisor is used only when every shot "
    "lasts 0 s, where every share is 0 whatever it is",
    "shotscope.analysis.statistics.x__shares__mutmut_12": "equivalent: the fallback count is used only when no shot has "
    "the label, where every share is 0 whatever it is",
    "shotscope.analysis.statistics.x_film_statistics__mutmut_5": "equivalent: a film without shots gets 0 for every length "
    "from any array of zeros",
    "shotscope.analysis.statistics.x_film_statistics__mutmut_6": "equivalent: as above (two zeros or one)",
    "shotscope.video.sampling.x__collect__mutmut_4": "equivalent: equal target times get the same frame in any order",
    "shotscope.video.sampling.x__collect__mutmut_6": "equivalent: as above",
    "shotscope.video.sampling.x__collect__mutmut_8": "equivalent: numpy reads the sort kind case-insensitively",
    "shotscope.video.sampling.x__collect__mutmut_12": "equivalent in output: the end only lets decoding stop early "
    "(speed), the frames at the targets are the same",
    "shotscope.video.sampling.x__collect__mutmut_20": "equivalent: one decoded frame per target, always",
    "shotscope.video.sampling.x__collect__mutmut_23": "equivalent: as above",
    "shotscope.video.sampling.x__collect__mutmut_24": "equivalent: as above",
    "shotscope.video.sampling.x_sample_frames__mutmut_30": "equivalent here: any end past the file finds no frame, the "
    "same error either way",
    "shotscope.sources.fusion.x__features__mutmut_7": "equivalent: probabilities are never above 1, so the upper clip bound never acts",
    "shotscope.sources.fusion.x__features__mutmut_12": "equivalent: as above",
    "shotscope.sources.fusion.x__features__mutmut_16": "equivalent: as above",
    "shotscope.sources.fusion.x__features__mutmut_21": "equivalent: as above",
    "shotscope.sources.fusion.xǁMovementFusionǁfit__mutmut_10": "equivalent: one estimate per clip, always",
    "shotscope.sources.fusion.xǁMovementFusionǁfit__mutmut_13": "equivalent: as above",
    "shotscope.sources.fusion.xǁMovementFusionǁfit__mutmut_26": "equivalent: C=1.0 is scikit-learn's default",
    "shotscope.sources.fusion.xǁMovementFusionǁfit__mutmut_30": "equivalent: the solver converges long before 2000 iterations",
    "shotscope.sources.fusion.xǁMovementFusionǁload__mutmut_9": "equivalent: codec names are case-insensitive",
    "shotscope.sources.fusion.xǁMovementFusionǁload__mutmut_12": "equivalent: JSON numbers load as the same values; every use of them is float arithmetic",
    "shotscope.sources.fusion.xǁMovementFusionǁload__mutmut_14": "equivalent: as above",
    "shotscope.sources.fusion.x_fit_fusion__mutmut_37": "equivalent: num_classes defaults to the four movement classes",
    "shotscope.sources.fusion.x_fit_fusion__mutmut_105": "equivalent: on (clips, classes) probabilities axis 1 is axis -1",
    "shotscope.sources.fusion.x_fit_fusion__mutmut_1": "equivalent: the batch size changes how clips are grouped, not "
    "their probabilities (tested: labels do not depend on the batch size)",
    "shotscope.sources.fusion.x_fit_fusion__mutmut_13": "equivalent: as above (the default batch size)",
    "shotscope.sources.fusion.x_fit_fusion__mutmut_6": "equivalent: progress display only",
    "shotscope.sources.fusion.x_fit_fusion__mutmut_12": "equivalent: progress display only",
    "shotscope.sources.fusion.x_fit_fusion__mutmut_14": "equivalent: movement='model' is predict_records' default",
    "shotscope.sources.fusion.x_fit_fusion__mutmut_57": "equivalent: which warnings are shown, not what is computed",
    "shotscope.sources.fusion.xǁMovementFusionǁfit__mutmut_14": "equivalent: the two lists always have one entry per "
    "clip (strict only guards a bug elsewhere)",
    "shotscope.outputs.writers.x__time__mutmut_7": "equivalent: at the film's own rate round(frame / fps * fps) is the "
    "frame itself",
    "shotscope.outputs.writers.x_json_text__mutmut_43": "equivalent: ensure_ascii=None is falsy, as False",
    "shotscope.outputs.writers.x_otio_text__mutmut_4": "equivalent: otio_json is the adapter write_to_string uses by default",
    "shotscope.outputs.writers.x_safe_title__mutmut_9": "equivalent: a space (32) becomes a space",
    "shotscope.outputs.writers.x_safe_title__mutmut_10": "equivalent: as above",
    "shotscope.outputs.writers.x_timecode__mutmut_7": "equivalent: to_timecode uses the time's own rate when given none",
    "shotscope.outputs.writers.x_timecode__mutmut_9": "equivalent: as above",
    "shotscope.outputs.writers.x_timeline__mutmut_9": "equivalent: a Track is a video track by default",
    "shotscope.outputs.writers.x_timeline__mutmut_75": "equivalent: a marker's range without a duration has duration 0, "
    "what is given",
    "shotscope.outputs.writers.x_timeline__mutmut_77": "equivalent: as above",
    "shotscope.outputs.writers.x_timeline__mutmut_81": "equivalent: a duration of 0 is 0 at any rate",
    "shotscope.outputs.writers.x_timeline__mutmut_19": "equivalent: a range without a start starts at 0 on its duration's rate",
    "shotscope.model.inference.x_compile_model__mutmut_3": "equivalent in results: dynamic shapes spare a recompile per "
    "batch size (speed); the labels are the same",
    "shotscope.model.inference.x_compile_model__mutmut_5": "equivalent in results: as above",
    "shotscope.model.inference.x_compile_model__mutmut_6": "equivalent in results: as above",
    "shotscope.model.inference.x_resolve_device__mutmut_38": "equivalent: cuda is handled by the branch above",
    "shotscope.model.inference.x_resolve_device__mutmut_39": "equivalent: as above",
    "shotscope.model.inference.x_resolve_device__mutmut_40": "equivalent: mps is handled by the branch above",
    "shotscope.model.inference.x_resolve_device__mutmut_41": "equivalent: as above",
    "shotscope.model.preprocessing.x_center_crop__mutmut_12": "equivalent: padding more on both sides and then taking "
    "the middle puts the picture where it was ((size + w) // 2 - w == (size - w) // 2)",
    "shotscope.model.preprocessing.x_center_crop__mutmut_13": "equivalent: as above (one more column, then the middle)",
    "shotscope.model.preprocessing.x_center_crop__mutmut_18": "equivalent: as above, rows",
    "shotscope.model.preprocessing.x_center_crop__mutmut_19": "equivalent: as above, rows",
    "shotscope.model.preprocessing.x_center_crop__mutmut_29": "equivalent: as above",
    "shotscope.model.preprocessing.x_center_crop__mutmut_35": "equivalent: as above",
    "shotscope.model.preprocessing.x_center_crop__mutmut_5": "equivalent: a side equal to the crop is padded by 0",
    "shotscope.model.preprocessing.x_center_crop__mutmut_6": "equivalent: as above",
    "shotscope.model.preprocessing.x_normalize__mutmut_24": "equivalent: mean and std are always three values (checked "
    "when the settings are made)",
    "shotscope.model.preprocessing.x_normalize__mutmut_27": "equivalent: as above",
    "shotscope.model.preprocessing.x_normalize__mutmut_28": "equivalent: as above",
    "shotscope.model.preprocessing.x_random_resized_crop__mutmut_2": "equivalent: clips are always (T, 3, H, W), where "
    "shape[2:] is shape[-2:]",
    "shotscope.model.preprocessing.x_resize__mutmut_1": "equivalent: resizing to the size a picture has is the identity "
    "(only the shortcut is lost)",
    "shotscope.model.preprocessing.x_resize__mutmut_15": "equivalent in values: channels-last memory is torch's fast "
    "path for uint8 (speed only)",
    "shotscope.model.preprocessing.x_resize__mutmut_22": "equivalent: align_corners=None is False for bilinear",
    "shotscope.model.preprocessing.x_resize__mutmut_27": "equivalent: as above (the default)",
    "shotscope.model.preprocessing.x_shortest_edge_size__mutmut_4": "equivalent: a square frame gives (shortest, "
    "shortest) either way",
    "shotscope.model.preprocessing.x_shortest_edge_size__mutmut_11": "equivalent: as above",
    "shotscope.model.preprocessing.xǁPreprocessConfigǁ__post_init____mutmut_17": "equivalent: shortest_edge is the "
    "last size checked, so break and continue end the loop alike",
    "shotscope.model.preprocessing.xǁPreprocessConfigǁfrom_hf_dict__mutmut_73": "equivalent: an int side is kept by "
    "the next branch too",
    "shotscope.model.preprocessing.xǁPreprocessConfigǁload__mutmut_12": "equivalent: codec names are case-insensitive",
    "shotscope.model.loading.x__load_state_dict__mutmut_11": "equivalent on a machine without a GPU: map_location "
    "matters for tensors saved on one",
    "shotscope.model.loading.x__load_state_dict__mutmut_14": "equivalent: as above",
    "shotscope.model.loading.x__load_state_dict__mutmut_12": "equivalent: torch >= 2.6 (required) loads weights only by "
    "default; said explicitly so no other default ever unpickles a file",
    "shotscope.model.loading.x__load_state_dict__mutmut_15": "equivalent: as above",
    "shotscope.model.loading.x_from_backbone__mutmut_20": "equivalent: only the backbone's normalisation and crop size "
    "are taken from what is loaded, never its image size",
    "shotscope.model.loading.x_from_backbone__mutmut_22": "equivalent: as above",
    "shotscope.model.loading.x_check_config__mutmut_45": "equivalent: every key checked exists on a VideoMAE config",
    "shotscope.model.loading.x_load_model__mutmut_85": "equivalent: strict=None is falsy, as False",
    "shotscope.model.loading.x_load_model__mutmut_95": "equivalent with this transformers: position embeddings are not "
    "in its state dict (older versions kept a buffer a published file may lack)",
    "shotscope.model.loading.x_load_model__mutmut_96": "equivalent: as above",
    "shotscope.model.loading.x_load_model__mutmut_101": "equivalent with this transformers: every tensor of the model is "
    "in the state dict, so a missing one fails the check above (the guard is for versions with buffers outside it)",
    "shotscope.model.loading.x_load_model__mutmut_102": "equivalent: as above",
    "shotscope.model.loading.x_load_model__mutmut_103": "equivalent: as above",
    "shotscope.model.loading.x_load_model__mutmut_106": "equivalent on a machine without a GPU: moving a CPU model to "
    "the CPU, or not, is the same",
    "shotscope.model.loading.x_load_model__mutmut_107": "equivalent: as above",
    "shotscope.model.modeling.x__weights__mutmut_4": "equivalent on a machine without a GPU: the weights are made on "
    "the logits' device, here always the CPU",
    "shotscope.model.modeling.x__weights__mutmut_7": "equivalent: as above",
    "shotscope.model.modeling.x__int_keys__mutmut_1": "equivalent: the id-to-label maps are never None when their keys "
    "are made ints (set from the other map or the defaults just before)",
    "shotscope.model.loading.x_config_from_dict__mutmut_5": "equivalent with this transformers: a config's label2id is "
    "made again from its id2label, so a Kinetics label2id left in is overwritten",
    "shotscope.model.loading.x_config_from_dict__mutmut_6": "equivalent: as above",
    "shotscope.model.loading.x_load_model__mutmut_63": "equivalent for square inputs, the only kind VideoMAE checkpoints "
    "have (the model's own image_size reads the first side)",
    "shotscope.model.loading.x_read_config_dict__mutmut_9": "equivalent: codec names are case-insensitive",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_9": "equivalent: integer positions divided by 12.0 are floats",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_11": "equivalent: as above",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_15": "equivalent: times given as whole numbers compare and "
    "subtract as floats do",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_17": "equivalent: as above",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_69": "equivalent: without pairs nothing is found, and that case "
    "returns before the quality is used",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_112": "equivalent: the first frame is always frame 0 and a shot "
    "that reaches here has two frames or more",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_123": "equivalent: as above",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_132": "equivalent: a shot that reaches here has a pair found, "
    "so its span is above 0",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_141": "equivalent: as above",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_143": "equivalent: as above",
    "shotscope.sources.geometry.x_pair_motion__mutmut_160": "equivalent: the median of no values is NaN, as given",
    "shotscope.sources.geometry.x_pair_motion__mutmut_167": "equivalent: float('NAN') is NaN",
    "shotscope.sources.geometry.x_pair_motion__mutmut_126": "equivalent: a motion exactly at the still limit has measure 0",
    "shotscope.sources.geometry.x_pair_motion__mutmut_60": "equivalent: a forward-backward error exactly 0.5 px has "
    "measure 0",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_255": "equivalent: a zoom of 0 never passes the zoom threshold "
    "above, so 'zoom >= 0' and 'zoom > 0' agree wherever they are asked",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_278": "equivalent: a softmax does not change when a constant is "
    "added to every logit (subtracting the largest only keeps exp in range, and the logits are clipped to 20)",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_311": "equivalent: always four labels and four probabilities",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_314": "equivalent: as above",
    "shotscope.sources.geometry.x_estimate_movement__mutmut_317": "equivalent: as above",
    "shotscope.sources.geometry.x__grid__mutmut_41": "equivalent: numpy reads a negative size as 'the rest', whichever",

    # analysis
    **{f"shotscope.analysis.film.xǁ_ShotLabellerǁ_label_batch__mutmut_{k}": "equivalent: zip's strict only guards; the "
       "model gives one row per clip and one probability per label of its own config" for k in
       (12, 16, 17, 27, 30, 31, 62, 65, 66)},
    "shotscope.analysis.film.xǁ_ShotLabellerǁ_label_batch__mutmut_8": "equivalent: the batch size changes no output "
    "(test_inference checks predictions batch by batch against one at a time)",
    "shotscope.analysis.film.x_analyze__mutmut_21": "equivalent: the decoder's threading changes no frame, only speed",
    "shotscope.analysis.film.x_analyze__mutmut_23": "equivalent: as above",

    # motion, after the decision moved into its own functions
    "shotscope.sources.geometry.x_classify_evidence__mutmut_25": "equivalent: a softmax does not change when a constant is "
    "added to every logit (the logits are clipped to 20, so exp stays in range either way)",
    **{f"shotscope.sources.geometry.x_classify_evidence__mutmut_{k}": "equivalent: zip's strict only guards; always four "
       "labels and four probabilities" for k in (36, 39, 40)},
    "shotscope.sources.geometry.x_decide_movement__mutmut_19": "equivalent: a zoom of 0 never passes a zoom threshold above 0, "
    "so 'zoom >= 0' and 'zoom > 0' agree wherever they are asked",
    "shotscope.sources.geometry.x__gray__mutmut_11": "equivalent: a frame already at the work width is not resized at all",
    "shotscope.sources.geometry.x_pair_motion__mutmut_11": "equivalent: OpenCV's default pyramid depth is 3, as given",
    "shotscope.sources.geometry.x_pair_motion__mutmut_13": "equivalent: as above",
    **{f"shotscope.sources.geometry.x_pair_motion__mutmut_{k}": "equivalent: numpy reads any negative size as 'the rest'"
       for k in (57, 69, 76)},
    "shotscope.sources.geometry.x_pair_motion__mutmut_90": "equivalent: no grid point lies exactly a quarter of the frame from "
    "the centre (the grid's spacing is not a divisor of it)",
    "shotscope.sources.geometry.x_pair_motion__mutmut_95": "equivalent: as above",
    "shotscope.sources.geometry.x_pair_motion__mutmut_99": "equivalent: half of an even min_points (12 by default) is the same "
    "number divided either way",
    "shotscope.sources.geometry.x_pair_motion__mutmut_141": "equivalent: the grid has no point within 1.4 px of the centre "
    "(an even number of points each way), so no squared radius is under 2",
    "shotscope.sources.geometry.x_pair_motion__mutmut_175": "equivalent: RANSAC is estimateAffinePartial2D's default method",
    "shotscope.sources.geometry.x_pair_motion__mutmut_180": "equivalent: with the at least 12 points kept above, a similarity "
    "is always found, so there are always inliers",
    "shotscope.sources.geometry.x_pair_motion__mutmut_185": "equivalent: as above",

    # video
    **{f"shotscope.video.decode.xǁPyAVBackendǁ_rewind__mutmut_{k}": "equivalent: a seek to time 0 (or before the first packet) lands on the first "
       "packet whatever the flags or the stream named: it is a keyframe, and nothing lies before it" for k in
       (2, 3, 4, 6, 7, 8, 14, 15, 16, 17)},
    **{f"shotscope.video.decode.xǁPyAVBackendǁ_seek__mutmut_{k}": "equivalent: PyAV's defaults (backward, keyframes only) written out, or a flag "
       "that reads as false: the check after the seek goes back until the first packet is not past the start"
       for k in (18, 19, 22, 23, 24, 25, 35, 38, 39)},
    "shotscope.video.decode.xǁPyAVBackendǁ_seek__mutmut_29": "equivalent: a packet time exactly 1e-6 s past the start has measure 0",
    "shotscope.video.decode.xǁPyAVBackendǁ_seek__mutmut_31": "equivalent: a tolerance of ~0 instead of 1e-6 s: a keyframe at the start compares "
    "equal either way, and one a hair past it makes the check go back a second, which decodes the same frames",
    "shotscope.video.decode.xǁPyAVBackendǁ_seek__mutmut_3": "equivalent: a start of exactly 1e-6 s decodes the same frames from either path",
    "shotscope.video.decode.xǁPyAVBackendǁ_seek__mutmut_11": "equivalent in output: a target earlier by twice the start time lands at an earlier "
    "keyframe, and the frames before the start are skipped",
    "shotscope.video.decode.xǁPyAVBackendǁframes__mutmut_26": "equivalent: a frame time exactly 1e-6 s before the start has measure 0",
    "shotscope.video.decode.xǁPyAVBackendǁframes__mutmut_32": "equivalent: as above, at the end",
    "shotscope.video.decode.xǁPyAVBackendǁ_first_packet_time__mutmut_1": "equivalent in output: another stream's packet time only makes the check "
    "go further back (or to the start), which decodes the same frames",
    "shotscope.video.decode.xǁPyAVBackendǁ_read_info__mutmut_53": "equivalent: a sample aspect ratio of 0 (unknown) is already excluded by 'sar and'; "
    "FFmpeg gives none below 0",
    "shotscope.video.decode.xǁPyAVBackendǁ_read_info__mutmut_70": "equivalent: with square pixels round(w * 1) is w",
    "shotscope.video.decode.xǁPyAVBackendǁ_read_info__mutmut_75": "equivalent: a picture under 3 px wide is not a film",
    "shotscope.video.decode.xǁPyAVBackendǁ_read_info__mutmut_11": "equivalent: FFmpeg gives every video stream a base rate, so some rate is always found",
    "shotscope.video.decode.xǁPyAVBackendǁ_read_info__mutmut_13": "equivalent: as above (the default rate is never used)",
    "shotscope.video.decode.xǁPyAVBackendǁ__init____mutmut_1": "equivalent in output: the decoder's thread count changes no frame, only speed",
    "shotscope.video.decode.x_default_thread_type__mutmut_6": "equivalent: an unknown core count (None) as 1 or as 2 "
    "gives the same answer (more than 2 is needed for frame threads)",

    # video: the fast path's own guards (the generic rule answers whenever it gives up)
    **{f"{V}_decode_wanted__mutmut_{k}": why for k, why in (
        (17, "equivalent in output: decoding every frame instead of skipping the unneeded gives the same frames"),
        (25, "equivalent in output: stopping at a damaged packet leaves frames undecoded, and frames_at then "
             "falls back to decoding every frame"),
        (27, "equivalent: the fast path runs only when every packet has a time, so no frame lacks one"),
        (8, "equivalent: leaving the generator by return or by break runs the same cleanup"),
        (33, "equivalent: frames_at sets each frame's index; the placeholder is never read"),
        (39, "equivalent: as above"), (40, "equivalent: as above"))},
    **{f"{V}_presentation_times__mutmut_{k}": why for k, why in (
        (16, "equivalent in output: stopping twice the start time later reads a few more packets, same times"),
        (23, "equivalent: a packet exactly 1e-6 s before the start has measure 0"),
        (27, "equivalent: as above, at the end"),
        (3, "equivalent in output: reading packet times from the film's start gives the same times in the range"),
        (7, "equivalent: an empty packet is the end-of-stream flush, after every frame"))},
    **{f"{V}frames_at__mutmut_{k}": why for k, why in (
        (23, "equivalent: a time plus 1e-6 s never equals a frame time, so either side of searchsorted agrees"),
        (32, "equivalent: searchsorted's result minus one is never past the last frame"),
        (37, "equivalent: as above"),
        (42, "equivalent in output: decoding the wanted frames from the film's start gives the same frames"),
        (52, "equivalent: FFmpeg's decoders honour skip_frame, so this fallback (a decoder that ignored it) "
             "is a guard no file reaches"),
        (57, "equivalent: from the start, the first frame shown is at 0 s, whose index is 0 either way"),
        (60, "equivalent: a start of exactly 1e-6 s has measure 0"))},
    **{f"shotscope.video.decode.xǁVideoBackendǁframes_at__mutmut_{k}": why for k, why in (
        (14, "equivalent: a time exactly 1e-6 s before a frame has measure 0"),
        (8, "equivalent: frames(0) and frames(None) both decode from the first frame"),
        (9, "equivalent: as above"))},
    f"{V}_first_packet_time__mutmut_2": "equivalent in output: a packet without a time (only raw streams have "
    "them, and those cannot seek) taken as 'none left' accepts the seek, which then fails over to the start",
    **{f"{V}_probe_rotation__mutmut_{k}": "equivalent: every decoded frame has a rotation attribute" for k in
       (8, 11, 14)},
    **{f"{V}to_rgb__mutmut_{k}": "equivalent: PyAV keeps the height when only the width changes, and the display "
       "size changes only the width (non-square pixels)" for k in (48, 51)},
    f"{V}to_rgb__mutmut_65": "equivalent: numpy's rot90 takes 3.0 as 3",

    # modeling
    "shotscope.model.modeling.xǁShotScopeModelǁfrom_pretrained__mutmut_4": "equivalent: transformers hands positional "
    "arguments to the model's __init__, which takes nothing beyond its config, so there are none to pass on",
    "shotscope.model.modeling.xǁShotScopeModelǁrestore_extras__mutmut_10": "equivalent: a folder that is not there sends "
    "the lookup through cached_file, which finds the same files in a local folder",

    "shotscope.analysis.film.xǁ_ModelWorkerǁ__init____mutmut_6": "equivalent: None and False both read as 'not stopping'",
    # analysis: sizes no film has
    "shotscope.analysis.film.x_analyze__mutmut_41": "equivalent: a picture wider than 256 px is scaled to 256 px wide "
    "for cut detection, so its width is never under 2",
    "shotscope.analysis.film.x_analyze__mutmut_48": "equivalent for films: only a picture over 170 times as wide as "
    "tall scales to a height under 1.5 px",
    "shotscope.analysis.film.x_analyze__mutmut_83": "equivalent for films: a reference size 0.05 % larger keeps one "
    "frame more only for picture sizes within 0.05 % of a boundary",
    "shotscope.analysis.film.x_analyze__mutmut_84": "equivalent for films: as above",
    # motion: the tracker's tuning (no rule a test can state on generated pictures; measured on real shots)
    **{f"shotscope.sources.geometry.x_pair_motion__mutmut_{k}": "tuning: the Lucas-Kanade window and pyramid depth; a "
       "slightly other window tracks the same generated motions (the effect is measured on real shots in "
       "docs/benchmarks.md)" for k in (10, 12, 15, 16, 29, 39)},
    **{f"shotscope.sources.geometry.x_pair_motion__mutmut_{k}": "tuning: which points are trackable (the minimum-eigenvalue "
       "test); generated pictures are textured enough either way" for k in (21, 27)},
    "shotscope.sources.geometry.x_pair_motion__mutmut_61": "tuning: the forward-backward tolerance (0.5 px); generated "
    "motions track back within either",
    **{f"shotscope.sources.geometry.x_pair_motion__mutmut_{k}": "tuning: a minimum count of points, moved by one (or a third instead of a half); no "
       "generated picture lands exactly on it" for k in (62, 98, 100, 163, 164)},
    "shotscope.sources.geometry.x_pair_motion__mutmut_171": "tuning: the outlier-robust fit (RANSAC) only decides which "
    "points count as outliers of a fit that the generated motions match exactly",
    **{f"shotscope.model.modeling.xǁShotScopeModelǁrestore_extras__mutmut_{k}": "equivalent: transformers reads None as "
       "False for these flags (tried: a file the cache lacks is 'none' either way)" for k in (16, 17)},
    "shotscope.runs.batch.x_write_film_folder__mutmut_36": "equivalent here: the temporary folder is the run's own and "
    "removes without error; ignore_errors only matters if removing fails, which root (CI) cannot be made to see",
    **{f"shotscope.analysis.film.x_analyze__mutmut_{k}": "equivalent: `last` is read only after a frame has set it (without frames the error comes "
       "first)" for k in (112, 113)},
    "shotscope.analysis.film.x_analyze__mutmut_114": "equivalent: start_index is set by the first frame before it is read (without frames the error "
    "comes first)",
    "shotscope.analysis.film.x_analyze__mutmut_143": "equivalent: with leave=None tqdm leaves a bar only at position 0; this one is at 1",
    "shotscope.analysis.film.x_analyze__mutmut_155": "equivalent for films: only a film of one frame would show a bar of two",
    **{f"shotscope.analysis.film.x_analyze__mutmut_{k}": "equivalent: a picture 256 px wide or less is resized to its own size, which leaves it "
       "unchanged" for k in (189, 196)},
    **{f"shotscope.analysis.film.x_analyze__mutmut_{k}": "equivalent: bilinear is cv2.resize's default interpolation" for k in (192, 195)},
    "shotscope.analysis.film.x_analyze__mutmut_203": "equivalent: how far decoding runs ahead (memory and speed), not what it decodes",
    "shotscope.analysis.film.x_analyze__mutmut_231": "equivalent: a range from 0 always holds the film's first frame, so that message is never made "
    "with a start of 0",
    **{f"{V}_problem__mutmut_{k}": "equivalent in what users read: the warning's text, category and count are "
       "tested; stacklevel only picks the source line it is reported against, which mutmut's trampolines shift, "
       "so no test of it can run here" for k in (16, 17)},
    "shotscope.runs.batch.x_analyze_many__mutmut_36": "equivalent: tqdm puts the first bar at position 0 when none is given",
    "shotscope.runs.batch.x_analyze_many__mutmut_49": "equivalent: refresh=None reads as False",
    "shotscope.runs.batch.x_analyze_many__mutmut_52": "not worth a test (display): one more character of a film name "
    "over 30 characters in the bar",
    "shotscope.runs.batch.x_analyze_many__mutmut_53": "equivalent in what is shown: the bar is drawn again at once instead of at its next tick",
    # training
    f"{T}x__training_args__mutmut_19": "equivalent: transformers sets greater_is_better from the metric's name "
    "(True for one not ending in 'loss')",
    f"{T}x__training_args__mutmut_44": "equivalent: without it transformers sets greater_is_better from the "
    "metric's name, True here",
    f"{T}x__training_args__mutmut_25": "equivalent: the Trainer reads remove_unused_columns only as a truth value "
    "(None keeps every column, as False)",
    f"{T}x__training_args__mutmut_51": "equivalent: transformers' own default reports to nothing (report_to 'none')",
    f"{T}x_balance_classes__mutmut_3": "equivalent: None and False both read as 'no sampler'",
    f"{T}x_compute_metrics_fn__mutmut_20": "equivalent: logits are (clips, classes), so axis 1 is axis -1",
    f"{T}x_compute_metrics_fn__mutmut_23": "equivalent: as above",
    f"{T}x_format_log__mutmut_2": "equivalent: the values it formats (loss, learning rate, grad norm) are floats; an int "
    "under 10,000 reads the same either way",
    f"{T}x_format_log__mutmut_52": "equivalent: float() reads 'NAN' as nan",
    **{f"{T}x_format_log__mutmut_{k}": "equivalent: only keys in the table are formatted, so its fallback is never "
       "used" for k in (68, 69, 70)},
    f"{T}x_inverse_frequency__mutmut_2": "equivalent: numpy's default dtype is float64, as float",
    **{f"{T}x_last_complete_checkpoint__mutmut_{k}": "equivalent here: the partial checkpoint is a folder the run "
       "wrote itself and removes without error; ignore_errors only matters if removing fails, which root (CI) cannot "
       "be made to see" for k in (27, 29, 30)},
    f"{T}xǁBalancedSamplerǁ__init____mutmut_6": "equivalent: the weights are float64, which as_tensor keeps as double",
    f"{T}xǁBalancedSamplerǁ__init____mutmut_8": "equivalent: as above",
    f"{T}xǁBalancedSamplerǁ__iter____mutmut_3": "equivalent: another mix of seed and epoch gives other draws, as "
    "fixed by (seed, epoch) and as different between epochs (tested)",
    f"{T}xǁBalancedSamplerǁ__iter____mutmut_5": "equivalent: as above",
    f"{T}xǁCSVLoggerǁon_log__mutmut_12": "equivalent on POSIX: the csv module's line ends are written as they are "
    "either way (newline='' matters on Windows)",
    f"{T}xǁCSVLoggerǁon_log__mutmut_14": "equivalent on POSIX: as above",
    f"{T}xǁReadableLogǁon_log__mutmut_18": "equivalent: logging formats a message only when it has arguments, so a "
    "line with a % sign reads the same",
    f"{T}xǁShotScopeTrainerǁ__init____mutmut_1": "equivalent: the trainer is only made with keyword arguments",
    f"{T}xǁShotScopeTrainerǁ_get_train_sampler__mutmut_2": "equivalent: the Trainer passes its own training set, "
    "which the base method also falls back to",
    f"{T}xǁShotScopeTrainerǁ_get_train_sampler__mutmut_3": "equivalent: as above",
    f"{T}xǁShotScopeTrainerǁcreate_optimizer__mutmut_4": "equivalent: the Trainer calls create_optimizer without "
    "arguments",
    f"{T}xǁShotScopeTrainerǁcreate_optimizer__mutmut_5": "equivalent: as above",
    f"{T}xǁShotScopeTrainerǁcreate_optimizer__mutmut_34": "equivalent: every bias is one-dimensional, so the "
    "test of ndim already puts it without weight decay",
    f"{T}xǁShotScopeTrainerǁcreate_optimizer__mutmut_35": "equivalent: as above",
    f"{T}xǁShotScopeTrainerǁcreate_optimizer__mutmut_59": "equivalent: every group has its own learning rate, so "
    "the optimizer's default is never used",
    "shotscope.sources.fusion.x_fit_fusion__mutmut_51": "equivalent: any negative placeholder is 'not scored' (held_out >= 0)",
    **{f"shotscope.analysis.film.x_analyze__mutmut_{k}": "equivalent: to_rgb reads display=None as False (`if not "
       "display`)" for k in (176,)},
    **{f"shotscope.analysis.film.x_analyze__mutmut_{k}": "equivalent: this message is only ever made for a range; for a "
       "whole film the decoder itself raises when no frame decodes (test_decoding), so the empty `where` is never used"
       for k in (224, 226, 229)},
    "shotscope.analysis.film.x_analyze__mutmut_293": "equivalent: every transformers model has name_or_path, so the "
    "default is never used",
    **{f"shotscope.runs.batch.x_analyze_many__mutmut_{k}": "open (needs a Ray cluster to join): without an address run_on_ray starts a local "
       "cluster, which is what the tests give it ('local'); a test joining an address would need a second cluster"
       for k in (26, 30)},
    "shotscope.runs.batch.x_analyze_many__mutmut_41": "equivalent: the archive's bar is made before any other, so tqdm places it at 0 anyway",
    "shotscope.runs.batch.x_analyze_many__mutmut_51": "not worth a test: the film's name is drawn at once instead of at the bar's next update (the same "
    "line, one redraw more)",
    "shotscope.runs.batch.x_analyze_many__mutmut_82": "open: a film's failures from shotscope name the film themselves (so no prefix is added either way); "
    "only an unexpected exception type would show 'None:' for the film",
    **{f"shotscope.model.modeling.xǁShotScopeModelǁrestore_extras__mutmut_{k}": "open (needs a network): only an HTTP "
       "error from the hub reaches the connection-error flag; offline, a file neither cached nor recorded missing "
       "raises only when both flags are set (see the note above)" for k in (22, 26)},
    "shotscope.sources.fusion.x_fit_fusion__mutmut_69": "open: the generated clips are scored alike by any split of "
    "them, so no test on them can tell the folds' seed; it is what makes the printed figure the same run to run",
    "shotscope.sources.fusion.xǁMovementFusionǁfit__mutmut_27": "tuning: on standardised features the fit converges within "
    "scikit-learn's default 100 iterations in every test; 2000 is headroom for harder data",
    "shotscope.analysis.film.x_check_integrity__mutmut_27": "equivalent: with nothing expected, the decoded length (never "
    "negative) cannot fall below a negative bound",
    "shotscope.analysis.film.x__positions__mutmut_16": "equivalent: sample_times' last position is (n - 1 + v/(v+1)) * k/n, "
    "under k, so its floor is at most k - 1 and the cap (a guard against rounding) never binds",
    "shotscope.analysis.film.x__views_for__mutmut_10": "equivalent: int() of a positive number drops its fraction as // does",
    "shotscope.analysis.film.xǁread_aheadǁ__init____mutmut_5": "equivalent: None and False both read as not finished",
    "shotscope.analysis.film.xǁread_aheadǁ_run__mutmut_4": "equivalent: return and break both leave the loop without its "
    "else, and the finally runs either way",
    "shotscope.analysis.film.xǁread_aheadǁ_put__mutmut_6": "tuning: how soon a stopped reader notices (0.1 s or 1.1 s); "
    "no item or error changes",
    "shotscope.analysis.film.xǁ_ShotLabellerǁadd__mutmut_58": "equivalent for films: only a picture over 100 times as wide "
    "as tall scales to a thumbnail under 1.5 px high",
    **{f"{V}_packets__mutmut_{k}": "open (needs a failing disk): only a read error mid-file reaches this line; "
       "FFmpeg's demuxers step over damaged data instead of failing (tried: AVI, NUT, Matroska and MPEG-TS with "
       "overwritten frames, chunk sizes and block headers)" for k in (6, 7)},
    f"{V}_read_info__mutmut_4": "open: every container tried gives an average rate (a raw stream takes its "
    "guessed rate on the next line); only one without it and with a guessed rate unlike its base rate would tell",
    f"{V}_read_info__mutmut_123": "not worth a test: the placeholder's spelling for a pixel format FFmpeg cannot "
    "name (it is only written into provenance)",
    "shotscope.video.decode.xǁPyAVBackendǁ_read_info__mutmut_36": "equivalent on the files FFmpeg writes: where a stream counts "
    "its frames, its average rate is that count over its duration, so the estimate is the same number (checked on "
    "the real variable-frame-rate file too)",
}


NOTES = """
## Bugs found on the way (outcome tests and mutants)

- **A resumed training did not end where an uninterrupted one ends.** Augmentations drew from a
  per-process counter and the process id, and the balanced sampler from a generator created anew
  on every start: a resumed run (and any run with loader workers) saw other clips than an
  uninterrupted one. Both now depend on (seed, clip, epoch) only, set at each epoch; a test kills
  a run after its first checkpoint, resumes it, and compares every weight with the uninterrupted
  run's (equal), and checks that only the remaining steps ran.
- **A movement combiner fitted on two classes doubled its logit** (a softmax of +z and -z): its
  probabilities were sharper than scikit-learn's. It now gives scikit-learn's own; tests compare
  fit and combine with scikit-learn directly.
- **A hub model's extras came from the wrong cache.** `from_pretrained("owner/name",
  cache_dir=...)` (or with a token or subfolder) read the weights from where it was told and the
  preprocessing settings and movement combiner from the default cache: found by the mutants of
  `restore_extras` that no test killed. The extras now come from the same cache and revision;
  tests build a Hugging Face cache with two revisions and load from it offline.
- **MPEG-TS films lost frames.** Found by the mutants of the stream start time (`- t0` -> `+ t0`)
  that no test killed: every test file started at time 0. A `.ts` file (broadcast captures,
  camera files) starts late, and its demuxer seeks by decoding times: a seek to the stream's start
  time, or to a keyframe's time, landed past that keyframe, so decoding from the start gave no
  frame at all, and a range gave frames from the next keyframe on (or none). Seeks now go back
  until the first packet is not past the start, and rewinding goes to the first packet; tests
  decode a `.ts` film whole, by ranges and by times. A raw H.264 stream (no times, no seeking)
  could not be opened at all; it now opens, decodes from its start, and its frames are timed by
  the frame rate.
- **Class-balanced drawing crashed on partly labelled data.** `train.balance_*: sampler` looked up
  each clip's class weight with its label id, and a clip without that label (id -100, as
  MovieShots clips without a movement label are) indexed past the table: IndexError before the
  first step. Found while splitting `train` into its parts (`make_datasets`, `balance_classes`)
  so that the mutants of its wiring are killed by fast tests; unlabelled clips now weigh 1.
- **TransNetV2 on a range gave wrong shots.** Its cuts were positions counted from the first frame
  it was given, not the film's frame numbers: `analyze --start 1.5 --detector transnetv2` dropped
  the first cut and put the others a range's start too early. Found while testing the times a shot
  gets when a cut falls on a frame that was never decoded (it cannot: that fallback went); a test
  now analyses a range starting late with TransNetV2.
- **shots.json said the wrong range and frame count for every film with a cut.** analyze took the
  range's start (metadata `range.start`) and the decoded frame count (`integrity.decoded_frames`)
  from the current shot's first frame after the last cut, not from the first frame decoded: a film
  analysed whole said its range started at its last shot, and counted only that shot's frames.
  Found by the mutants of the integrity call that survived every test (none checked those two
  figures with a cut in the film); a test now analyses a range with a cut and checks both.
- The model worker's abort emptied its queue by hand and also set a flag that made the worker
  skip what it took: the flag alone does it (the loop went); what remained untested of the worker
  (a bounded queue that holds the producer, the batches dropped after a failure) now is.
- A preprocessor config whose `size` is not an object failed on `size.get` before its own check
  could name the problem (the check is now first); the similarity fit's scale in the motion
  estimate was computed and never used (removed); the CSV writer's empty-string fallbacks were
  redundant (the csv module writes None as empty; removed); the class-weight docstring said
  "mean 1" where the weights are scikit-learn's balanced ones (corrected, and tested against them).
- (Found by the browser test beside this work: a film page's data carried NaN for missing labels,
  which is not JSON; the page's script stopped.)

## How to read the scores

- Each module has a test file that pins its behaviour piece by piece and fast (test_writers,
  test_inference, test_loading, test_batch, test_trainer_parts, test_analysis_parts,
  test_decoding; the exact-geometry tests in test_motion): a group runs those, with the
  end-to-end file where the module's top-level function needs one. A score is a lower bound: a
  mutant another file would catch counts as survived.
- mutmut forks a worker per mutant. Forked from the process that had run the tests (torch, PyAV
  and scikit-learn threads), workers crashed (SIGSEGV) whatever the mutant, and mutmut counts a
  crash as a kill: a first run scored fusion 97 %, of which most were such crashes. Workers now
  fork from a clean server (`process_isolation = "forkserver"`). A mutant is stopped as a hang
  after 6x its tests' CPU time + 12 s (CPU time: a second group running beside, or a pause, does
  not count). mutmut's budget leaves out module-scoped fixtures, though: in batch, 123 mutants
  whose tests had to generate and analyse their films again were stopped without being hangs.
  So mutants stopped at the CPU limit are not counted either way (their own column).
- "judged equivalent" means no test can tell the mutant from the code (a default written out, a
  branch another branch already handles, a value that cannot occur, a speed-only setting), each
  with its reason below. Everything else that survives is listed as open.
- motion's decision is its own functions (`decide_movement`, `movement_scores` with named score
  units, `classify_evidence`), tested with exact evidence at and just past every threshold; its
  remaining survivors are the tracker's tuning (Lucas-Kanade window, the forward-backward and RANSAC
  tolerances, corner minimums), marked "tuning": changing one by a little changes no rule a test can
  state on generated pictures; their effect is measured on real shots (docs/benchmarks.md). They
  are not counted as equivalent.
- Two survivors cannot be told apart without a network: how a connection error from the Hugging
  Face hub is answered (`_raise_exceptions_for_connection_errors` in `restore_extras`). Offline, a
  file neither cached nor recorded missing raises only when both flags are true, so each
  single-flag mutant loads the same; online, an HTTP error would make a model fail to load. They
  are listed as open, not as equivalent. The missing-entries flag is tested: a pinned commit whose
  extras the cache records as missing (the hub's own `.no_exist` marker) loads with its defaults.
- Runs are long (motion and analysis: hours on two cores), so a group can be continued and its
  survivors re-tested after tests are added: `--resume` continues a stopped run in its scratch
  copy (mutmut keeps each tested mutant's result; changed functions get new mutants; changed tests
  make it trace again which tests reach what), `--survivors` re-tests only the survivors, and
  `--only PATTERN...` narrows that to the mutants a new test aims at. On a new checkout (no scratch
  copy), `--survivors` re-tests the survivors recorded in docs/mutation-results.json in a fresh
  copy and merges the verdicts into the recorded counts (the module must be unchanged since the
  recorded run: mutmut numbers mutants by their place in a function).
- Each mutant's tests run fastest first (tools/mutation_order.py, a pytest plugin fed mutmut's
  own durations): with `-x`, a killed mutant costs the time to its first failing test.
- `--lean N` leaves out a group's slowest tests while mutants are tested (`LEAN` in
  tools/mutation.py; for analysis, level 1: the TransNetV2 end-to-end test, 20 s of the ~50 s an
  `analyze` mutant's tests take; level 2: the whole end-to-end file, leaving the fast tests of
  the parts). mutmut's own trace of which tests reach what still runs every test. The survivors
  of a lean pass are then re-tested with more tests (`--survivors --lean 1`, then `--survivors`):
  a kill needs no more than one failing test, so no verdict rests on a lean pass alone.
- A group whose run was stopped (the session ended) is recorded with the mutants it tested
  (`--collect`), and says so in the table.
- analysis: run in full again after the range fix in `analyze` (which renumbered its mutants),
  every mutant with every test of its group, fastest first. The tests added for it this time check
  what `analyze` returns as a whole (the film's facts, the metadata, the integrity of a whole film
  and of a range with a cut), cuts that a detector reports only at the end, the stride of a range's
  kept frames, the film bar's count, the stored picture a small-frame detector sees, and the
  parts: the integrity figures, read_ahead's thread (moved here from test_speed.py), the model
  worker draining after a failure, and the thumbnails.
- training: its survivors were re-tested after the tests of the backbone, MovieShots splits,
  skip_bad, the trainer's arguments, the step bar, layer decay and the sampler in a real run were
  added; the rest are judged (transformers' defaults written out, POSIX line ends, the Trainer's
  calling conventions).
- batch: test_ray.py is now in the group, so the Ray branch of `analyze_many` (the arguments to
  `run_on_ray`) is tested by it; its survivors were re-tested with it. `BatchResult.interrupted`
  was dead code (set only while a Ctrl-C was already leaving `analyze_many`, which then returns
  nothing, and read by nothing): it went with its two survivors, which were removed from the
  recorded results by hand (mutmut numbers the mutants after them anew; none of those survived).
- The time column adds up the runs recorded for the group: its last full run and the `--resume` and
  `--survivors` passes written after it (passes run with `--no-write` are not added).
"""


def write_doc(done: dict) -> None:
    lines = ["# Testing", "",
             "`make test` runs ruff and the whole suite (unit, property-based with hypothesis, end to end,",
             "faults, Ray, the web app in a real browser). `make mutation` runs mutation testing (mutmut) on the",
             "core modules: one small deliberate bug at a time, then the tests that reach it; a mutant the",
             "tests let through (survived) is a bug the suite would miss.", "",
             "Command: `.venv/bin/python tools/mutation.py [GROUP ...]` (`make mutation` runs every group);",
             "results: `docs/mutation-results.json`. Scores count killed mutants among killed + survived;",
             "mutants stopped at the CPU limit and mutants no selected test reaches are not counted either way.", "",
             "| module | mutants | killed | survived (judged equivalent) | stopped at the CPU limit | score | without the equivalent | tests run | time |",
             "|---|---|---|---|---|---|---|---|---|"]
    total_k = total_s = 0
    for group in GROUPS:
        if group not in done:
            lines.append(f"| {', '.join(GROUPS[group][0])} | not run yet | | | | | | {', '.join(GROUPS[group][1])} | |")
            continue
        r = done[group]
        c = r["counts"]
        killed = c.get("killed", 0) + c.get("segfault", 0)
        survived = c.get("survived", 0)
        total_k, total_s = total_k + killed, total_s + survived
        s = score(c)
        equivalent = sum(JUDGED.get(name, "").startswith("equivalent") for name in r["survivors"])
        net = killed / (killed + survived - equivalent) if killed + survived - equivalent else None
        unchecked = c.get("not checked", 0)
        mutants = f"{sum(c.values())}" + (f" ({sum(c.values()) - unchecked} tested: run stopped)" if unchecked else "")
        took = "-" if r.get("seconds") is None else f"{r['seconds']} s"
        lines.append(f"| {', '.join(r['modules'])} | {mutants} | {killed} | {survived} ({equivalent}) | {c.get('timeout', 0)} | "
                     f"**{'-' if s is None else f'{100 * s:.0f} %'}** | {'-' if net is None else f'{100 * net:.0f} %'} | "
                     f"{', '.join(r['tests'])} | {took} |")
    if total_k + total_s:
        lines += ["", f"All groups run: **{100 * total_k / (total_k + total_s):.0f} %** killed "
                      f"({total_k} of {total_k + total_s})."]
    lines += NOTES.splitlines()
    lines += ["", "## Surviving mutants", ""]
    for group in GROUPS:
        if group not in done or not done[group]["survivors"]:
            continue
        lines.append(f"### {', '.join(done[group]['modules'])}")
        lines.append("")
        for name, diff in sorted(done[group]["survivors"].items()):
            reason = JUDGED.get(name, "open: no test catches it yet")
            lines += [f"- `{name}`: {reason}", "", "  ```diff", *[f"  {d}" for d in diff.splitlines()], "  ```", ""]
    DOC.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("groups", nargs="*", default=list(GROUPS), help=f"of: {', '.join(GROUPS)}")
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--collect", action="store_true",
                        help="record what the groups' last runs tested so far, without running (a run stopped midway)")
    parser.add_argument("--resume", action="store_true",
                        help="continue each group's last run in its scratch copy (tested mutants keep their results)")
    parser.add_argument("--survivors", action="store_true",
                        help="re-test only the mutants that survived each group's last run (after adding tests)")
    parser.add_argument("--lean", type=int, nargs="?", const=1, default=0, metavar="LEVEL",
                        help="leave out each group's slowest tests (LEAN, level 1 or 2) while mutants are tested; "
                             "then re-test the survivors with more (--survivors --lean 1, then --survivors)")
    parser.add_argument("--also", nargs="*", default=[], metavar="PATTERN",
                        help="with --survivors and no scratch copy: also re-test these mutants (fnmatch patterns), "
                             "recorded as reached by no test")
    parser.add_argument("--only", nargs="*", default=[], metavar="PATTERN",
                        help="with --survivors: re-test only the survivors matching these (fnmatch patterns)")
    args = parser.parse_args()
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s): {', '.join(sorted(unknown))}")
    done = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for group in args.groups:
        print(f"mutation: {group} ...", flush=True)
        before = done.get(group, {}).get("seconds") or 0
        result = collect(group) if args.collect else run_group(group, args.children, args.resume, args.survivors,
                                                                      args.lean, args.also, args.only)
        result.pop("status", None)  # each mutant's state: the survivors are what docs/ keeps
        if args.collect:  # nothing ran: the time of the runs recorded
            result["seconds"] = before or None
        elif args.resume or args.survivors:
            result["seconds"] += before  # the time of the runs it continues
        (ROOT / "build" / "mutation" / group / "result.json").write_text(json.dumps(result, indent=1) + "\n")
        # groups may run in parallel (one process each): merge with what the others wrote meanwhile
        done = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        done[group] = result
        s = score(result["counts"])
        print(f"  {result['counts']} -> {'-' if s is None else f'{100 * s:.0f} %'} in {result['seconds']} s",
              flush=True)
        if not result["ok"]:
            print(result["log_tail"], flush=True)
        if not args.no_write:
            RESULTS.write_text(json.dumps(done, indent=1, sort_keys=True) + "\n")
            write_doc(done)
    print(json.dumps({g: done[g]["counts"] for g in done}, indent=1))


if __name__ == "__main__":
    main()
