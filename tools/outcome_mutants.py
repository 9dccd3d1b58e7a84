"""Outcome mutants: hand-written changes that each break one thing a user would notice, run
against the tests of its module. `make mutation` runs them (slow, not part of CI); the score is
the share killed, written to docs/testing.md.

mutmut's operators change any token (a `+` to a `-`, a string to "XX"); many of its mutants
change nothing a user sees (equivalent) or are killed by any test that runs the line, so its score
says how much of the code the tests execute with some check after it, not whether a user's
outcome is pinned. Each mutant here names the outcome it breaks; a survivor is a behaviour no test
holds. Each runs in a scratch copy of the tree (build/outcome-mutants), never in the working tree.

Run: .venv/bin/python tools/outcome_mutants.py [NAME-GLOB ...] [--no-write]
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "outcome-mutants"
DOC = ROOT / "docs" / "testing.md"


@dataclass(frozen=True)
class Mutant:
    name: str
    outcome: str  # what a user would notice
    file: str  # under src/shotscope
    old: str
    new: str
    tests: tuple[str, ...]  # test files (or node ids) that should notice


M = Mutant
MUTANTS = [
    # search filters
    M("search-min-duration-exclusive", "a shot exactly --min-duration long is left out", "archive/queries.py",
      '("s.duration >= ?", min_duration)', '("s.duration > ?", min_duration)', ("test_user_outcomes.py", "test_archive.py")),
    M("search-max-duration-inverted", "--max-duration returns the longer shots", "archive/queries.py",
      '("s.duration <= ?", max_duration)', '("s.duration >= ?", max_duration)', ("test_user_outcomes.py", "test_archive.py")),
    M("search-max-duration-exclusive", "a shot exactly --max-duration long is left out", "archive/queries.py",
      '("s.duration <= ?", max_duration)', '("s.duration < ?", max_duration)', ("test_user_outcomes.py", "test_archive.py")),
    M("search-confidence-either", "--min-confidence passes a shot when either label is confident", "archive/queries.py",
      "MIN(COALESCE(s.scale_prob, 1), COALESCE(s.movement_prob, 1)) >= ?",
      "MAX(COALESCE(s.scale_prob, 0), COALESCE(s.movement_prob, 0)) >= ?", ("test_user_outcomes.py", "test_archive.py")),
    M("search-confidence-missing-label", "a shot without a scale fails --min-confidence", "archive/queries.py",
      "MIN(COALESCE(s.scale_prob, 1), COALESCE(s.movement_prob, 1)) >= ?",
      "MIN(COALESCE(s.scale_prob, 0), COALESCE(s.movement_prob, 0)) >= ?", ("test_user_outcomes.py", "test_archive.py")),
    M("search-corrected-inverted", "--corrected yes returns the shots nobody corrected", "archive/queries.py",
      'where.append(("" if corrected else "NOT ")', 'where.append(("NOT " if corrected else "")',
      ("test_user_outcomes.py", "test_archive.py")),
    # timelines
    M("supercut-rate-not-rescaled", "a supercut of a 23.5 fps film cuts at the wrong frames", "outputs/timelines.py",
      "otio.opentime.RationalTime(frame if rate == fps else round(frame / fps * rate), rate)",
      "otio.opentime.RationalTime(frame, rate)", ("test_user_outcomes.py", "test_writers.py")),
    M("supercut-rate-truncated", "frames at other rates truncated, not rounded", "outputs/timelines.py",
      "round(frame / fps * rate)", "int(frame / fps * rate)", ("test_user_outcomes.py", "test_writers.py")),
    M("supercut-relative-link", "a supercut links its films relative to wherever it was made", "outputs/timelines.py",
      "target_url=Path(path).absolute().as_uri()", "target_url=str(path)", ("test_hostile.py", "test_writers.py")),
    # web
    M("web-unknown-thumbnail-kind", "an unknown thumbnail kind is not refused", "web/app.py",
      '        if which not in KINDS:\n            raise HTTPException(404, "a thumbnail is first, middle or last")\n', "",
      ("test_user_outcomes.py", "test_web.py")),
    M("web-host-any", "a page of another site reaches the server through DNS rebinding", "web/app.py",
      "        if host not in allowed:", "        if False:", ("test_hostile.py",)),
    M("web-origin-any", "another site's page may write corrections", "web/app.py",
      "            why = cross_origin(request)", '            why = ""', ("test_hostile.py",)),
    M("web-serves-any-file", "the web app serves a file that is not the film analysed", "archive/videos.py",
      "        archive.checked_videos[key] = _check_video(path, st, film)", '        archive.checked_videos[key] = ""',
      ("test_hostile.py", "test_web.py")),
    # reuse
    M("reuse-same-size-film", "a film replaced by another of the same size is reused", "provenance.py",
      'for key, what in (("size", "size"), ("sha256_edges", "content")):', 'for key, what in (("size", "size"),):',
      ("test_user_outcomes.py", "test_faults.py", "test_batch.py")),
    M("reuse-new-combiner", "a new movement combiner or preprocessing beside the same weights is reused", "provenance.py",
      '        return "the model\'s preprocessing or movement combiner changed"', "        return None",
      ("test_user_outcomes.py", "test_faults.py", "test_batch.py")),
    M("reuse-other-version", "results of another shotscope version are reused", "provenance.py",
      '    if stored.get("shotscope_version") != current["shotscope_version"]:', "    if False:",
      ("test_user_outcomes.py", "test_faults.py", "test_batch.py")),
    # labels
    M("analyze-built-in-scale-order", "analyze names scale labels by the built-in order, not the model's config",
      "sources/network.py", '"scale": Estimate("scale", "model", named(s, cfg.scale_labels, "scale"))',
      '"scale": Estimate("scale", "model", named(s, list(SCALE_LABELS), "scale"))',
      ("test_user_outcomes.py", "test_outcomes.py", "test_analysis_parts.py")),
    M("label-order-not-mapped", "predict and evaluate read a model whose labels are in another order wrongly",
      "sources/network.py", "        out[:, order.index(name)] = probs[:, j]", "        out[:, j] = probs[:, j]",
      ("test_hostile.py", "test_evaluation.py", "test_user_outcomes.py")),
    # Ray
    M("ray-wrapper-error", "a film's error on Ray is recorded as the Ray wrapper's, not its cause", "runs/distributed.py",
      "describe_failure(exc.cause or exc, job.film)", "describe_failure(exc, job.film)", ("test_ray.py",)),
    # pictures
    M("last-picture-is-first", 'the "last" picture of a shot is its first frame', "analysis/labelling.py",
      "small(self.thumb(items[0])), small(self.thumb(items[-1]))", "small(self.thumb(items[0])), small(self.thumb(items[0]))",
      ("test_user_outcomes.py", "test_analysis_parts.py", "test_writers.py")),
    # cuts and sampling
    M("cuts-truncated", "--cuts times are truncated to frames instead of rounded", "video/cuts.py",
      "self._cuts = sorted({round(t * fps) for t in self._starts if t > 0})",
      "self._cuts = sorted({int(t * fps) for t in self._starts if t > 0})", ("test_user_outcomes.py", "test_video.py")),
    M("sampling-views-unsorted", "several views per clip sampled as if their times were in order", "video/sampling.py",
      '    order = np.argsort(flat, kind="stable")', "    order = np.arange(flat.size)",
      ("test_user_outcomes.py", "test_video.py", "test_properties.py")),
    # archive
    M("correction-was-read-outside", "racing corrections record the wrong label they replaced", "archive/corrections.py",
      '        db.execute("BEGIN IMMEDIATE")\n        found =', "        found =", ("test_hostile.py",)),
    M("read-only-writes", "serve --read-only switches the database to WAL (writes)", "archive/database.py",
      "        return connect(self.path, self.read_only)", "        return connect(self.path, False)", ("test_hostile.py",)),
    # people
    M("people-bands-reversed", "scale from people reads close-ups as long shots", "sources/people.py",
      "shares = dict(zip(reversed(SCALE_LABELS), np.diff(cdf).tolist(), strict=True))",
      "shares = dict(zip(SCALE_LABELS, np.diff(cdf).tolist(), strict=True))", ("test_people.py",)),
]


def run(mutant: Mutant) -> tuple[bool, float, str]:
    """(killed, seconds, note) for one mutant, in a scratch copy of the tree."""
    target = WORK / mutant.name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(".venv", "build", ".git", "*.egg-info", "__pycache__",
                                                                   ".pytest_cache", ".ruff_cache", "mutants"))
    source = target / "src" / "shotscope" / mutant.file
    text = source.read_text()
    if text.count(mutant.old) != 1:
        return False, 0.0, f"the text to change is not found once in {mutant.file} ({text.count(mutant.old)} times)"
    source.write_text(text.replace(mutant.old, mutant.new))
    env = {**os.environ, "PYTHONPATH": str(target / "src"), "HF_HUB_OFFLINE": "1"}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                           *(f"tests/{t}" for t in mutant.tests)], cwd=target, env=env, capture_output=True, text=True)
    shutil.rmtree(target, ignore_errors=True)
    return done.returncode != 0, time.perf_counter() - t0, ""


def write_doc(results: list[tuple[Mutant, bool, float, str]]) -> None:
    killed = sum(k for _, k, _, n in results if not n)
    valid = sum(1 for *_, n in results if not n)
    rows = "\n".join(f"| {m.name} | {m.outcome} | `{m.file}` | {'killed' if k else (n or '**survived**')} | "
                     f"{', '.join(m.tests)} | {s:.0f} s |" for m, k, s, n in results)
    section = f"""## Outcome mutants (`make mutation`)

