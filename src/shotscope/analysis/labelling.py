"""Labelling the shots of a film as they end: the label sources on each shot's frames, the network
in batches on a thread of its own (decoding goes on meanwhile)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from ..labels import MOVEMENT_LABELS
from ..sources.geometry import GEOMETRY_FRAMES, MotionEstimate, estimate_movement
from .results import AnalyzeSettings, Shot
from .shot_frames import Converter, positions, views_for

if TYPE_CHECKING:
    from ..model.modeling import ShotScopeModel


class ShotLabeller:
    """Labels finished shots in batches, so a film's frames are never all held at once."""

    def __init__(self, model: ShotScopeModel | None, settings: AnalyzeSettings, num_frames: int,
                 convert: Converter, geometry: Converter | None = None):
        """``convert`` makes the network's frames; ``geometry`` (default: the same) the frames the
        geometric estimate reads, at :data:`GEOMETRY_SIDE` as predict and evaluate read them."""
        self.model, self.settings, self.n, self.convert = model, settings, num_frames, convert
        self.geometry = geometry or convert
        # thumbnails from the larger of the two
        self.thumb = max((convert, self.geometry), key=lambda c: c.size[0])
        self.shots: list[Shot] = []
        self.pending: list[tuple[Shot, np.ndarray]] = []
        self.worker: ModelWorker | None = None

    def add(self, start: int, end: int, t0: float, t1: float, items: list) -> None:
        st = self.settings
        views = views_for(t1 - t0, st)
        shot = Shot(len(self.shots), start, end, t0, t1, short=(t1 - t0) < st.short_shot_seconds, views=views,
                    movement_source=st.movement)
        if items:
            # a representative frame: of three across the shot, the one with most detail (a shot
            # that fades in from black does not get a black thumbnail)
            picks = sorted({len(items) // 4, len(items) // 2, (3 * len(items)) // 4})
            mid = max((self.thumb(items[i]) for i in picks), key=lambda f: float(f.std()))
            small = lambda f: cv2.resize(f, (160, max(1, round(f.shape[0] * 160 / f.shape[1]))),  # noqa: E731
                                         interpolation=cv2.INTER_AREA)
            shot.thumbnail = small(mid)
            shot.first_frame, shot.last_frame = small(self.thumb(items[0])), small(self.thumb(items[-1]))
            if st.movement in ("geometry", "fused"):
                pos = positions(len(items), min(GEOMETRY_FRAMES, max(len(items), 2)), 1)[0]
                est = estimate_movement(np.stack([self.geometry(items[i]) for i in pos]),
                                        np.array([items[i].time for i in pos]))
                shot.motion = est.to_dict()
                if st.movement == "geometry":
                    shot.movement, shot.movement_prob = est.label, round(est.confidence, 4)
                    shot.movement_probs = est.probabilities
            if self.model is not None:
                self.pending.append((shot, self.convert.sample(items, self.n, views)))
        self.shots.append(shot)
        self.convert.cache.clear()
        self.geometry.cache.clear()
        if len(self.pending) >= st.batch_size:
            self._label()

    def _label(self) -> None:
        """Hand the pending shots to the model worker (in its own thread, so decoding goes on)."""
        if not self.pending:
            return
        if self.worker is None:
            self.worker = ModelWorker(self._label_batch)
        self.worker.submit(list(self.pending))
        self.pending.clear()

    def _label_batch(self, pending: list[tuple[Shot, np.ndarray]]) -> None:
        from ..model.inference import predict_probs

        model, cfg = self.model, self.model.config
        ps, pm = predict_probs(model, [clip for _, clip in pending], self.settings.batch_size)
        for (shot, _), s_p, m_p in zip(pending, ps, pm, strict=True):
            shot.scale_probs = {k: round(float(v), 4) for k, v in zip(cfg.scale_labels, s_p, strict=True)}
            shot.scale = cfg.scale_labels[int(s_p.argmax())]
            shot.scale_prob = round(float(s_p.max()), 4)
            if self.settings.movement == "geometry":
                continue
            names = cfg.movement_labels
            if self.settings.movement == "fused":  # the combiner answers in shotscope's order
                m_p, names = model.movement_fusion.combine(m_p, MotionEstimate(**shot.motion)), MOVEMENT_LABELS
            shot.movement_probs = {k: round(float(v), 4) for k, v in zip(names, m_p, strict=True)}
            shot.movement = names[int(np.argmax(m_p))]
            shot.movement_prob = round(float(np.max(m_p)), 4)

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
