"""Inputs for the network that look like film without being anyone's footage: the photographs
scikit-learn ships, under slow camera moves. NNCF calibrates ``openvino-int8`` on them, and the
precision probe compares each variant's answers with float32's on them (random pixels would
exercise a trained network far from where it works)."""

from __future__ import annotations

from typing import Any

import numpy as np


def photograph_clips(model: Any, n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` inputs of the model's shape ((1, T, 3, S, S) float32, normalised as the model's own
    preprocessing does) made of the photographs scikit-learn ships under slow camera moves (a pan
    or a zoom over a random part): real pictures' statistics, no data of the user's."""
    import cv2
    from sklearn.datasets import load_sample_images

    from .preprocessing import PreprocessConfig, preprocess

    cfg = getattr(model, "preprocess_config", None) or PreprocessConfig(image_size=model.image_size)
    photos = list(load_sample_images().images)
    rng = np.random.default_rng(seed)
    side, frames = model.image_size, model.num_frames
    clips = []
    for k in range(n):
        photo = photos[k % len(photos)]
        h, w = photo.shape[:2]
        crop = rng.uniform(0.45, 0.9) * min(h, w)
        x0, y0 = rng.uniform(0, w - crop), rng.uniform(0, h - crop)
        (dx, dy), zoom = rng.uniform(-0.15, 0.15, 2) * crop, rng.uniform(-0.15, 0.15)
        video = []
        for t in np.linspace(0, 1, frames):
            c = crop * (1 - zoom * t)
            cx, cy = x0 + crop / 2 + dx * t, y0 + crop / 2 + dy * t
            m = np.array([[side / c, 0, side / 2 - cx * side / c], [0, side / c, side / 2 - cy * side / c]])
            video.append(cv2.warpAffine(photo, m, (side, side), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT))
        clips.append(preprocess(np.stack(video), cfg)[None].numpy().astype(np.float32))
    return clips
