"""A windowed run's metrics: a window's metric changes (:func:`window_arrays`, which the route's kernels add
into) and the run's totals, added up window by window with the story agents' logs, then turned into the
counts the day engines give (:class:`Totals`)."""

from __future__ import annotations

import numpy as np

from ...compile import CONS, SE, P, Plan
from ...rng import Stream, stream_key
from ..histogram import run_snapshot_days, score_bins
from .. import rules
from ..features import agency_sources
from ..threads import work_slots
from .agent import KIDS_ROW
from .draws import child_of
from .model import SC, followed_list

__all__ = ["Totals", "window_arrays"]

R = rules.make(lambda f: f)  # the model's rules (engine/rules.py), uncompiled: the count of agencies


def window_arrays(C: int, W: int, NT: int, NB: int, n_snaps: int, n_bins: int, NL: int = 1,
                   false: bool = False, states: int = 2, kids: bool = False, rows: int | None = None) -> tuple:
    """A window's metric changes: (tiers, entries and exits per list, by ties, recovery marks,
    detected acts by state (and, with ``false`` attributions, false ones), network penalties, snapshots, first
    deductions, new false records, innocent listed per list, with four ``states`` the sanctioned by side
    of the deterrence line, and where sanctions pass to children (``kids``) the children under them, and
    each work item's days for its households' children, ``agent.KIDS`` in a row of ``agent.KIDS_ROW``). A row
    (the first axis) for each work item that may run at once (``rows``, by default ``threads.work_slots``), not
    one per work item: the rows are added up, and a row per item made press-2018's arrays 348 MB at 21.7 M
    agents (64 items), each item's rows first touched, and added up, anew."""
    R = work_slots() if rows is None else rows
    z = lambda *shape: np.zeros(shape, np.int64)  # noqa: E731
    F = 1 if false else 0
    return (z(R, C, W + 1, NT), z(R, C, NL, W + 1), z(R, C, NL, W + 1), z(R, C, W + 1),
            z(R, C, W + 1), z(R, C, states, W + 1, NB * (1 + F)), z(R, C, W + 1),
            z(R, n_snaps + 1, n_bins), z(R, C, W + 1), z(R, C, (W + 1) * F),
            z(R, C, NL * F, W + 1), z(R, C, 2, W + 1) if states == 4 else z(1, 1, 1, 1),
            z(R, C, W + 1) if kids else z(1, 1, 1), z(R if kids else 1, KIDS_ROW))


