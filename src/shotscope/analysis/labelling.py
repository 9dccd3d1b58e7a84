"""Labelling the shots of a film as they end: the label sources on each shot's frames, the network
in batches on a thread of its own (decoding goes on meanwhile)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from ..sources.base import Estimate, ShotSource
from ..sources.combine import choose
from ..sources.geometry import GeometrySource
from ..sources.network import NetworkSource
from ..sources.people import PeopleSource
from .results import AnalyzeSettings, Shot, resolve_settings
from .shot_frames import Converter, positions, views_for

if TYPE_CHECKING:
    from ..model.modeling import ShotScopeModel


class ShotLabeller:
    """Labels finished shots as they end: the per-shot sources at once, the network in batches on a
    thread of its own (so a film's frames are never all held at once), the labels chosen in one
    place (:func:`shotscope.sources.combine.choose`)."""

    def __init__(self, model: ShotScopeModel | None, settings: AnalyzeSettings, num_frames: int,
                 convert: Converter, geometry: Converter | None = None, people: Converter | None = None):
        """``convert`` makes the network's frames; ``geometry`` and ``people`` (default: the same)
        the frames those sources read, at their own sizes (as predict and evaluate read them)."""
        settings = resolve_settings(model, settings)  # "auto" made concrete, as analyze makes it
        self.model, self.settings, self.n, self.convert = model, settings, num_frames, convert
        self.geometry, self.people = geometry or convert, people or convert
        self.sources: list[tuple[ShotSource, Converter]] = []
        if settings.movement in ("geometry", "fused"):
            self.sources.append((GeometrySource(), self.geometry))
        if settings.scale == "people":
            self.sources.append((PeopleSource(), self.people))
        self.network = NetworkSource(model, settings.batch_size) if model is not None else None
        # thumbnails from the largest frames converted
        self.thumb = max((convert, *(c for _, c in self.sources)), key=lambda c: c.size[0])
        self.shots: list[Shot] = []
        self.pending: list[tuple[Shot, np.ndarray, dict]] = []
        self.worker: ModelWorker | None = None

    def add(self, start: int, end: int, t0: float, t1: float, items: list) -> None:
        st = self.settings
        views = views_for(t1 - t0, st)
        shot = Shot(len(self.shots), start, end, t0, t1, short=(t1 - t0) < st.short_shot_seconds, views=views,
                    movement_source=st.movement)
        answers: dict[str, dict[str, Estimate]] = {"scale": {}, "movement": {}}
        if items:
            # a representative frame: of three across the shot, the one with most detail (a shot
            # that fades in from black does not get a black thumbnail)
            picks = sorted({len(items) // 4, len(items) // 2, (3 * len(items)) // 4})
            mid = max((self.thumb(items[i]) for i in picks), key=lambda f: float(f.std()))
            small = lambda f: cv2.resize(f, (160, max(1, round(f.shape[0] * 160 / f.shape[1]))),  # noqa: E731
                                         interpolation=cv2.INTER_AREA)
            shot.thumbnail = small(mid)
            shot.first_frame, shot.last_frame = small(self.thumb(items[0])), small(self.thumb(items[-1]))
            for source, convert in self.sources:
                pos = positions(len(items), min(source.frames, max(len(items), 2)), 1)[0]
                said = source.estimate(np.stack([convert(items[i]) for i in pos]),
                                       np.array([items[i].time for i in pos]))
                for task, estimate in said.items():
                    answers[task][source.name] = estimate
            if self.network is not None:
                self.pending.append((shot, self.convert.sample(items, self.n, views), answers))
        if self.network is None or not items:
            self._decide(shot, answers)
        self.shots.append(shot)
        for converter in {id(c): c for c in (self.convert, self.geometry, self.people)}.values():
            converter.cache.clear()
        if len(self.pending) >= st.batch_size:
            self._label()

    def _decide(self, shot: Shot, answers: dict[str, dict[str, Estimate]]) -> None:
        """The shot's labels from the sources' answers, as the settings chose; their evidence kept."""
        st = self.settings
        if "geometry" in answers["movement"]:
            shot.motion = answers["movement"]["geometry"].evidence
        if "people" in answers["scale"]:
            shot.people = answers["scale"]["people"].evidence
        fusion = getattr(self.model, "movement_fusion", None)
        for task, source in (("scale", st.scale), ("movement", st.movement)):
            chosen = choose(task, source, answers[task], fusion)
            if chosen is None:
                continue
            setattr(shot, task, chosen.label)
            setattr(shot, f"{task}_prob", round(chosen.confidence, 4))
            setattr(shot, f"{task}_probs", chosen.rounded())
            if task == "scale":
                shot.scale_source = source

    def _label(self) -> None:
        """Hand the pending shots to the model worker (in its own thread, so decoding goes on)."""
        if not self.pending:
            return
        if self.worker is None:
            self.worker = ModelWorker(self._label_batch)
        self.worker.submit(list(self.pending))
        self.pending.clear()

    def _label_batch(self, pending: list[tuple[Shot, np.ndarray, dict]]) -> None:
        said = self.network.classify([clip for _, clip, _ in pending])
        for (shot, _, answers), network in zip(pending, said, strict=True):
            for task, estimate in network.items():
                answers[task]["model"] = estimate
            self._decide(shot, answers)

    def finish(self) -> list[Shot]:
        """Label what is left and wait for the model; raises what the model raised."""
        self._label()
        if self.worker is not None:
            self.worker.close()
        return self.shots

    def abort(self) -> None:
        if self.worker is not None:
            self.worker.close(abort=True)


class ModelWorker:
    """Runs the model on batches of shots in a thread while the caller decodes the next ones.

    The queue holds at most ``depth`` batches: when the model falls behind, decoding waits, so
    memory stays bounded; when decoding falls behind, the model waits."""

    def __init__(self, fn, depth: int = 2):
        import queue
        import threading

        self.fn = fn
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="shotscope-model", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            batch = self.queue.get()
            if batch is None:
                return
            if self.error is not None or self.stopping:
                continue  # after a failure: drain, so the producer never blocks
            try:
                self.fn(batch)
            except BaseException as exc:  # handed to the caller in submit/close
                self.error = exc

    def submit(self, batch) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(batch)

    def close(self, abort: bool = False) -> None:
        """Wait for the batches given to be done; ``abort``: the ones still waiting are dropped."""
        self.stopping = abort
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and not abort:
            raise self.error
