"""Camera movement on generated camera moves: geometry vs a tiny trained model vs the fused combiner.

Clips use other settings than the unit tests (larger frames, 24 fps, other speeds and zooms).
The tiny model is trained on one synthetic set; the combiner is fitted on a second (validation)
set; all three are scored on a third (test) set.

Run: .venv/bin/python benchmarks/motion.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, recall_score

from _common import calibration_error, machine, reliability, write_section
from shotscope import load_model
from shotscope.data import read_manifest
from shotscope.data.records import ClipRecord
from shotscope.data.synthetic import SynthSettings, generate, generate_hard, split_manifest
from shotscope.labels import MOVEMENT_LABELS
from shotscope.training.evaluation import predict_records
from shotscope.training.fusion import fit_fusion
from shotscope.training.trainer import TINY_CONFIG, train

TEST = SynthSettings(width=320, height=180, frames=20, fps=24, pan_speed=(0.006, 0.016), zoom_total=(1.15, 1.5),
                     jitter=0.4, subject_speed=(0.008, 0.02))


REAL_DEV = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "real-shots-dev"


def real_dev_records(tmp: Path) -> list:
    """The hand-labelled real shots (cut from their source by the dataset's own script)."""
    import csv
    import subprocess
    import sys

    from shotscope.data.records import ClipRecord

    subprocess.run([sys.executable, str(REAL_DEV / "make_clips.py"), str(tmp / "real")], check=True,
                   capture_output=True)
    rows = list(csv.DictReader((tmp / "real" / "manifest.csv").open()))
    return [ClipRecord(str(tmp / "real" / r["path"]), movement=MOVEMENT_LABELS.index(r["movement"])) for r in rows]


def score(name: str, y: np.ndarray, pred: np.ndarray) -> str:
    from sklearn.metrics import confusion_matrix

    present = sorted(set(y.tolist()))
    per_class = recall_score(y, pred, labels=range(4), average=None, zero_division=0)
    answered = [k for k in (2, 3) if (pred == k).any()]
    zoom_right = sum(int(((pred == k) & (y == k)).sum()) for k in answered)
    zoom_said = sum(int((pred == k).sum()) for k in answered)
    cm = confusion_matrix(y, pred, labels=range(4)).tolist()
    return (f"| {name} | {100 * (y == pred).mean():.1f} | {f1_score(y, pred, labels=present, average='macro'):.3f} | "
            + " | ".join("-" if not (y == k).any() else f"{100 * v:.0f}" for k, v in enumerate(per_class))
            + f" | {zoom_right}/{zoom_said} | {cm} |")


def calibration(estimates: list, y: np.ndarray, groups: list[str]) -> str:
    """Whether the geometry's probabilities say how often it is right, on the real shots: its
    temperature fitted (negative log-likelihood) leaving out one group at a time (a source, or a
    stretch of the development set), each group's probabilities from the fit without it."""
    from scipy.optimize import minimize_scalar

    from shotscope.sources.geometry import TEMPERATURE

    # log-probabilities before the temperature (up to a constant per shot)
    logp = np.log(np.clip([[e.probabilities[k] for k in MOVEMENT_LABELS] for e in estimates], 1e-12, 1.0))
    logp *= TEMPERATURE
    groups = np.array(groups)

    def probs(t: float, idx: np.ndarray) -> np.ndarray:
        z = logp[idx] / t
        z = np.exp(z - z.max(1, keepdims=True))
        return z / z.sum(1, keepdims=True)

    def fit(idx: np.ndarray) -> float:
        nll = lambda t: -np.log(probs(t, idx)[np.arange(len(idx)), y[idx]] + 1e-12).mean()  # noqa: E731
        return float(minimize_scalar(nll, bounds=(0.5, 20), method="bounded").x)

    every = np.arange(len(y))
    right = (logp.argmax(1) == y).astype(float)
    held_out, temps = np.zeros(len(y)), []
    for g in dict.fromkeys(groups):
        t = fit(every[groups != g])
        temps.append(t)
        held_out[groups == g] = probs(t, every[groups == g]).max(1)
    image = Path(__file__).resolve().parents[1] / "docs" / "images" / "movement-reliability.png"
    ece = reliability(held_out, right, image, "movement from geometry, held out")
    dev = np.char.startswith(groups, "development")
    parts = ", ".join(f"{name} {calibration_error(held_out[m], right[m]):.2f} (before: "
                      f"{calibration_error(probs(1.0, every[m]).max(1), right[m]):.2f})"
                      for name, m in (("development set", dev), ("other real shots", ~dev)))
    return f"""Probabilities of the geometry on the {len(y)} real shots above: before a temperature they were
over-confident (mean {probs(1.0, every).max(1).mean():.2f} for {right.mean():.2f} right; expected calibration error
**{calibration_error(probs(1.0, every).max(1), right):.2f}**, 5 bins). The temperature (the scores divided by it
before their softmax) fitted leaving out one of {len(set(groups))} groups at a time (each other source; the
development set in four stretches of the video) came out {min(temps):.2f}-{max(temps):.2f}, {fit(every):.2f} on all
(shotscope uses {TEMPERATURE}); on the shots each fit left out the expected calibration error is
**{ece:.2f}** ({parts}; mean probability {held_out.mean():.2f}); diagram:
`docs/images/movement-reliability.png`.
"""


def main() -> None:
    from shotscope.data.synthetic import generate_confounded
    from shotscope.video.sampling import sample_frames

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train_settings = SynthSettings(width=128, height=72, frames=16, fps=24)
        manifest = generate(tmp / "train", 320, settings=train_settings, seed=1, progress=False)
        train_csv, val_csv = split_manifest(manifest, 0.25)
        best = train(TINY_CONFIG, [f"output_dir={tmp / 'run'}", f"data.train={train_csv}", f"data.val={val_csv}",
                                   "train.epochs=12", "train.progress=false"])
        model = load_model(best, precision="fp32")
        fusion, _ = fit_fusion(model, read_manifest(val_csv)[0], progress=False)
        model.movement_fusion = fusion
        from real_footage import other_set

        other_rows = [r for r in other_set(tmp) if r["movement"] in MOVEMENT_LABELS]
        other = [ClipRecord(r["path"], movement=MOVEMENT_LABELS.index(r["movement"])) for r in other_rows]
        dev = real_dev_records(tmp)
        # folds for the calibration: four stretches of the music video (in time order), each other source
        real_groups = [f"development set, stretch {k * 4 // len(dev) + 1}" for k in range(len(dev))] + \
            [r["source"] for r in other_rows]
        real_estimates, real_y = [], []
        sets = {
            "real development set (58 hand-labelled shots, 160x90)": dev,
            f"other real shots ({len(other)}, benchmarks/data/real_shots.csv; never used to set anything)": other,
            "generated hard camera work (42 clips: slow and shaky zooms, tracking, handheld, approach; "
            "160x90, 640x360, 1920x1080)": read_manifest(
                generate_hard(tmp / "hard", 2, sizes=((160, 90), (640, 360), (1920, 1080)), seed=5, progress=False))[0],
            "generated (200 clips, 320x180)": read_manifest(generate(tmp / "test", 200, settings=TEST, seed=7,
                                                                     progress=False))[0],
            "generated with confounders (80 clips, half 160x90)": read_manifest(
                generate_confounded(tmp / "conf", 80, seed=3, progress=False))[0],
        }
        for title, records in sets.items():
            preds = predict_records(model, records, progress=False, movement="model", geometry=True)
            y = np.array([r.movement for r in preds.records])
            geometry = np.array([MOVEMENT_LABELS.index(e.label) for e in preds.estimates])
            fused = np.array([fusion.combine(p, e).argmax() for p, e in
                              zip(preds.network_movement_probs, preds.estimates, strict=True)])
            if title.startswith(("real development set", "other real shots")):
                real_estimates += preds.estimates
                real_y += y.tolist()
            rows.append(f"| **{title}** | | | | | | | | |")
            rows.append(score("geometry", y, geometry))
            rows.append(score("network (tiny, synthetic-trained demo model)", y, preds.network_movement_probs.argmax(-1)))
            rows.append(score("fused (combiner fitted on synthetic validation clips)", y, fused))
        # the old estimate (corners + one similarity fit) is recorded in the git history; its figure was 0.48
        del sample_frames
    calibrated = calibration(real_estimates, np.array(real_y), real_groups)
    body = f"""Command: `.venv/bin/python benchmarks/motion.py` ({machine()})

Geometry reads 16 frames per clip at short side 180, as analyze reads them per shot. The network
is the demo's kind of tiny model, trained on synthetic clips; the combiner is fitted on separate
synthetic validation clips; none of them saw any of the clips scored here. Per-class columns are
recall (%, "-" where the class is absent); "Push/Pull right" counts the Push and Pull answers that
were right; the confusion matrix rows are the true Static, Motion, Pull, Push.

| movement from | accuracy | macro-F1 (classes present) | Static | Motion | Pull | Push | Push/Pull right | confusion |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Before the border-based estimate, geometry scored 1.00 on the generated clips but 0.48 accuracy on
the real development set. The estimate tells the camera from the subjects by the frame's border
(see `shotscope.sources.geometry`) and, since 2026-12, sees zooms too slow to show between two
samples from the first frame to the last (a pixel of border motion, more than the drift). Goals on
real footage not tuned on: accuracy >= 0.80, Static and Motion F1 >= 0.75, Push/Pull answers right
at least half the time; generated clean moves >= 0.97, the hard cases >= 0.85 macro-F1. The
development set is small and from one music video (Push 2, Pull 1); the other real shots are
nearly all Static, so they say little about moves; both show failure modes more than they prove
the thresholds, which were set from the geometry (a quarter of the border still, half a source
pixel, a pixel of slow zoom), not fitted shot by shot.
"""
    write_section("Camera movement: geometry, model, fused", body + "\n" + calibrated)
    print(body)


if __name__ == "__main__":
    main()