class Totals:
    """The run's metrics, added up window by window, and the story agents' logs."""

    ARRAYS = ("tdiff", "ent", "ext", "ties", "rec", "net", "detc", "hist", "first", "marked", "innocent", "red", "sanc",
              "kid",
              "kid_state",
              "story_scores", "story_det", "story_group", "story_und", "story_applies", "story_att")

    def __init__(self, plan: Plan, m, story: list[int], cells: np.ndarray):
        days, NT, NB, C = plan.days, len(plan.tier_names), len(plan.behaviour_names), plan.n_cells
        self.plan, self.m, self.story = plan, m, story
        self.cells = dict(zip(story, (int(c) for c in cells)))  # the story agents' cells
        self.tdiff = np.zeros((C, days + 1, NT), np.int64)
        NL = len(m.lists)
        self.ent, self.ext = np.zeros((C, NL, days + 1), np.int64), np.zeros((C, NL, days + 1), np.int64)
        self.ties, self.rec, self.net, self.first, self.red = (np.zeros((C, days + 1), np.int64) for _ in range(5))
        F = 1 if len(m.fb) else 0  # false attributions: columns NB + b of the acts, records carried, innocent listed
        S = m.keep.shape[1]  # the states (model.state_codes)
        self.detc = np.zeros((C, S, days + 1, NB * (1 + F)), np.int64)
        self.sanc = np.zeros((C, 2, days + 1) if S == 4 else (1, 1, 1), np.int64)  # the sanctioned by side (changes)
        self.kid = np.zeros((C, days + 1), np.int64)  # the children under their adults' list sanctions (changes)
        # the children's state each day (children neither act nor lose points: all are in one state, a child's)
        base = m.scalars[SC.BASE]
        self.kid_state = np.full(days, int(base < m.scalars[SC.DETER]), np.int64)
        self.marked = np.zeros((C, (days + 1) * F), np.int64)
        self.innocent = np.zeros((C, NL * F, days + 1), np.int64)
        self.hist = np.zeros((len(run_snapshot_days(plan)), score_bins(plan)[2]), np.int64)
        self.rows: list = []
        self.story_scores = np.zeros((days, len(story)), np.int16)
        self.story_det = np.zeros((C, S, days, NB), np.int64)    # story agents' detected acts
        self.story_group = np.zeros((C, S, days), np.int64)      # story agents per cell and state, by day
        self.story_und = np.zeros((C, S, days, NB), np.int64)    # their undetected acts
        NC = max(len(plan.consequence_names), 1)
        self.story_applies = np.zeros((C, days, NC), np.int64)    # story agents ending a day under a consequence
                                                                 # with attempts
        self.story_att = np.zeros((C, days, NC), np.int64)        # and their attempts

    def saved(self) -> dict:
        """The totals as named arrays (a checkpoint's)."""
        return {**{k: getattr(self, k) for k in self.ARRAYS}, "rows": self.story_rows()}

    def restore(self, arrays: dict) -> None:
        for k in self.ARRAYS:
            if k not in arrays:
                raise ValueError(f"a windowed checkpoint lacks the array {k!r}: it was written by an older scslab")
            if getattr(self, k).shape != arrays[k].shape:
                raise ValueError(f"a windowed checkpoint's {k} has shape {arrays[k].shape}, the run's "
                                 f"{getattr(self, k).shape}")
            getattr(self, k)[...] = arrays[k]
        self.rows = [tuple(int(v) for v in row) for row in arrays["rows"]]

    def add_window(self, d0: int, W: int, D: tuple, snap_index: np.ndarray, red=None) -> None:
        """Add a window's metric changes ``D`` (and the records removed per day, ``red``, with redress)."""
        tdiff, ent, ext, ties, rec, detc, net, hist, first, marked, innocent, sanc, kid = (d.sum(axis=0) for d in D[:13])
        if kid.shape[1] > 1:
            self.kid[:, d0:d0 + W + 1] += kid
        if self.m.keep.shape[1] == 4:
            self.sanc[:, :, d0:d0 + W + 1] += sanc
        if red is not None:
            self.red[:, d0:d0 + W + 1] += red.sum(axis=0)
        self.tdiff[:, d0:d0 + W + 1] += tdiff
        for total, part in ((self.ent, ent), (self.ext, ext), (self.ties, ties), (self.rec, rec), (self.net, net),
                             (self.first, first), (self.marked, marked), (self.innocent, innocent)):
            total[..., d0:d0 + W + 1] += part
        self.detc[:, :, d0:d0 + W + 1] += detc
        self.hist[snap_index] += np.cumsum(hist, axis=0)[:len(snap_index)]

    def add_story(self, a: int, d0: int, r: dict, c: int) -> None:
        k = self.story.index(a)
        W = len(r["scores"])
        self.rows.extend(r["rows"])
        self.story_scores[d0:d0 + W, k] = r["scores"]
        for d, (st, acts) in enumerate(zip(r["states"], r["detected"])):
            self.story_group[c, st, d0 + d] += 1
            for b in acts:
                self.story_det[c, st, d0 + d, b] += 1
        for d, ks in enumerate(r["applies"]):
            for k in ks:
                self.story_applies[c, d0 + d, k] += 1
        for row in r["rows"]:
            if row[3] == SE.act_undetected:
                day = row[2]
                self.story_und[c, r["states"][day - d0], day, row[4]] += 1
            elif row[3] in (SE.reward_granted, SE.attempt_blocked):
                self.story_att[c, row[2], row[4]] += 1

    def story_rows(self) -> np.ndarray:
        return np.array(self.rows, np.int64).reshape(-1, 6)

    def counts(self, people: np.ndarray, kids: np.ndarray) -> np.ndarray:
        """counts[day, metric, cell] as the day engines give them (levels summed up); ``people`` and the
        children among them (``kids``) per cell."""
        plan, m = self.plan, self.m
        days, NT = plan.days, len(plan.tier_names)
        prm = plan.epochs[0].prm
        out = np.zeros((days, len(plan.metric_names), plan.n_cells), np.int64)
        t0 = int(np.sum(m.scalars[SC.BASE] < m.mins))
        tiers = np.cumsum(self.tdiff, axis=1)[:, :days]          # [cell, day, tier]
        tiers[:, :, t0] += people[:, None]
        out[:, prm[P.M_TIER]:prm[P.M_TIER] + NT] = tiers.transpose(1, 2, 0)
        NL = len(m.lists)
        listed = np.cumsum(self.ent - self.ext, axis=2)[:, :, :days]  # [cell, list, day]
        out[:, prm[P.M_LISTED]:prm[P.M_LISTED] + NL] = listed.transpose(2, 1, 0)
        out[:, prm[P.M_ENTERED]:prm[P.M_ENTERED] + NL] = self.ent[:, :, :days].transpose(2, 1, 0)
        out[:, prm[P.M_EXITED]:prm[P.M_EXITED] + NL] = self.ext[:, :, :days].transpose(2, 1, 0)
        under = self._under(listed, tiers)                        # [cell, day, consequence]
        out[:, prm[P.M_SANCT]:prm[P.M_SANCT] + prm[P.NC]] = under.transpose(1, 2, 0)
        out[:, prm[P.M_ATTEMPT]:prm[P.M_ATTEMPT] + prm[P.NC]] = self._attempts(under).transpose(1, 2, 0)
        agencies = self._agencies(listed, tiers)                  # [cell, day, K - 1]
        out[:, prm[P.M_AGENCIES]:prm[P.M_AGENCIES] + agencies.shape[2]] = agencies.transpose(1, 2, 0)
        # sanctioned only through ties: changes, from everyone at the start (nobody has offended) in the base
        # tier, sanctioned there when it carries a sanction
        by_tier = (m.scalars[SC.STIERS] >> t0) & 1
        out[:, prm[P.M_TIES]] = (np.cumsum(self.ties, axis=1)[:, :days] + by_tier * people[:, None]).T
        out[:, prm[P.M_RECOVERED]] = np.cumsum(self.rec, axis=1)[:, :days].T
        out[:, prm[P.M_NET]] = self.net[:, :days].T
        out[:, prm[P.M_PENALISED]] = self.first[:, :days].T
        out[:, prm[P.M_REDRESSED]] = self.red[:, :days].T
        NB = len(plan.behaviour_names)
        detected = self.detc[:, :, :days, :NB].sum(axis=1)       # [cell, day, b]
        out[:, prm[P.M_DETECTED]:prm[P.M_DETECTED] + NB] = detected.transpose(1, 2, 0)
        if len(m.fb):  # false attributions, the people carrying a false record, and the innocent listed
            out[:, prm[P.M_FALSE]:prm[P.M_FALSE] + NB] = self.detc[:, :, :days, NB:].sum(axis=1).transpose(1, 2, 0)
            out[:, prm[P.M_FALSE_MARKED]] = np.cumsum(self.marked, axis=1)[:, :days].T
            out[:, prm[P.M_INNOCENT]:prm[P.M_INNOCENT] + NL] = (
                np.cumsum(self.innocent, axis=2)[:, :, :days].transpose(2, 1, 0))
        acts = detected + self._undetected(tiers, people, kids)
        out[:, prm[P.M_ACTS]:prm[P.M_ACTS] + len(plan.behaviour_names)] = acts.transpose(1, 2, 0)
        return out

    def _under(self, listed: np.ndarray, tiers: np.ndarray) -> np.ndarray:
        """The people under each consequence at the end of each day [cell, day, consequence]: those on its list
        for one that follows a list (``listed``: [cell, list, day]), those in its tiers for one that follows
        tiers (``tiers``: [cell, day, tier]; the route runs no consequence that follows both, or two lists)."""
        cons = self.plan.epochs[0].cons
        on_tiers = (cons[:, CONS.TIERS][:, None] >> np.arange(tiers.shape[2])[None, :]) & 1      # [k, tier]
        under = tiers @ on_tiers.T
        kids = np.cumsum(self.kid, axis=1)[:, :self.plan.days]
        for k in range(len(cons)):
            if cons[k, CONS.CHILDREN] != 0:  # the children of adults on its lists, from the next day on
                under[:, :, k] = kids
            elif cons[k, CONS.LISTS] != 0:
                under[:, :, k] = listed[:, followed_list(cons[k, CONS.LISTS])]
        return under

    def _agencies(self, listed: np.ndarray, tiers: np.ndarray) -> np.ndarray:
        """People under the measures of exactly K agencies at the end of each day [cell, day, K - 1]. The route
        runs only scenarios where one thing puts a person under agencies' measures (``features.agency_sources``:
        one list, the tiers, or its adults' listing), so everyone that source holds is under the same agencies:
        all of a list's, or a tier's, or those passed to children."""
        plan = self.plan
        cons = plan.epochs[0].cons
        out = np.zeros((listed.shape[0], plan.days, sum(n.startswith("under_agencies:") for n in plan.metric_names)),
                       np.int64)
        rows = cons[cons[:, CONS.AGENCY] != 0]
        source = agency_sources(cons)
        if not source:
            return out
        if source == {"children"}:
            out[:, :, _count(rows) - 1] = np.cumsum(self.kid, axis=1)[:, :plan.days]
        elif source == {"tiers"}:
            for t in range(tiers.shape[2]):
                on_t = rows[(rows[:, CONS.TIERS] >> t) & 1 != 0]
                if len(on_t):
                    out[:, :, _count(on_t) - 1] += tiers[:, :, t]
        else:
            (_, l), = source  # (features: "mixed-joint-punishment" is refused here; no account here either)
            out[:, :, _count(rows) - 1] = listed[:, l]
        return out

    def _attempts(self, under: np.ndarray) -> np.ndarray:
        """Attempts under the consequences [cell, day, consequence]: the story agents' own, and Binomial(the
        others ending the day under it, the daily chance) for everyone else (``engine/attempts.py`` counts the
        lazy scheduler's attempts by tier the same way)."""
        plan = self.plan
        NC = len(plan.consequence_names)
        p = plan.epochs[0].cons[:, CONS.ATTEMPT] / 2.0**32 if NC else np.zeros(0)
        if not np.any(p > 0):
            return np.zeros((under.shape[0], plan.days, NC), np.int64)
        others = np.maximum(under - self.story_applies[:, :, :NC], 0)      # [cell, day, consequence]
        gen = np.random.Generator(np.random.Philox(key=int(stream_key(plan.seed, Stream.ATTEMPT_COUNT, 0))))
        return gen.binomial(others, p[None, None, :]) + self.story_att[:, :, :NC]

    def _undetected(self, tiers: np.ndarray, people: np.ndarray, kids: np.ndarray) -> np.ndarray:
        """Undetected acts [class, day, b]: the story agents' own, and Binomial(others without a detected act
        of b, r_b) for every other adult of a class and state at the start of the day (``model.state_codes``:
        the side of the deterrence line, and where sanctions change act rates whether under one;
        ``engine/detected.py``; children do not act: all of them are in a child's state, ``kid_state``)."""
        plan, m = self.plan, self.m
        days = plan.days
        S = m.keep.shape[1]
        t0 = int(np.sum(m.scalars[SC.BASE] < m.mins))
        start = np.concatenate([np.zeros((tiers.shape[0], 1, tiers.shape[2]), np.int64), tiers[:, :-1]], axis=1)
        start[:, 0, t0] = people
        deterred = start[:, :, m.deter_tier:].sum(axis=2)               # [class, day] at the start of the day
        group = np.zeros((tiers.shape[0], S, days), np.int64)
        group[:, 0], group[:, 1] = start.sum(axis=2) - deterred, deterred
        if S == 4:  # the sanctioned by side at the start of each day: at the end of the day before
            ends = np.cumsum(self.sanc, axis=2)[:, :, :days]
            sanct = np.concatenate([np.zeros_like(ends[:, :, :1]), ends[:, :, :-1]], axis=2)
            sanct[:, int(t0 >= m.deter_tier), 0] = people * ((m.scalars[SC.STIERS] >> t0) & 1)
            group[:, :2] -= sanct
            group[:, 2:] = sanct
        group -= self.story_group
        story_kids = np.zeros_like(kids)  # the children among the story agents (counted in story_group)
        for a in self.story:
            if child_of(a, m.adult):
                story_kids[self.cells[a]] += 1
        others = (kids - story_kids)[:, None]
        for st in range(S):
            group[:, st] -= others * (self.kid_state == st)[None, :]
        NB = len(plan.behaviour_names)
        others = group[..., None] - (self.detc[:, :, :days, :NB] - self.story_det)             # [c, st, day, b]
        gen = np.random.Generator(np.random.Philox(key=int(stream_key(plan.seed, Stream.UNDETECTED_COUNT, 0))))
        und = m.und[:, :, None, :] if m.by_day is None else m.by_day.und.transpose(1, 2, 0, 3)  # [c, st, day, b]
        drawn = gen.binomial(np.maximum(others, 0), und)
        return (drawn + self.story_und).sum(axis=1)


def _count(rows: np.ndarray) -> int:
    """How many agencies deliver the consequences ``rows`` (their ``CONS.AGENCY`` bits, OR-ed)."""
    return R.agency_count(int(np.bitwise_or.reduce(rows[:, CONS.AGENCY])))
