"""Archives beyond one machine: films as tasks on a Ray cluster (``pip install "shotscope[ray]"``).

The driver plans the run as on one machine (stored results compared, reused or redone), then
submits one task per film; Ray schedules them as workers come free, so long and short films
balance themselves. Each worker loads the model once (on its GPU when the cluster has GPUs) and
writes the film's folder into the shared output folder, swapped in whole as on one machine. A
task that fails is retried (``max_retries``: a crashed worker, a lost node, an error); after that
the driver records the film in ``errors.json`` with the reason, and the rest go on. A killed
driver loses nothing: a rerun reuses every finished film.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_RETRIES = 2
_MODELS: dict[tuple, Any] = {}  # per worker process: loaded once, used by every task it runs
CRASH_ONCE_ENV = "SHOTSCOPE_FAULT_CRASH_ONCE"  # fault injection for tests: a folder for markers


def connect(address: str | None = "local", num_cpus: int | None = None):
    """Join the Ray cluster at ``address`` ("auto": the one this machine belongs to), or start a
    local one ("local"); an already connected driver stays as it is."""
    try:
        import ray
    except ImportError:
        from ..errors import DataError

        raise DataError('running on Ray needs it installed: pip install "shotscope[ray]"') from None
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if address in (None, "local"):
            kwargs["num_cpus"] = num_cpus
        else:
            kwargs["address"] = address
        try:
            ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            from ..errors import DataError

            raise DataError(f"cannot reach a Ray cluster at {address!r} ({exc})") from None
    return ray


def _model_spec(model) -> Any:
    """How workers get the model: its source to load (a folder on the shared file system or a hub
    id) and precision; a model built in memory travels whole."""
    if model is None:
        return None
    source = getattr(model, "name_or_path", None)
    if source and (Path(source).is_dir() or "/" in str(source)):
        return ("load", str(source), getattr(model, "precision_choice", "auto"))
    return ("object", model)


def _worker_model(spec: Any):
    if spec is None:
        return None
    if spec[0] == "object":
        return spec[1]
    key = spec[1:]
    if key not in _MODELS:
        from ..devices import best_device
        from ..model.loading import load_model

        _MODELS[key] = load_model(spec[1], device=best_device(), precision=spec[2])
    return _MODELS[key]


def _crash_once(film: Path) -> None:
    """Fault injection for tests: with ``SHOTSCOPE_FAULT_CRASH_ONCE=DIR``, the first task on a film
    whose name starts with ``crash`` kills its worker process (as a lost node would)."""
    folder = os.environ.get(CRASH_ONCE_ENV)
    if not folder or not film.name.startswith("crash"):
        return
    marker = Path(folder) / f"{film.name}.crashed"
    if not marker.exists():
        marker.write_text("1")
        os._exit(1)


def _analyze_task(job, spec, settings, detector) -> dict[str, Any]:
    import copy

    from .jobs import run_job

    _crash_once(job.film)
    return run_job(job, _worker_model(spec), settings, copy.deepcopy(detector), progress=False)


def run_on_ray(plan, model, *, address: str | None = "local", progress: bool | None = None,
               max_retries: int = MAX_RETRIES) -> None:
    """Run the plan's jobs as Ray tasks; results and failures go into the plan's result and record."""
    from tqdm import tqdm

    from ..console import no_bar
    from ..errors import describe_failure
    from .jobs import finish_job

    ray = connect(address)
    gpus = ray.cluster_resources().get("GPU", 0)
    task = ray.remote(_analyze_task).options(
        num_cpus=1, num_gpus=1 if (gpus and model is not None) else 0, max_retries=max_retries,
        retry_exceptions=True)
    spec = ray.put(_model_spec(model))
    pending = {task.remote(job, spec, plan.settings, plan.detector): job for job in plan.jobs}
    bar = tqdm(total=len(pending), desc="films", unit="film", disable=no_bar(progress))
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                job = pending.pop(ref)
                try:
                    finish_job(plan.result, plan.record, job, ray.get(ref))
                except ray.exceptions.RayTaskError as exc:  # the film's own error, after the retries
                    finish_job(plan.result, plan.record, job, error=describe_failure(exc.cause or exc, job.film))
                except ray.exceptions.RayError as exc:  # a worker or node lost every time
                    reason = f"{job.film}: the Ray worker was lost {max_retries + 1} times ({type(exc).__name__})"
                    finish_job(plan.result, plan.record, job, error=reason)
                bar.update(1)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        bar.close()
