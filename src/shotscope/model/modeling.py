"""The two-head VideoMAE model: a transformers ``PreTrainedModel`` with its own config.

State-dict names follow the published multitask checkpoint (``vmae.*``, ``fc_norm.*``,
``scale_cf.*``, ``movement_cf.*``) so that checkpoint loads into this class unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from huggingface_hub.dataclasses import strict
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedModel, VideoMAEConfig, VideoMAEModel
from transformers.utils import ModelOutput

from ..labels import IGNORE_INDEX, MOVEMENT_LABELS, SCALE_LABELS
from . import companions


def _int_keys(mapping: dict | None) -> dict[int, str] | None:
    return None if mapping is None else {int(k): v for k, v in mapping.items()}


@strict
class ShotScopeConfig(VideoMAEConfig):
    """A VideoMAE config that also carries both label maps and the loss settings."""

    model_type = "shotscope"
    keys_to_ignore_at_inference = ["pooled", "scale_loss", "movement_loss"]

    scale_label2id: dict | None = None
    scale_id2label: dict | None = None
    movement_label2id: dict | None = None
    movement_id2label: dict | None = None
    scale_loss_weight: float = 1.0
    movement_loss_weight: float = 1.0
    # Optional per-class weights for the cross-entropies (class-weighted loss).
    scale_class_weights: list | None = None
    movement_class_weights: list | None = None

    def __post_init__(self, **kwargs: Any) -> None:
        if self.scale_id2label is None and self.scale_label2id is None:
            self.scale_label2id = {n: i for i, n in enumerate(SCALE_LABELS)}
        if self.movement_id2label is None and self.movement_label2id is None:
            self.movement_label2id = {n: i for i, n in enumerate(MOVEMENT_LABELS)}
        # JSON round trips turn integer keys into strings; keep them as ints here.
        if self.scale_id2label is None:
            self.scale_id2label = {v: k for k, v in self.scale_label2id.items()}
        if self.movement_id2label is None:
            self.movement_id2label = {v: k for k, v in self.movement_label2id.items()}
        self.scale_id2label = _int_keys(self.scale_id2label)
        self.movement_id2label = _int_keys(self.movement_id2label)
        self.scale_label2id = {v: k for k, v in self.scale_id2label.items()}
        self.movement_label2id = {v: k for k, v in self.movement_id2label.items()}
        super().__post_init__(**kwargs)

    @property
    def scale_labels(self) -> list[str]:
        return [self.scale_id2label[i] for i in range(len(self.scale_id2label))]

    @property
    def movement_labels(self) -> list[str]:
        return [self.movement_id2label[i] for i in range(len(self.movement_id2label))]


@dataclass
class ShotScopeOutput(ModelOutput):
    """Logits of both heads, the pooled features, and the loss when labels were given."""

    loss: torch.Tensor | None = None
    scale_logits: torch.Tensor | None = None
    movement_logits: torch.Tensor | None = None
    pooled: torch.Tensor | None = None
    scale_loss: torch.Tensor | None = None
    movement_loss: torch.Tensor | None = None


def masked_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Cross-entropy over the labelled rows only; 0 (with a gradient path) when none is labelled."""
    valid = labels != IGNORE_INDEX
    if not bool(valid.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[valid], labels[valid], weight=weight)


class ShotScopePreTrainedModel(PreTrainedModel):
    config_class = ShotScopeConfig
    config: ShotScopeConfig
    base_model_prefix = "vmae"
    main_input_name = "pixel_values"
    input_modalities = "video"
    supports_gradient_checkpointing = True
    _no_split_modules = ["VideoMAEEmbeddings", "VideoMAELayer"]
    _supports_sdpa = True

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            module.weight.normal_(mean=0.0, std=self.config.initializer_range)
            if module.bias is not None:
                module.bias.zero_()
        elif isinstance(module, nn.LayerNorm):
            module.weight.fill_(1.0)
            module.bias.zero_()
        else:
            super()._init_weights(module)


