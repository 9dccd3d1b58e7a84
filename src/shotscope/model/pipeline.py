"""A transformers pipeline for shotscope models: ``pipeline("shot-classification", model=...)``.

Registered when :mod:`shotscope.model.modeling` is imported (``import shotscope`` then any model name,
or ``from shotscope.model.pipeline import ShotClassificationPipeline``). Input: a video path, or a dict
``{"video": path, "start": seconds, "end": seconds}``; output: both labels with their
probabilities, and the top-k of each task.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from transformers import AutoModel, Pipeline
from transformers.pipelines import PIPELINE_REGISTRY

TASK = "shot-classification"


class ShotClassificationPipeline(Pipeline):
    """Scale and camera movement of one shot (a clip, or a time range of a film)."""

    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False
    _load_tokenizer = False

    def _sanitize_parameters(self, start: float | None = None, end: float | None = None, views: int | None = None,
                             top_k: int | None = None, **kwargs: Any):
        pre = {k: v for k, v in (("start", start), ("end", end), ("views", views)) if v is not None}
        post = {"top_k": top_k} if top_k is not None else {}
        return pre, {}, post

    def preprocess(self, inputs: str | os.PathLike | dict, start: float | None = None, end: float | None = None,
                   views: int = 1) -> dict[str, Any]:
        from ..video.sampling import sample_frames
        from .preprocessing import PreprocessConfig, preprocess

        if isinstance(inputs, dict):
            start, end = inputs.get("start", start), inputs.get("end", end)
            inputs = inputs["video"]
        clip = sample_frames(inputs, self.model.num_frames, start, end, views=views)
        cfg = self.model.preprocess_config or PreprocessConfig(image_size=self.model.image_size)
        return {"pixel_values": preprocess(clip.frames, cfg), "video": str(inputs), "start": clip.start,
                "end": clip.end}

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        out = self.model(model_inputs["pixel_values"].to(self.device, dtype=next(self.model.parameters()).dtype))
        return {"scale": out.scale_logits.float().softmax(-1).mean(0).cpu().numpy(),
                "movement": out.movement_logits.float().softmax(-1).mean(0).cpu().numpy(),
                **{k: model_inputs[k] for k in ("video", "start", "end")}}

    def postprocess(self, model_outputs: dict[str, Any], top_k: int = 1) -> dict[str, Any]:
        cfg = self.model.config
        result: dict[str, Any] = {k: model_outputs[k] for k in ("video", "start", "end")}
        for task, labels in (("scale", cfg.scale_labels), ("movement", cfg.movement_labels)):
            probs = np.asarray(model_outputs[task])
            order = np.argsort(-probs)[: max(1, top_k)]
            result[task] = labels[int(order[0])]
            result[f"{task}_score"] = round(float(probs[order[0]]), 4)
            result[f"{task}_top"] = [{"label": labels[int(i)], "score": round(float(probs[i]), 4)} for i in order]
        return result


def register() -> None:
    if TASK not in PIPELINE_REGISTRY.get_supported_tasks():
        PIPELINE_REGISTRY.register_pipeline(TASK, pipeline_class=ShotClassificationPipeline, pt_model=AutoModel,
                                            type="video")
