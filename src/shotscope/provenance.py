"""What made a result: the film (size, time, a content hash), the model (source, revision, a hash
of its weights), the settings and the shotscope version. A rerun compares them to decide
whether a stored result can be reused, and says why it was not."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .version import __version__

PROVENANCE_FILE = "provenance.json"
_EDGE = 1 << 20  # bytes hashed at each end of a film


def film_fingerprint(path: str | os.PathLike) -> dict[str, Any]:
    """Size, modification time and a hash of the first and last MiB (and the size): changes when
    the file is replaced or cut, without reading a whole film."""
    path = Path(path)
    st = path.stat()
    h = hashlib.sha256(str(st.st_size).encode())
    with path.open("rb") as fh:
        h.update(fh.read(_EDGE))
        if st.st_size > 2 * _EDGE:
            fh.seek(-_EDGE, os.SEEK_END)
            h.update(fh.read(_EDGE))
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256_edges": h.hexdigest()}


def model_fingerprint(model: Any) -> dict[str, Any] | None:
    """Source, revision and a SHA-256 of the weights (from the files read at load time, else of
    the tensors in memory); None without a model."""
    if model is None:
        return None
    digest = getattr(model, "weights_sha256", None)
    if digest is None and getattr(model, "weights_files", None):
        digest = model.weights_sha256 = files_digest(model.weights_files)  # once per loaded model
    if digest is None:  # a model built in memory: hash its tensors
        import torch

        h = hashlib.sha256()
        for name, tensor in sorted(model.state_dict().items()):
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        digest = h.hexdigest()
    fusion = getattr(model, "movement_fusion", None)
    return {
        "source": getattr(model, "source", None),
        "revision": getattr(model.config, "_commit_hash", None),
        "weights_sha256": digest,
        "movement_fusion": None if fusion is None else hashlib.sha256(
            json.dumps(fusion.to_dict(), sort_keys=True).encode()).hexdigest(),
        "preprocessing": None if model.preprocess_config is None else model.preprocess_config.to_hf_dict(),
    }


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def files_digest(files: list[Path]) -> str:
    """SHA-256 of one file, or of several files' digests together (a model's weight shards)."""
    if len(files) == 1:
        return file_sha256(files[0])
    return hashlib.sha256("".join(file_sha256(f) for f in files).encode()).hexdigest()


def make_provenance(film: str | os.PathLike, model: Any, settings: dict[str, Any],
                    film_print: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "film": {"path": str(Path(film).resolve()), **(film_print or film_fingerprint(film))},
        "model": model_fingerprint(model),
        "settings": json.loads(json.dumps(settings, default=str)),
        "shotscope_version": __version__,
    }


def read_provenance(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / PROVENANCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def why_stale(stored: dict[str, Any] | None, current: dict[str, Any]) -> str | None:
    """None when ``stored`` was made from the same film, model, settings and version; else why not."""
    if stored is None:
        return "no record of how the stored result was made"
    old_film, new_film = stored.get("film") or {}, current["film"]
    for key, what in (("size", "size"), ("sha256_edges", "content")):  # a new mtime alone: same film
        if old_film.get(key) != new_film.get(key):
            return f"the film changed ({what})"
    if stored.get("model") != current["model"]:
        old, new = stored.get("model") or {}, current["model"] or {}
        if (old.get("source"), old.get("weights_sha256")) != (new.get("source"), new.get("weights_sha256")):
            return f"the model changed ({old.get('source') or 'none'} -> {new.get('source') or 'none'})"
        return "the model's preprocessing or movement combiner changed"
    if stored.get("settings") != current["settings"]:
        old, new = stored.get("settings") or {}, current["settings"]
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        return "the settings changed (" + ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys[:3]) + ")"
    if stored.get("shotscope_version") != current["shotscope_version"]:
        return f"made by shotscope {stored.get('shotscope_version')}, this is {current['shotscope_version']}"
    return None
