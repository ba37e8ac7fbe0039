"""The hub side of picture diagnostics: one `Diagnosis` per stream, fed by the monitor, asked by the API.

Runs on the event loop. The monitor hands over each sampled picture (`picture`) and each verdict
(`judge`), which gains the picture checks that fail, or suspends them while the stream has no signal or
a black picture. Operators' actions (`accept`, `mute`, `unmute`) are written to the store at once;
references the hub learns and baselines are written in the background (`run`), all in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import time

from hub import health as h
from hub.config import Stream
from hub.config.diagnostics import DiagnosticsSettings, for_stream
from hub.diagnostics.diagnosis import Diagnosis, Mute, Reference
from hub.diagnostics.outages import Member, OutageView
from hub.diagnostics.settings import PICTURE_CHECKS
from hub.diagnostics.store import Change, DiagnosticsStore
from hub.ingest.observations import Picture, PictureMeasured

log = logging.getLogger("hub.diagnostics")
FLUSH_S = 30.0  # learnt references are written this often
BASELINE_FLUSH_S = 300.0  # and baselines (a restart loses at most this much learning)
MAX_MUTE_S = 30 * 86400.0


class Diagnostics:
    def __init__(self, settings: DiagnosticsSettings, store: DiagnosticsStore | None = None):
        self.settings = settings
        self.store = store
        self.by_stream: dict[str, Diagnosis] = {}
        self._saved = store.load() if store is not None else {}
        self._dirty_refs: set[str] = set()
        self._learning: set[str] = set()  # streams whose baselines moved since the last baseline write
        self._lock: asyncio.Lock | None = None
        self._baselines_at = 0.0

    def watch(self, stream: Stream, settings: DiagnosticsSettings | None = None) -> Diagnosis:
        """A stream is (still) watched: its diagnosis, restored from the store the first time."""
        if settings is not None:
            self.settings = settings
        wanted = for_stream(self.settings, stream.health, stream.ptz)
        diagnosis = self.by_stream.get(stream.id)
        if diagnosis is None:
            diagnosis = self.by_stream[stream.id] = Diagnosis(wanted)
            saved = self._saved.pop(stream.id, None)
            if saved is not None:
                diagnosis.references, diagnosis.mutes = saved.references, saved.mutes
                diagnosis.baseline = saved.baseline or diagnosis.baseline
        elif diagnosis.settings != wanted:
            diagnosis.settings = wanted
            diagnosis.votes.clear()  # new thresholds or vote: start the count again
        return diagnosis

    def forget(self, stream_ids: list[str]) -> None:
        for sid in stream_ids:
            self.by_stream.pop(sid, None)
        if self.store is not None and stream_ids:
            asyncio.get_running_loop().create_task(self._write(lambda: self.store.forget(stream_ids)))

    def picture(self, stream_id: str, picture: Picture | PictureMeasured, wall: float) -> None:
        """A decoded picture (its thumbnail feeds the moved check's background), and a sampled picture's
        measures (on a `Picture` measured by its reader, or a `PictureMeasured` that follows one)."""
        diagnosis = self.by_stream.get(stream_id)
        if diagnosis is None:
            return
        references = len(diagnosis.references)
        if isinstance(picture, Picture):
            diagnosis.background(picture.thumb, wall)
        if picture.diagnosis is not None:
            diagnosis.observe(picture.thumb, picture.diagnosis, wall, self.is_day(wall))
            self._learning.add(stream_id)
        if len(diagnosis.references) != references:
            self._dirty_refs.add(stream_id)

    def is_day(self, wall: float) -> bool:
        local = time.localtime(wall)
        return self.settings.is_day(local.tm_hour + local.tm_min / 60)

    def judge(self, stream_id: str, verdict: h.Verdict, wall: float) -> h.Verdict:
        """The verdict with the picture checks that fail; none while there is no signal or the picture is black."""
        diagnosis = self.by_stream.get(stream_id)
        if diagnosis is None:
            return verdict
        if verdict.state not in h.UP_STATES or "black" in verdict.reasons:
            diagnosis.suspend()
            return verdict
        failing = diagnosis.failing(wall)
        return h.Verdict(h.DEGRADED, verdict.reasons + failing) if failing else verdict

    def muted(self, stream_id: str, wall: float) -> tuple[tuple, ...]:
        """(check, until, reason, by, tripped) of the stream's mutes in force, for its record."""
        diagnosis = self.by_stream.get(stream_id)
        if diagnosis is None or not diagnosis.mutes:
            return ()
        tripped = set(diagnosis.tripped())
        return tuple(
            (m.check, round(m.until, 3), m.reason, m.by, m.check in tripped) for m in diagnosis.mutes.values() if m.until > wall
        )

    async def accept(self, stream_id: str, by: str) -> Reference | None:
        """The current view becomes the stream's reference (None: no picture sampled yet)."""
        diagnosis = self.by_stream[stream_id]
        reference = diagnosis.accept_reference(by, time.time())
        if reference is not None:
            await self._save(stream_id, references=True)
        return reference

    async def mute(self, stream_id: str, check: str, seconds: float, reason: str, by: str) -> Mute:
        if check not in PICTURE_CHECKS:
            raise ValueError(f"unknown check {check!r}: expected one of {', '.join(PICTURE_CHECKS)}")
        wall = time.time()
        mute = Mute(check, wall + min(seconds, MAX_MUTE_S), reason, by, wall)
        diagnosis = self.by_stream[stream_id]
        diagnosis.mutes = {c: m for c, m in diagnosis.mutes.items() if m.until > wall} | {check: mute}
        await self._save(stream_id, mutes=True)
        return mute

    async def unmute(self, stream_id: str, check: str) -> bool:
        diagnosis = self.by_stream[stream_id]
        if diagnosis.mutes.pop(check, None) is None:
            return False
        await self._save(stream_id, mutes=True)
        return True

    async def _save(self, stream_id: str, references: bool = False, mutes: bool = False) -> None:
        diagnosis = self.by_stream[stream_id]
        change = Change(
            stream_id, tuple(diagnosis.references) if references else None, tuple(diagnosis.mutes.values()) if mutes else None
        )
        if self.store is not None:
            await self._write(lambda: self.store.write([change]))

    async def _write(self, job) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            try:
                await asyncio.to_thread(job)
            except Exception:
                log.exception("could not write the picture diagnostics' state to %s", getattr(self.store, "path", "?"))

    async def flush(self, baselines: bool) -> None:
        """Write learnt references, and (if asked) the baselines that moved, in one transaction."""
        refs, self._dirty_refs = self._dirty_refs, set()
        learning = set()
        if baselines:
            learning, self._learning = self._learning, set()
        changes = []
        for sid in refs | learning:
            diagnosis = self.by_stream.get(sid)
            if diagnosis is not None:
                changes.append(
                    Change(
                        sid,
                        tuple(diagnosis.references) if sid in refs else None,
                        None,
                        diagnosis.baseline.to_json() if sid in learning else None,
                    )
                )
        if changes and self.store is not None:
            await self._write(lambda: self.store.write(changes))

    @staticmethod
    def outage_view(records, settings: DiagnosticsSettings) -> OutageView:
        """The down streams among `records` (offline or unauthorized) and the grouping rule: what every
        person's grouped outages are cut from (`OutageView.seen_by`)."""
        down = tuple(
            Member(r.id, r.site, r.tags, True, r.since, r.reasons[0] if r.reasons else "", r.category)
            for r in records
            if r.state in (h.OFFLINE, h.UNAUTHORIZED)
        )
        return OutageView(down, settings.group_min, settings.group_window_s)

    async def run(self) -> None:
        """Background writes while the hub runs (a task of the monitor)."""
        loop = asyncio.get_running_loop()
        self._baselines_at = loop.time()
        while True:
            await asyncio.sleep(FLUSH_S)
            due = loop.time() - self._baselines_at >= BASELINE_FLUSH_S
            if due:
                self._baselines_at = loop.time()
            await self.flush(due)
