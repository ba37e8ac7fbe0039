"""One camera's picture diagnosis: its baseline, votes, reference views and mutes, fed sample by sample.

Pure and clock-free (every call takes the wall time and whether the clock says day); the monitor keeps
one `Diagnosis` per stream on the event loop, across reconnects and patrol visits, and feeds it each
sampled picture (`observe`). A check is reported (`failing`) when its vote has tripped, it is not muted,
and, for `moved`, full-frame features confirmed it. An operator can accept the current view as the
reference (after a deliberate move; a PTZ camera keeps one reference per preset) and mute a check for
a time with a reason; `hub.diagnostics.store` keeps both across restarts.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from hub.diagnostics.checks import Baseline, is_night, scores
from hub.diagnostics.confirm import Vote
from hub.diagnostics.moved import BACKGROUND_SAMPLES, Features, View, confirm, moved_score, resemblance
from hub.diagnostics.sampling import PictureSample
from hub.diagnostics.settings import DEFAULT_SETTINGS, PICTURE_CHECKS, DiagnosisSettings

MAX_PRESETS = 16
MOVED_EVERY_S = 10.0  # the moved check samples the background this often (its phase correlation runs on the loop)
FOG_RESEMBLANCE = 0.5  # a flat picture that still resembles the reference this much is fog, not a cover
# One fault, one diagnosis: a dark or blown-out picture is also flat, low in contrast and unsharp, and a
# covered lens is all of that too. In this order of precedence, a check that is shown hides the ones it
# explains (fog hides the IR-cut check it would trip; colour in the dark hides the blur it causes).
PRECEDENCE = ("exposure", "covered", "mosaic", "low_contrast", "ir_cut", "blurred", "moved", "color_cast", "noisy", "striped")
EXPLAINS = {
    "exposure": ("covered", "low_contrast", "blurred", "color_cast", "ir_cut", "noisy", "striped", "mosaic", "moved"),
    "covered": ("low_contrast", "blurred", "color_cast", "ir_cut", "noisy", "striped", "mosaic", "moved"),
    # Another view: what this camera's baselines say is normal no longer applies.
    "moved": ("low_contrast", "blurred", "color_cast", "noisy", "striped", "mosaic"),
    "mosaic": ("blurred",),  # big flat blocks have no fine detail either
    "low_contrast": ("blurred", "ir_cut", "color_cast", "moved"),  # fog washes colour and edges out too
    "ir_cut": ("blurred", "low_contrast", "noisy", "color_cast"),  # a day-mode sensor in the dark; grey moves the tint
    "blurred": ("striped", "moved"),  # with the detail gone, any leftover pattern stands out; no edges to align
}


@dataclass(frozen=True)
class Mute:
    check: str
    until: float  # wall time
    reason: str
    by: str
    at: float

    def to_json(self) -> dict:
        return {"check": self.check, "until": round(self.until, 3), "reason": self.reason, "by": self.by, "at": round(self.at, 3)}


@dataclass(frozen=True)
class Reference:
    """A view the camera should show; `by` is "hub" when learned from the first clean pictures."""

    view: View
    night: bool
    at: float  # wall time
    by: str

    def to_json(self) -> dict:
        return {"night": self.night, "at": round(self.at, 3), "by": self.by}


@dataclass
class Diagnosis:
    settings: DiagnosisSettings = DEFAULT_SETTINGS
    baseline: Baseline = field(default_factory=Baseline)
    votes: dict[str, Vote] = field(default_factory=dict)
    references: list[Reference] = field(default_factory=list)
    mutes: dict[str, Mute] = field(default_factory=dict)
    latest: View | None = None  # the current background (with the newest features)
    latest_night: bool = False
    moved_confirmed: bool = False
    last_scores: dict[str, float] = field(default_factory=dict)
    history: deque = field(default_factory=lambda: deque(maxlen=BACKGROUND_SAMPLES))  # thumbnails of full samples
    features: Features | None = None  # the newest full-frame features
    features_new: bool = False  # taken since the moved vote tripped
    moved_at: float = -1e18  # wall time of the last background sample
    moved_scene: bool = False  # the last moved score said "another scene" rather than "shifted"
    resemblances: deque = field(default_factory=lambda: deque(maxlen=10))  # to the reference, of recent flat pictures

    def background(self, thumb: np.ndarray, wall: float) -> None:
        """Fold one decoded picture's 64x36 thumbnail into the moved check, measured or not: every
        `MOVED_EVERY_S` it joins the background, which is scored against the references and votes. Its
        own cadence, whatever `check_sample_s` is: spacing the background's pictures by the sampling's
        multiple (12 s at 4 s) would line them up with a periodic scene (and the simulator's 6 s clips)."""
        settings = self.settings
        if "moved" not in settings.checks or wall - self.moved_at < 0.95 * MOVED_EVERY_S:
            return
        self.moved_at = wall
        self.history.append(thumb)
        if len(self.history) < 3:
            return
        self.latest = View.of(list(self.history), self.features)
        references = [r for r in self.references if r.night == self.latest_night]
        if not references:
            return
        score, self.moved_scene = min(moved_score(r.view, self.latest, settings.limits) for r in references)
        self._vote("moved").add(score)
        self.last_scores = {**self.last_scores, "moved": score}
        self._confirm_move(references)

    def observe(self, thumb: np.ndarray, sampled: PictureSample, wall: float, clock_day: bool) -> None:
        """Fold one sampled picture's measures in: score them, vote, confirm a move, learn from it if it is clean."""
        sample, settings = sampled.sample, self.settings
        night = is_night(sample, clock_day, settings.limits, self.baseline)
        if night != self.latest_night:
            self.history.clear()  # the day/night switch: a new background
        self.latest_night = night
        now_scores = scores(sample, self.baseline, clock_day, settings.limits)
        if sampled.features is not None:
            self.features, self.features_new = sampled.features, True
        references = [r for r in self.references if r.night == night]
        if references and now_scores.get("covered", 0.0) >= 1.0:  # a flat picture: fog or a cover?
            self.resemblances.append(max(resemblance(r.view, thumb) for r in references))
        now_scores = {c: s for c, s in now_scores.items() if c in settings.checks}
        for check, score in now_scores.items():
            self._vote(check).add(score)
        self._confirm_move(references)
        moved = {"moved": self.last_scores["moved"]} if "moved" in self.last_scores else {}
        self.last_scores = now_scores | moved
        # A picture that fails nothing teaches the baseline (one near a trigger too: dusk is normal).
        if all(s < 1.0 for s in self.last_scores.values()) and not any(v.failing for v in self.votes.values()):
            self.baseline.learn(sample, night)
            self._learn_reference(references, wall)

    def _learn_reference(self, references: list[Reference], wall: float) -> None:
        """The first clean background of each part of the day, with features, becomes its reference."""
        latest = self.latest
        if references or latest is None or len(self.history) < BACKGROUND_SAMPLES or latest.features is None:
            return
        self.references.append(Reference(latest, self.latest_night, wall, "hub"))

    def _vote(self, check: str) -> Vote:
        vote = self.votes.get(check)
        if vote is None:
            settings = self.settings
            vote = self.votes[check] = Vote(settings.vote_window, settings.vote_need, settings.clear_ratio)
        return vote

    def _confirm_move(self, references: list[Reference]) -> None:
        """A tripped moved vote is believed once features taken after it tripped do not show the view of
        any reference in place (too few features to tell: the vote decides); features that do clear it."""
        vote = self.votes.get("moved")
        if vote is None or not vote.failing:
            self.moved_confirmed, self.features_new = False, False
            return
        if self.moved_confirmed or not self.features_new:
            return
        verdicts = [confirm(r.view.features, self.features, self.settings.limits) for r in references]
        self.features_new = False
        if any(v is False for v in verdicts):
            vote.suspend()  # the scene is where it was: a busy moment, not a move
        elif all(v is True for v in verdicts) or not self.moved_scene or self._crisp():
            self.moved_confirmed = True

    def _crisp(self) -> bool:
        """Whether the picture is sharp and contrasted enough for "another scene" to be believed without
        features: a blurred or fogged picture has lost the edges the background was compared on."""
        clear = self.settings.clear_ratio
        return self.last_scores.get("blurred", 0.0) < clear and self.last_scores.get("low_contrast", 0.0) < clear

    def _fog(self) -> bool:
        """Whether a flat, faint picture is fog rather than a covered lens: low contrast fails too, and the
        recent flat pictures still showed the reference view (fog only fades the scene; a cover replaces it)."""
        low = self.votes.get("low_contrast")
        recent = self.resemblances
        return low is not None and low.failing and len(recent) >= 3 and float(np.median(recent)) >= FOG_RESEMBLANCE

    def suspend(self) -> None:
        """No signal or a black picture: the other picture checks have nothing to judge."""
        for vote in self.votes.values():
            vote.suspend()
        self.moved_confirmed = False
        self.history.clear()

    def tripped(self) -> list[str]:
        """Checks whose vote has tripped (for `moved`: and been confirmed), muted or not, less those a
        more fundamental one explains."""
        shown: list[str] = []
        for check in PRECEDENCE:
            vote = self.votes.get(check)
            if vote is None or not vote.failing or (check == "moved" and not self.moved_confirmed):
                continue
            if check == "covered" and self._fog():
                continue
            if not any(check in EXPLAINS.get(s, ()) for s in shown):
                shown.append(check)
        return sorted(shown, key=PICTURE_CHECKS.index)

    def failing(self, wall: float) -> tuple[str, ...]:
        """The checks to report now: tripped and not muted."""
        return tuple(c for c in self.tripped() if not self.is_muted(c, wall))

    def is_muted(self, check: str, wall: float) -> bool:
        mute = self.mutes.get(check)
        return mute is not None and mute.until > wall

    def accept_reference(self, by: str, wall: float) -> Reference | None:
        """The current view becomes the reference for its part of the day (a PTZ camera adds a preset)."""
        if self.latest is None:
            return None
        reference = Reference(self.latest, self.latest_night, wall, by)
        others = [r for r in self.references if r.night != reference.night]
        same = [r for r in self.references if r.night == reference.night] if self.settings.ptz else []
        self.references = others + same[-(MAX_PRESETS - 1) :] + [reference]
        if "moved" in self.votes:
            self.votes["moved"].suspend()
        self.moved_confirmed = False
        return reference

    def to_json(self, wall: float) -> dict:
        """For the API: what fails, what is muted (kept while it lasts), the references and the last scores."""
        return {
            "failing": list(self.failing(wall)),
            "muted": [m.to_json() for m in self.mutes.values() if m.until > wall],
            "references": [r.to_json() for r in self.references],
            "baseline_ready": {"day": self.baseline.ready(False), "night": self.baseline.ready(True)},
            "scores": {c: round(s, 3) if s != float("inf") else None for c, s in sorted(self.last_scores.items())},
        }
