"""Labelling the shots of a film as they end: the label sources on each shot's frames, the network
in batches on a thread of its own (decoding goes on meanwhile)."""

from __future__ import annotations

from dataclasses import dataclass, field
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
from .timeline import network_positions, timeline_record, window_frames, window_spans

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
        self.timeline_sources: list[tuple[ShotSource, Converter]] = []  # those read window by window too
        if settings.movement in ("geometry", "fused"):
            self.sources.append((GeometrySource(), self.geometry))
            self.timeline_sources.append(self.sources[-1])
        if settings.scale == "people":
            self.sources.append((PeopleSource(settings.people_detector), self.people))
            if settings.timeline_people:  # only when asked: a frame a point costs more than decoding it
                self.timeline_sources.append(self.sources[-1])
        self.network = NetworkSource(model, settings.batch_size) if model is not None else None
        # thumbnails from the largest frames converted
        self.thumb = max((convert, *(c for _, c in self.sources)), key=lambda c: c.size[0])
        self.shots: list[Shot] = []
        self.pending: list[PendingShot] = []
        self.worker: ModelWorker | None = None

    def add(self, start: int, end: int, t0: float, t1: float, items: list) -> None:
        st = self.settings
        views = views_for(t1 - t0, st)
        shot = Shot(len(self.shots), start, end, t0, t1, short=(t1 - t0) < st.short_shot_seconds, views=views,
                    movement_source=st.movement)
        pending = PendingShot(shot, {"scale": {}, "movement": {}})
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
                    pending.answers[task][source.name] = estimate
            self._windows(pending, items, t0, t1)
            if self.network is not None:
                pending.clip = self.convert.sample(items, self.n, views)
                self.pending.append(pending)
        if self.network is None or not items:
            self._decide(pending)
        self.shots.append(shot)
        for converter in {id(c): c for c in (self.convert, self.geometry, self.people)}.values():
            converter.cache.clear()
        if sum(p.units for p in self.pending) >= st.batch_size:
            self._label()

    def _windows(self, pending: PendingShot, items: list, t0: float, t1: float) -> None:
        """The shot's timeline windows, and what the per-shot sources that can say it in each (the
        network's clips for them are made here and classified with the shot's)."""
        st = self.settings
        windows = window_spans(t0, t1, st.timeline)
        if not windows:
            return
        times = np.array([f.time for f in items])
        pending.centres = [c for c, _, _ in windows]
        pending.windows = [{"scale": {}, "movement": {}} for _ in windows]
        for source, convert in self.timeline_sources:
            picked, spans = window_frames(times, windows)
            said = source.timeline(np.stack([convert(items[i]) for i in picked]), times[picked], spans)
            for answers, window in zip(pending.windows, said, strict=True):
                for task, estimate in window.items():
                    answers[task][source.name] = estimate
        if self.network is not None and st.timeline_network:
            wanted = network_positions(times, windows, self.n)
            used = sorted({int(i) for w in wanted for i in w})  # each kept frame converted once
            pending.window_frames = np.stack([self.convert(items[i]) for i in used])
            where = {i: k for k, i in enumerate(used)}
            pending.window_index = [np.array([where[int(i)] for i in w]) for w in wanted]

    def _decide(self, pending: PendingShot) -> None:
        """The shot's labels from the sources' answers, as the settings chose; their evidence kept;
        its timeline from the windows' answers."""
        st, shot, answers = self.settings, pending.shot, pending.answers
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
        if pending.windows:
            shot.timeline = timeline_record(pending.centres, pending.windows,
                                            {"scale": st.scale, "movement": st.movement}, fusion)

    def _label(self) -> None:
        """Hand the pending shots to the model worker (in its own thread, so decoding goes on)."""
        if not self.pending:
            return
        if self.worker is None:
            self.worker = ModelWorker(self._label_batch)
        self.worker.submit(list(self.pending))
        self.pending.clear()

    def _label_batch(self, pending: list[PendingShot]) -> None:
        said = self.network.classify([p.clip for p in pending])
        for p, network in zip(pending, said, strict=True):
            for task, estimate in network.items():
                p.answers[task]["model"] = estimate
        # the timeline's clips, a batch at a time (a long shot has many: never all built at once)
        windows = [(p, k) for p in pending if p.window_frames is not None for k in range(len(p.window_index))]
        size = self.network.batch_size
        for b in range(0, len(windows), size):
            chunk = windows[b:b + size]
            said = self.network.classify([p.window_frames[p.window_index[k]][None] for p, k in chunk])
            for (p, k), network in zip(chunk, said, strict=True):
                for task, estimate in network.items():
                    p.windows[k][task]["model"] = estimate
        for p in pending:
            p.window_frames = None
            self._decide(p)

    def finish(self) -> list[Shot]:
        """Label what is left and wait for the model; raises what the model raised."""
        self._label()
        if self.worker is not None:
            self.worker.close()
        return self.shots

    def abort(self) -> None:
        if self.worker is not None:
            self.worker.close(abort=True)


@dataclass
class PendingShot:
    """A shot on its way to its labels: the sources' answers (by task, then source), the network's
    clip, and its timeline's windows (their centres, answers, and the network's frames for them)."""

    shot: Shot
    answers: dict[str, dict[str, Estimate]]
    clip: np.ndarray | None = None
    centres: list[float] = field(default_factory=list)
    windows: list[dict[str, dict[str, Estimate]]] = field(default_factory=list)
    window_frames: np.ndarray | None = None  # (frames, H, W, 3) the windows' clips are taken from
    window_index: list[np.ndarray] = field(default_factory=list)  # each window's frames among them

    @property
    def units(self) -> int:
        """Clips it gives the network: its own, and one a window when the timeline asks for them."""
        return 1 + (len(self.window_index) if self.window_frames is not None else 0)


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
