"""What the probability timeline within each shot costs analyze: the same films with the timeline
off (``--timeline 0``) and at its default (a point every 0.5 s), no model, best of 3: movement from
geometry alone, and with the scale from people too (the offline default), whose timeline reads the
people of one frame a window.

Run: .venv/bin/python benchmarks/timeline.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _common import best_of, machine, write_section
from shotscope import AnalyzeSettings, analyze
from shotscope.data.synthetic import make_film

REAL = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real-video"
SHOTS = [("LS", "Static", 72), ("MS", "Push", 96), ("CS", "Static", 48), ("FS", "Motion", 120), ("LS", "Pull", 84)] * 3


def measure(film: Path, scale: str = "none") -> tuple[float, float, int, float]:
    def run(step: float):
        return analyze(film, None, settings=AnalyzeSettings(movement="geometry", scale=scale, timeline=step,
                                                            timeline_people=scale == "people"), progress=False)

    off, _ = best_of(lambda: run(0.0), 3)
    on, result = best_of(lambda: run(0.5), 3)
    points = sum(len((s.timeline or {}).get("times", [])) for s in result.shots)
    return off, on, points, result.duration


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        generated = Path(tmp) / "generated-1080p.mp4"
        make_film(generated, SHOTS, width=1920, height=1080, fps=24)
        films = [(REAL / "testvideo.mp4", "real, 1280x720, nature shots with fades"),
                 (REAL / "issue-195-aspect-ratio.mp4", "real, 704x576 (16:9), documentary"),
                 (generated, "generated, 1920x1080, 15 shots")]
        for film, what in films:
            if not film.exists():
                continue
            for scale, sources in (("none", "geometry"), ("people", "geometry + people")):
                off, on, points, duration = measure(film, scale)
                rows.append(f"| {film.name} ({what}) | {sources} | {duration:.1f} | {off:.2f} | {on:.2f} | "
                            f"{100 * (on - off) / off:+.0f} % | {1000 * (on - off) / max(points, 1):.1f} |")
    body = f"""Command: `.venv/bin/python benchmarks/timeline.py` ({machine()})

`analyze` with movement from geometry and no model (where the timeline weighs most: with a network
the clips dominate), the timeline off (`--timeline 0`) against its default (a point every 0.5 s,
geometry reading three frames a window; with `--scale people --timeline-people`, the people of each
window's middle frame too), best of 3.

| film | timeline of | seconds of film | timeline off (s) | every 0.5 s (s) | extra | ms a point |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

With `--timeline-network` each point is also a clip for the network: as many clips as half-seconds
of film (a 90-minute film: 10,800 clips, against one to three a shot without it), which at
VideoMAE-base's speed is for a GPU (see "GPU" above), not for this CPU.
"""
    write_section("Probability timeline within shots: what it costs", body)
    print(body)


if __name__ == "__main__":
    main()