class ShotScopeModel(ShotScopePreTrainedModel):
    """VideoMAE backbone -> mean-pooled tokens + LayerNorm (or first token) -> scale and movement heads.

    ``pixel_values`` has shape (batch, frames, channels, height, width).
    """

    def __init__(self, config: ShotScopeConfig):
        super().__init__(config)
        self.vmae = VideoMAEModel(config)
        self.fc_norm = nn.LayerNorm(config.hidden_size) if config.use_mean_pooling else None
        self.scale_cf = nn.Linear(config.hidden_size, len(config.scale_id2label))
        self.movement_cf = nn.Linear(config.hidden_size, len(config.movement_id2label))
        # Preprocessing settings travel with the model (see shotscope.model.preprocessing);
        # a fitted geometry/network combiner too (see shotscope.sources.geometry). Both are
        # written beside the weights by save_pretrained.
        self.preprocess_config = None
        companions.attach(self)  # what the stages above keep with the network (its movement combiner)
        self.source: str | None = None
        self.post_init()

    def pool(self, pixel_values: torch.Tensor) -> torch.Tensor:
        tokens = self.vmae(pixel_values).last_hidden_state
        if self.fc_norm is not None:
            return self.fc_norm(tokens.mean(1))
        return tokens[:, 0]

    def forward(
        self,
        pixel_values: torch.Tensor,
        scale_labels: torch.Tensor | None = None,
        movement_labels: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> ShotScopeOutput:
        pooled = self.pool(pixel_values)
        scale_logits = self.scale_cf(pooled)
        movement_logits = self.movement_cf(pooled)
        out = ShotScopeOutput(scale_logits=scale_logits, movement_logits=movement_logits, pooled=pooled)
        if scale_labels is not None or movement_labels is not None:
            cfg = self.config
            loss = scale_logits.sum() * 0.0
            if scale_labels is not None:
                w = _weights(cfg.scale_class_weights, scale_logits)
                out.scale_loss = masked_cross_entropy(scale_logits, scale_labels, w)
                loss = loss + cfg.scale_loss_weight * out.scale_loss
            if movement_labels is not None:
                w = _weights(cfg.movement_class_weights, movement_logits)
                out.movement_loss = masked_cross_entropy(movement_logits, movement_labels, w)
                loss = loss + cfg.movement_loss_weight * out.movement_loss
            out.loss = loss
        return out

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: Any, *args: Any, **kwargs: Any) -> ShotScopeModel:
        """transformers' loader, plus everything :meth:`save_pretrained` writes beside the weights:
        the preprocessing settings and the movement combiner (for ``AutoModel`` too)."""
        model = super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        hub = {k: kwargs[k] for k in _HUB_OPTIONS if k in kwargs}
        model.restore_extras(pretrained_model_name_or_path, **hub)
        return model

    def restore_extras(self, name_or_path: Any, revision: str | None = None, **hub: Any) -> None:
        """The preprocessing settings and the companions (the movement combiner) beside the weights: from the folder, or
        for a hub id from the same cache and revision (``hub``: cache_dir, token, local_files_only,
        subfolder, as given to ``from_pretrained``)."""
        from pathlib import Path

        from .preprocessing import PREPROCESSOR_FILE, PreprocessConfig

        folder = Path(name_or_path) / hub.get("subfolder", "")
        if not folder.is_dir():  # a hub id: the files from the cache (or the hub)
            from transformers.utils import cached_file

            found = [cached_file(str(name_or_path), f, revision=revision, _raise_exceptions_for_missing_entries=False,
                                 _raise_exceptions_for_connection_errors=False, **hub)
                     for f in (PREPROCESSOR_FILE, *companions.filenames())]
            found = [f for f in found if f]
            folder = Path(found[0]).parent if found else None
        self.preprocess_config = (PreprocessConfig.load(folder, image_size=self.image_size) if folder else None) or \
            PreprocessConfig(image_size=self.image_size)
        companions.attach(self, companions.load_all(folder if folder else None))
        self.source = str(name_or_path)

    def save_pretrained(self, save_directory: Any, *args: Any, **kwargs: Any) -> None:
        """Write config.json + model.safetensors, the preprocessing settings and the companions."""
        super().save_pretrained(save_directory, *args, **kwargs)
        if self.preprocess_config is not None:
            self.preprocess_config.save(save_directory)
        companions.save_all(self, save_directory)
        from .card import write_basic_card

        write_basic_card(save_directory, self)

    @property
    def num_frames(self) -> int:
        return int(self.config.num_frames)

    @property
    def image_size(self) -> int:
        size = self.config.image_size
        return int(size[0] if isinstance(size, (list, tuple)) else size)


# from_pretrained's options that say where a hub model's files are (its extras are read from there too)
_HUB_OPTIONS = ("revision", "cache_dir", "token", "local_files_only", "subfolder")


def _weights(values: list | None, like: torch.Tensor) -> torch.Tensor | None:
    if values is None:
        return None
    return torch.tensor(values, dtype=like.dtype, device=like.device)


AutoConfig.register("shotscope", ShotScopeConfig)
AutoModel.register(ShotScopeConfig, ShotScopeModel)


def _register_pipeline() -> None:
    from .pipeline import register

    register()


_register_pipeline()
