"""Labelled synthetic clips made from photographs that installed packages ship.

Movement: a virtual camera over a still — Static (tiny jitter, a subject moving inside
the frame), Motion (pan / tilt / track), Push (zoom in), Pull (zoom out). Scale: a
subject (a person from scikit-image's ``astronaut``) composited over another photograph
at graded sizes, from an eye filling the frame (ECS) to a small figure in a wide view (LS).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ..errors import DataError
from ..files import atomic_write_text
from ..labels import MOVEMENT_LABELS, SCALE_LABELS
from ..video.decode import write_video
from .manifest import write_manifest
from .records import ClipRecord

# Visible subject height as a multiple of the frame height, per scale class, and the point
# of the subject (fraction of its height from the top) kept at the frame's focus.
SCALE_SUBJECT = {"ECS": (11.0, 0.2), "CS": (4.0, 0.25), "MS": (1.7, 0.42), "FS": (0.85, 0.5), "LS": (0.25, 0.5)}


def _skimage_data():
    try:
        from skimage import data
    except ImportError:
        raise DataError('synthetic clips need scikit-image: pip install "shotscope[synth]"') from None
    return data


def photographs() -> list[np.ndarray]:
    """RGB backgrounds shipped by scikit-image and scikit-learn (no network); not the subject."""
    data = _skimage_data()

    photos = [data.coffee(), data.chelsea(), data.rocket(), data.immunohistochemistry()]
    try:
        from sklearn.datasets import load_sample_images

        photos += list(load_sample_images().images)
    except Exception:  # pragma: no cover - sklearn without its sample images
        pass
    return [np.ascontiguousarray(p[..., :3]) for p in photos]


def subject_sprite() -> tuple[np.ndarray, np.ndarray]:
    """A person (astronaut) and a soft mask around her, for compositing."""
    data = _skimage_data()

    person = data.astronaut()
    h, w = person.shape[:2]
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (w // 2 - 20, h // 2 + 40), (int(w * 0.36), int(h * 0.6)), 0, 0, 360, 1.0, -1)
    return person, cv2.GaussianBlur(mask, (31, 31), 0)


@dataclass
class SynthSettings:
    """How clips are made; benchmarks use other values than the unit tests."""

    width: int = 160
    height: int = 96
    frames: int = 16
    fps: float = 12.0
    pan_speed: tuple[float, float] = (0.008, 0.02)  # frame widths per frame
    zoom_total: tuple[float, float] = (1.25, 1.6)  # zoom factor from first to last frame
    jitter: float = 0.3  # pixels, static shots
    subject_speed: tuple[float, float] = (0.01, 0.025)  # frame widths per frame, subject in static shots


def compose_scene(background: np.ndarray, scale: str | None, out_h: int, out_w: int,
                  rng: np.random.Generator, margin: float = 2.0) -> np.ndarray:
    """A scene image (margin x the output size) with the subject at the size of ``scale``."""
    sh, sw = int(out_h * margin), int(out_w * margin)
    scene = cv2.resize(background, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float32)
    if scale is None:
        return scene.astype(np.uint8)
    person, mask = subject_sprite()
    rel, focus = SCALE_SUBJECT[scale]
    rel *= rng.uniform(0.9, 1.1)
    ph = max(4, int(rel * out_h))
    pw = max(4, int(ph * person.shape[1] / person.shape[0]))
    p = cv2.resize(person, (pw, ph), interpolation=cv2.INTER_AREA if ph < person.shape[0] else cv2.INTER_LINEAR)
    m = cv2.resize(mask, (pw, ph))[..., None]
    cy = sh // 2 + int(rng.uniform(-0.1, 0.1) * out_h)
    cx = sw // 2 + int(rng.uniform(-0.15, 0.15) * out_w)
    top, left = cy - int(focus * ph), cx - pw // 2
    # paste with clipping
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + ph, sh), min(left + pw, sw)
    if y1 > y0 and x1 > x0:
        ps, ms = p[y0 - top : y1 - top, x0 - left : x1 - left], m[y0 - top : y1 - top, x0 - left : x1 - left]
        scene[y0:y1, x0:x1] = scene[y0:y1, x0:x1] * (1 - ms) + ps * ms
    return scene.astype(np.uint8)


def camera_move(scene: np.ndarray, movement: str, settings: SynthSettings, rng: np.random.Generator,
                moving_subject: bool | None = None, direction: float | None = None) -> np.ndarray:
    """Frames (T, H, W, 3) of a virtual camera over ``scene`` making ``movement``.

    ``direction`` (radians) fixes the pan/tilt direction of Motion: 0 pans right, pi/2 tilts down.
    """
    s = settings
    n, h, w = s.frames, s.height, s.width
    sh, sw = scene.shape[:2]
    base = min(sh / h, sw / w) / 1.6  # scene pixels per output pixel at zoom 1, leaving room to move
    cx, cy = sw / 2, sh / 2
    zoom = np.ones(n)
    shift = np.zeros((n, 2))
    if movement == "Motion":
        angle = rng.uniform(0, 2 * np.pi) if direction is None else direction
        speed = rng.uniform(*s.pan_speed) * w
        shift = np.outer(np.arange(n) - (n - 1) / 2, [np.cos(angle), np.sin(angle)]) * speed
    elif movement in ("Push", "Pull"):
        total = rng.uniform(*s.zoom_total)
        zoom = total ** (np.arange(n) / (n - 1))
        if movement == "Pull":
            zoom = zoom[::-1]
    elif movement == "Static":
        shift = rng.normal(0, s.jitter, (n, 2))
    else:
        raise ValueError(f"unknown movement {movement!r}")
    frames = []
    subject_on = movement == "Static" if moving_subject is None else moving_subject
    start = np.array([rng.uniform(0.2, 0.4) * w, rng.uniform(0.3, 0.7) * h])
    vel = rng.uniform(*s.subject_speed) * w * np.array([1.0, rng.uniform(-0.3, 0.3)])
    colour = tuple(int(c) for c in rng.integers(30, 225, 3))
    for t in range(n):
        k = base / zoom[t]  # scene px per output px
        # output (x, y) -> scene (k*x + ox, k*y + oy), centred on (cx, cy) plus the shift
        ox = cx + shift[t, 0] * base - k * w / 2
        oy = cy + shift[t, 1] * base - k * h / 2
        m = np.array([[k, 0, ox], [0, k, oy]], np.float64)
        frame = cv2.warpAffine(scene, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REFLECT)
        if subject_on:
            p = start + vel * t
            cv2.circle(frame, (int(p[0]), int(p[1])), max(3, h // 8), colour, -1, lineType=cv2.LINE_AA)
        frames.append(frame)
    return np.stack(frames)


def generate(out: str | os.PathLike, n: int = 400, *, seed: int = 0, settings: SynthSettings | None = None,
             progress: bool | None = None) -> Path:
    """Write ``n`` labelled clips (balanced over both tasks) and ``manifest.csv`` under ``out``.

    Returns the manifest path. Clips already present are kept, so an interrupted run resumes.
    """
    out = Path(out)
    settings = settings or SynthSettings()
    clips_dir = out / "clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    photos = photographs()
    records = []
    for i in tqdm(range(n), desc="synth", unit="clip", disable=None if progress is None else not progress):
        scale = SCALE_LABELS[i % len(SCALE_LABELS)]
        movement = MOVEMENT_LABELS[(i // len(SCALE_LABELS)) % len(MOVEMENT_LABELS)]
        clip_rng = np.random.default_rng([seed, i])
        path = clips_dir / f"clip_{i:05d}_{scale}_{movement}.mp4"
        if not path.is_file():
            bg = photos[int(clip_rng.integers(len(photos)))]
            if clip_rng.random() < 0.5:
                bg = bg[:, ::-1]
            scene = compose_scene(bg, scale, settings.height, settings.width, clip_rng)
            write_video(path, camera_move(scene, movement, settings, clip_rng), fps=settings.fps)
        records.append(ClipRecord(str(path), SCALE_LABELS.index(scale), MOVEMENT_LABELS.index(movement)))
    rng.shuffle(records)
    manifest = write_manifest(out / "manifest.csv", records)
    atomic_write_text(out / "synth.json", json.dumps({"n": n, "seed": seed, **asdict(settings)}, indent=2))
    return manifest


def split_manifest(manifest: str | os.PathLike, val_fraction: float = 0.2, seed: int = 0) -> tuple[Path, Path]:
    """Split a manifest into ``train.csv`` and ``val.csv`` beside it (stratified by both labels)."""
    from .manifest import read_manifest

    manifest = Path(manifest)
    records, _ = read_manifest(manifest)
    groups: dict[tuple[int, int], list[ClipRecord]] = {}
    for r in records:
        groups.setdefault((r.scale, r.movement), []).append(r)
    if len(records) < 2:
        raise DataError(f"{manifest}: {len(records)} clip(s); a train/val split needs at least 2")
    rng = np.random.default_rng(seed)
    train, val, singles = [], [], []
    for key in sorted(groups):
        items = groups[key]
        rng.shuffle(items)
        if len(items) == 1:
            singles += items
            continue
        k = max(1, round(len(items) * val_fraction))
        val += items[:k]
        train += items[k:]
    # label combinations seen once: spread over both splits at the asked share, neither left empty
    rng.shuffle(singles)
    want_val = round(len(records) * val_fraction) - len(val)
    k = min(max(want_val, 1 if not val else 0), len(singles) - (0 if train else 1))
    val += singles[:max(k, 0)]
    train += singles[max(k, 0):]
    return write_manifest(manifest.parent / "train.csv", train), write_manifest(manifest.parent / "val.csv", val)


def make_film(path: str | os.PathLike, shots: list[tuple[str, str, int]], *, width: int = 320, height: int = 180,
              fps: float = 24.0, seed: int = 0) -> list[int]:
    """A film of hard-cut synthetic shots ``(scale, movement, frames)``; returns the first frame of
    each shot. Shots are rendered one at a time, so long films need little memory."""
    photos = photographs()
    starts = list(np.cumsum([0] + [n for *_, n in shots])[:-1].tolist())

    def frames():
        for i, (scale, movement, n) in enumerate(shots):
            rng = np.random.default_rng([seed, i])
            settings = SynthSettings(width=width, height=height, frames=n, fps=fps)
            scene = compose_scene(photos[i % len(photos)], scale, height, width, rng)
            yield from camera_move(scene, movement, settings, rng)

    write_video(path, frames(), fps=fps)
    return starts


def confounded_move(scene: np.ndarray, movement: str, settings: SynthSettings, rng: np.random.Generator,
                    kind: str) -> np.ndarray:
    """Camera moves with what makes real footage hard (for tests and benchmarks):

    - ``approach``: a fixed camera while a large subject walks toward it (grows to a third of the
      frame) -- still Static;
    - ``large``: a fixed camera and a subject covering about 40 % of the frame moving across -- Static;
    - ``parallax``: a pan with a foreground layer (pillars) sliding twice as fast, and motion
      blur along the pan -- Motion;
    - ``slow``: slow pans (0.15-0.3 % of the width per frame) and slow zooms (1.08-1.15x) -- Motion,
      Push, Pull.
    """
    s = settings
    if kind == "slow":
        slow = SynthSettings(**{**asdict(s), "pan_speed": (0.0015, 0.003), "zoom_total": (1.08, 1.15)})
        return camera_move(scene, movement, slow, rng, moving_subject=False)
    frames = camera_move(scene, movement, s, rng, moving_subject=False).astype(np.float32)
    n, h, w = len(frames), s.height, s.width
    colour = np.array([int(c) for c in rng.integers(30, 225, 3)], np.float32)
    if kind in ("approach", "large"):
        start_x = rng.uniform(0.3, 0.7) * w
        for t in range(n):
            grow = t / max(n - 1, 1)
            if kind == "approach":
                radius, cx = h * (0.12 + 0.22 * grow), start_x
            else:
                radius, cx = h * 0.36, start_x + (grow - 0.5) * 0.25 * w
            mask = np.zeros((h, w), np.float32)
            cv2.ellipse(mask, (int(cx), int(h * 0.55)), (int(radius * 0.7), int(radius * 1.3)), 0, 0, 360, 1.0, -1)
            texture = colour + 40 * np.sin(np.arange(w)[None, :] / 3.0 + t)[..., None]
            frames[t] = frames[t] * (1 - mask[..., None]) + texture * mask[..., None]
    elif kind == "parallax":
        spacing = w / 4
        offset = rng.uniform(0, spacing)
        speed = rng.uniform(*s.pan_speed) * w * 2  # the near layer slides faster than the background
        for t in range(n):
            for k in range(6):
                x = int((offset + k * spacing - t * speed) % (w + spacing) - spacing / 2)
                frames[t, :, max(x, 0) : max(x + int(w * 0.06), 0)] = colour * 0.6
            ksize = max(3, int(speed) | 1)
            frames[t] = cv2.blur(frames[t], (ksize, 1))  # motion blur along the pan
    else:
        raise ValueError(f"unknown confounder {kind!r}")
    return np.clip(frames, 0, 255).astype(np.uint8)


CONFOUNDERS = {"Static": ("approach", "large"), "Motion": ("parallax", "slow"), "Push": ("slow",), "Pull": ("slow",)}

# the hard cases of real camera work, each with the label it has (MovieShots: handheld is Motion)
HARD_CASES = (("slow-zoom", "Push"), ("slow-zoom", "Pull"), ("shaky-zoom", "Push"), ("shaky-zoom", "Pull"),
              ("tracking", "Motion"), ("handheld", "Motion"), ("approach", "Static"))


def _render(scene: np.ndarray, w: int, h: int, zoom: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """A virtual camera over ``scene``: per frame its zoom and its shift (output pixels)."""
    sh, sw = scene.shape[:2]
    base = min(sh / h, sw / w) / 1.6
    frames = []
    for z, (dx, dy) in zip(zoom, shift, strict=True):
        k = base / z
        m = np.array([[k, 0, sw / 2 + dx * base - k * w / 2], [0, k, sh / 2 + dy * base - k * h / 2]], np.float64)
        frames.append(cv2.warpAffine(scene, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                     borderMode=cv2.BORDER_REFLECT))
    return np.stack(frames)


def hard_move(scene: np.ndarray, kind: str, movement: str, width: int, height: int, fps: float, seconds: float,
              rng: np.random.Generator) -> np.ndarray:
    """Camera work real footage has and simple generators miss (benchmarks and tests):

    - ``slow-zoom``: a zoom of 0.3-1 % a second (Push, or Pull reversed);
    - ``shaky-zoom``: a zoom of 15-40 % over the shot under handheld shake (a random walk);
    - ``tracking``: the camera follows a fast subject, kept in the middle of the frame: the
      background streams past (1-3 % of the width a frame) -- Motion;
    - ``handheld``: a camera held by hand, no move intended (a random walk of the frame) -- Motion;
    - ``approach``: a fixed camera while a large subject walks toward it -- Static.
    Shakes are in proportion to the frame's width, as a hand shakes a camera whatever it records."""
    n, w, h = int(round(fps * seconds)), width, height
    zoom, shift = np.ones(n), np.zeros((n, 2))

    def shake(amplitude: float) -> np.ndarray:
        walk = np.cumsum(rng.normal(0, amplitude * w / 160, (n, 2)), 0)
        return walk - walk.mean(0)

    if kind in ("slow-zoom", "shaky-zoom"):
        total = (1 + rng.uniform(0.003, 0.01)) ** seconds if kind == "slow-zoom" else rng.uniform(1.15, 1.4)
        zoom = total ** (np.arange(n) / max(n - 1, 1))
        zoom = zoom[::-1] if movement == "Pull" else zoom
        shift = shake(0.6) if kind == "shaky-zoom" else shift
    elif kind == "tracking":
        angle = rng.uniform(-0.3, 0.3)
        shift = np.outer(np.arange(n) - n / 2, [np.cos(angle), np.sin(angle)]) * rng.uniform(0.01, 0.03) * w
    elif kind == "handheld":
        shift = shake(0.3)
    elif kind == "approach":
        return confounded_move(scene, "Static", SynthSettings(width=w, height=h, frames=n, fps=fps), rng, "approach")
    else:
        raise ValueError(f"unknown hard case {kind!r}")
    frames = _render(scene, w, h, zoom, shift)
    if kind == "tracking":  # the subject the camera follows stays where it is in the frame
        for frame in frames:
            cv2.ellipse(frame, (w // 2, int(h * 0.55)), (int(h * 0.12), int(h * 0.3)), 0, 0, 360, (40, 40, 200), -1)
    return frames


def generate_hard(out: str | os.PathLike, per_case: int = 3, *, sizes: tuple[tuple[int, int], ...] = ((160, 90), (640, 360)),
                  fps: float = 24.0, seconds: float = 4.0, seed: int = 0, progress: bool | None = None) -> Path:
    """``per_case`` clips of each of :data:`HARD_CASES` at each size; returns their manifest."""
    out = Path(out)
    photos = photographs()
    records = []
    jobs = [(w, h, kind, movement, k) for w, h in sizes for kind, movement in HARD_CASES for k in range(per_case)]
    for w, h, kind, movement, k in tqdm(jobs, desc="synth", unit="clip", disable=None if progress is None else not progress):
        rng = np.random.default_rng([seed, k, w, HARD_CASES.index((kind, movement))])
        path = out / "clips" / f"hard_{w}x{h}_{kind}_{movement}_{k}.mp4"
        if not path.is_file():
            scene = compose_scene(photos[int(rng.integers(len(photos)))], None, h * 2, w * 2, rng)
            write_video(path, hard_move(scene, kind, movement, w, h, fps, seconds, rng), fps=fps)
        records.append(ClipRecord(str(path), movement=MOVEMENT_LABELS.index(movement), key=f"{kind} {w}x{h}"))
    return write_manifest(out / "manifest.csv", records)


def generate_confounded(out: str | os.PathLike, n: int = 80, *, seed: int = 0, settings: SynthSettings | None = None,
                        progress: bool | None = None) -> Path:
    """``n`` clips of the four movements with real footage's confounders (:func:`confounded_move`);
    returns their manifest. Half at 160x90, like low-resolution archive copies."""
    out = Path(out)
    base = settings or SynthSettings(width=320, height=180, frames=20, fps=24)
    photos = photographs()
    records = []
    for i in tqdm(range(n), desc="synth", unit="clip", disable=None if progress is None else not progress):
        movement = MOVEMENT_LABELS[i % len(MOVEMENT_LABELS)]
        rng = np.random.default_rng([seed, i, 7])
        kinds = CONFOUNDERS[movement]
        kind = kinds[(i // len(MOVEMENT_LABELS)) % len(kinds)]
        small = i % 2 == 1
        s = SynthSettings(**{**asdict(base), "width": 160 if small else base.width, "height": 90 if small else base.height})
        path = out / "clips" / f"conf_{i:04d}_{movement}_{kind}.mp4"
        if not path.is_file():
            scene = compose_scene(photos[int(rng.integers(len(photos)))], None, s.height, s.width, rng)
            write_video(path, confounded_move(scene, movement, s, rng, kind), fps=s.fps)
        records.append(ClipRecord(str(path), movement=MOVEMENT_LABELS.index(movement), key=kind))
    return write_manifest(out / "manifest.csv", records)