Command: `.venv/bin/python tools/outcome_mutants.py` (tools/outcome_mutants.py lists each mutant: the
outcome it breaks, the file and the exact change). **{killed} of {valid} killed ({100 * killed / max(valid, 1):.0f} %).**

| mutant | what a user would notice | file | result | tests run | time |
|---|---|---|---|---|---|
{rows}
"""
    text = DOC.read_text() if DOC.exists() else "# Testing\n"
    marker = "## Outcome mutants (`make mutation`)"
    if marker in text:
        head, rest = text.split(marker, 1)
        tail = rest.split("\n## ", 1)
        text = head + section + ("\n## " + tail[1] if len(tail) > 1 else "")
    else:
        first = text.find("\n## ")
        text = (text[:first] + "\n\n" + section + text[first:]) if first >= 0 else text.rstrip() + "\n\n" + section
    DOC.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutants to run (globs; default: all)")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/testing.md")
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if not args.names or any(fnmatch.fnmatch(m.name, g) for g in args.names)]
    results = []
    for mutant in chosen:
        killed, seconds, note = run(mutant)
        results.append((mutant, killed, seconds, note))
        print(f"{'KILLED ' if killed else ('SURVIVED' if not note else 'INVALID ')} {mutant.name} ({seconds:.0f} s) {note}",
              flush=True)
    if not args.no_write and not args.names:
        write_doc(results)
    return 0 if all(k or n for _, k, _, n in results) else 1


if __name__ == "__main__":
    sys.exit(main())
