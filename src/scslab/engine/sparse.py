"""Between two passes: network penalties, children's inherited sanctions and redress (shared by the day
schedulers). The sparse pass runs in parallel by target, so each agent's points add up in record order
whatever the threads."""

from __future__ import annotations

from types import SimpleNamespace

import numba
import numpy as np
from numba import njit, prange

from .. import encodings
from ..compile import BEH, EVENT, FLAG, INBOX, REC, SE, P, Plan
from .bits import prefetch
from .compiled import CACHE, K
from .kernels import EMIT_WIDTH, I16
from .state import Columns

__all__ = ["make", "tie_targets", "sparse_pass", "redress_pass", "sparse_parts", "sparse", "apply_redress",
           "remove_due"]

def make(K, jit, prefetch, reserve):
    """The sparse pass's work, from the per-agent functions ``K`` (``kernels.build``), compiled with ``jit``:
    ``targets_of(j, ...)`` (one record's matched ties), ``lane(ln, ...)`` (one lane's changes) and
    ``redress(...)`` (the contested records due today removed, in order), run by the CPU's drivers below and by
    the GPU's threads (``engine/gpu.py``). ``prefetch(a, i)`` hints that a tie's column will be read soon (nothing
    on a GPU); ``reserve(n_out, ln)`` gives lane ``ln`` the next row of its story buffer (on the CPU a lane's
    own count, on a GPU one count shared by every lane)."""
    partner, household_head, region_of, clamp = K.partner, K.household_head, K.region_of, K.clamp
    household_relation, matching_relation, matching_block = K.household_relation, K.matching_relation, K.matching_block
    tie_gone = K.tie_gone
    network_arg = jit(encodings.network_arg)

    @jit
    def wake_up(wake, m):
        """Mark agent m to be visited at the next pass (lazy engine; ``wake`` is empty for the dense engine)."""
        if wake.shape[0] > 0:
            wake[m >> 6] |= np.uint64(1) << np.uint64(m & 63)

    @jit
    def penalise(m, pts, pending, traits, flags, starts, T, net_cnt, wake):
        """Network penalty of ``pts`` for tie ``m``: pending points and the count; whether m has a story (for a
        story row). Children are not scored (they keep the base score), so a tie who is a child loses nothing;
        nor does a kind of tie the behaviour costs nothing."""
        if (flags[m] & FLAG.ADULT) == 0 or pts == 0:
            return False
        pending[m] = clamp(np.int64(pending[m]) + pts, -I16, I16)
        wake_up(wake, m)
        net_cnt[region_of(m, starts) * T + np.int64(traits[m])] += 1
        return (flags[m] & FLAG.STORY) != 0

    @jit
    def story(o, sq, s, order, m, day, b, rel, src, pts):
        """Story row ``s``: m lost ``pts`` for an act of tie ``src`` (behaviour b, m being its ``rel``,
        ``encodings.network_arg``), at ``order`` in the serial order."""
        o[s, REC.KIND], o[s, REC.AGENT], o[s, REC.DAY] = EVENT.STORY, m, day
        o[s, REC.A], o[s, REC.B], o[s, REC.C] = SE.network_penalty, network_arg(b, rel, src), pts
        sq[s] = order

    @jit
    def targets_of(j, rec, prm, starts, keys, ties, targets):
        """``targets[j, k]``: the tie in matching k (friends', then colleagues') of record j's agent, for a
        network record that penalises matched ties (-1 elsewhere, and where ostracism broke the tie: bit k of
        either end's ``ties`` word, ``engine.ostracism``)."""
        n = prm[P.N]
        for k in range(targets.shape[1]):
            targets[j, k] = -1
        if rec[j, REC.KIND] == EVENT.NETWORK and rec[j, REC.C] != 0:
            a = rec[j, REC.AGENT]
            for k in range(prm[P.K]):
                lo, hi = matching_block(a, k, starts, prm[P.K_LOCAL], prm[P.K_FRIENDS], n)
                m = partner(a, k, lo, hi, keys)
                if prm[P.HAS_SHUN] != 0 and m >= 0 and tie_gone(np.int64(ties[a]), np.int64(ties[m]), k):
                    m = -1
                targets[j, k] = m

    @jit
    def lane(ln, rec, targets, cols, prm, beh, starts, hh_head, hh_size, hh_adult, parts, nc, o, sq, n_out, wake):
        """Lane ``ln`` of :func:`sparse_pass`: every change whose target lies in ``parts[ln] .. parts[ln + 1]``,
        in record order, counted in ``nc`` (per cell), story rows in ``o`` with their order in ``sq``."""
        pending, on_lists, traits, flags, inbox = cols[1], cols[4], cols[5], cols[6], cols[7]
        n = prm[P.N]
        T = prm[P.T]
        B = hh_head.shape[0]
        W = prm[P.K] + 16
        t0, t1 = parts[ln], parts[ln + 1]
        for j in range(rec.shape[0]):
            if j + 16 < rec.shape[0]:  # the ties of the record 16 on (-1 for other records): fetch their columns
                for k in range(targets.shape[1]):
                    mm = targets[j + 16, k]
                    if mm >= t0 and mm < t1:
                        prefetch(pending, mm)
                        prefetch(traits, mm)
                        prefetch(flags, mm)
            kind, a, day = rec[j, REC.KIND], rec[j, REC.AGENT], rec[j, REC.DAY]
            if kind == EVENT.NETWORK:
                b, hh, matched = rec[j, REC.A], rec[j, REC.B], rec[j, REC.C]
                if hh != 0 and prm[P.HAS_HH] != 0:
                    head = household_head(a, hh_head)
                    for m in range(max(head, t0), min(head + hh_size[a % B], n, t1)):
                        if m != a:
                            rel = household_relation(a, m, head, hh_adult)
                            pts = beh[b, BEH.NET + rel]
                            if penalise(m, pts, pending, traits, flags, starts, T, nc, wake):
                                story(o, sq, reserve(n_out, ln), j * W + (m - head), m, day, b, rel, a, pts)
                if matched != 0:
                    for k in range(prm[P.K]):
                        m = targets[j, k]
                        if m >= t0 and m < t1:
                            rel = matching_relation(k, prm[P.K_FRIENDS], prm[P.BEST])
                            pts = beh[b, BEH.NET + rel]
                            if penalise(m, pts, pending, traits, flags, starts, T, nc, wake):
                                story(o, sq, reserve(n_out, ln), j * W + 16 + k, m, day, b, rel, a, pts)
            elif kind == EVENT.LIST_CHANGE:
                head = household_head(a, hh_head)
                end = min(head + hh_size[a % B], n)
                if end <= t0 or head >= t1:
                    continue
                any_listed = False
                for m in range(head, end):
                    if hh_adult[m % B] == 1 and (np.int64(on_lists[m]) & prm[P.CHILD_LISTS]) != 0:
                        any_listed = True
                for m in range(max(head, t0), min(end, t1)):
                    if hh_adult[m % B] == 0:
                        if any_listed:
                            inbox[m] = (inbox[m] | INBOX.CHILD_ON) & (0xFF ^ INBOX.CHILD_OFF)
                        else:
                            inbox[m] = (inbox[m] | INBOX.CHILD_OFF) & (0xFF ^ INBOX.CHILD_ON)
                        wake_up(wake, m)

    @jit
    def redress(r, d, on_score, acct_pts, pending, acct, inbox, traits, flags, starts, T, m_redressed, cnt, wake,
                out):
        """The contested false records ``r`` due on day ``d`` removed, in order: each one's points come back (to
        the score where ``on_score[j]``, else to the account, capped at ``acct_pts``), the mark is cleared at the
        end of the day, the count and a story row if its agent has one. Returns the story rows written."""
        nout = 0
        for j in range(r.shape[0]):
            a, b, pts = r[j, REC.AGENT], r[j, REC.A], r[j, REC.B]
            if on_score[j]:
                pending[a] = clamp(np.int64(pending[a]) - pts, -30000, 30000)
            else:
                acct[a] = min(np.int64(acct[a]) - pts, acct_pts)
            inbox[a] = inbox[a] | INBOX.CLEAR_FALSE
            wake_up(wake, a)
            cnt[m_redressed, region_of(a, starts) * T + np.int64(traits[a])] += 1
            if (flags[a] & FLAG.STORY) != 0:
                out[nout, REC.KIND], out[nout, REC.AGENT], out[nout, REC.DAY] = EVENT.STORY, a, d
                out[nout, REC.A], out[nout, REC.B], out[nout, REC.C] = SE.redress, b, -pts
                nout += 1
        return nout

    return SimpleNamespace(wake_up=wake_up, targets_of=targets_of, lane=lane, redress=redress)


@njit(inline="always", nogil=True)
def _next_row(n_out, ln):
    """A lane's next story row: its own count (``make``'s ``reserve`` on the CPU)."""
    s = n_out[ln]
    n_out[ln] = s + 1
    return s


S = make(K, njit(inline="always", nogil=True), prefetch, _next_row)
_targets_of, _lane, _redress = S.targets_of, S.lane, S.redress


@njit(parallel=True, nogil=True, cache=CACHE)
def tie_targets(rec, prm, starts, keys, ties, targets):
    """``targets[j, k]`` for every record (``make``'s ``targets_of``): the Feistel work of the sparse pass,
    done once per record before :func:`sparse_pass` applies the penalties."""
    for j in prange(rec.shape[0]):
        _targets_of(j, rec, prm, starts, keys, ties, targets)


@njit(parallel=True, nogil=True, cache=CACHE)
def sparse_pass(rec, targets, cols, prm, beh, starts, hh_head, hh_size, hh_adult, parts, net_cnt, out, seq, n_out,
                wake):
    """Network penalties and children's inherited sanctions: each tie loses the points of its kind
    (``beh[b, BEH.NET + rel]``). Matched ties come from ``targets``
    (:func:`tie_targets`). Every agent whose points or inbox change is marked in ``wake`` (the lazy engine's
    next pass).

    Lane ``ln`` applies, in record order, every change whose target lies in ``parts[ln] .. parts[ln + 1]``
    (multiples of 64, so lanes share no wake word): each agent's points add up in record order, whatever
    the lanes. Story rows go to ``out[ln]``, with their place in the serial order in ``seq[ln]`` (record x
    (K + 16) + member or 16 + matching), for the driver to merge; ``n_out[ln]`` counts them."""
    for ln in prange(parts.shape[0] - 1):
        _lane(ln, rec, targets, cols, prm, beh, starts, hh_head, hh_size, hh_adult, parts, net_cnt[ln], out[ln],
              seq[ln], n_out, wake)


@njit(nogil=True, cache=CACHE)
def redress_pass(r, d, on_score, acct_pts, pending, acct, inbox, traits, flags, starts, T, m_redressed, cnt, wake,
                 out):
    """The due records ``r`` removed in order (``make``'s ``redress``); returns the story rows written."""
    return _redress(r, d, on_score, acct_pts, pending, acct, inbox, traits, flags, starts, T, m_redressed, cnt, wake,
                    out)


def sparse_parts(n: int, lanes: int | None = None) -> np.ndarray:
    """The sparse pass's target ranges, ``lanes`` of them (default: one per thread): multiples of 64 (no two
    share a wake word)."""
    L = max(1, numba.get_num_threads() if lanes is None else lanes)
    parts = np.linspace(0, n, L + 1).astype(np.int64) // 64 * 64
    parts[-1] = n
    return parts


def sparse(plan: Plan, ep, rec: np.ndarray, cols: Columns, wake: np.ndarray, parts: np.ndarray):
    """The sparse pass over one pass's records: (story rows in record order, network penalties per cell)."""
    ct = cols.as_tuple()
    K = int(ep.prm[P.K])
    targets = np.empty((len(rec), K), np.int64)
    tie_targets(rec, ep.prm, plan.region_starts, plan.friend_keys, cols.ties, targets)
    L = len(parts) - 1
    # story rows: at most one per tie reached (a household has at most 16 members); uninitialised, as only
    # the rows written are read
    rows = int(np.count_nonzero(rec[:, REC.KIND] == EVENT.NETWORK)) * (K + 16) + 1
    out, seq = np.empty((L, rows, EMIT_WIDTH), np.int64), np.empty((L, rows), np.int64)
    n_out = np.zeros(L, np.int64)
    net_cnt = np.zeros((L, plan.n_cells), np.int64)
    sparse_pass(rec, targets, ct, ep.prm, ep.beh, plan.region_starts, plan.hh_head, plan.hh_size, plan.hh_adult, parts,
                net_cnt, out, seq, n_out, wake)
    stories = np.concatenate([out[ln, : n_out[ln]] for ln in range(L)])
    order = np.argsort(np.concatenate([seq[ln, : n_out[ln]] for ln in range(L)]), kind="stable")
    return stories[order], net_cnt.sum(axis=0)


def apply_redress(plan: Plan, ep, cols, redress: np.ndarray, d: int, cnt_a, stories, wake: np.ndarray,
                  remove=None) -> np.ndarray:
    """Remove the contested false records whose delay ends today, with ``remove`` (a backend's: the CPU's is
    :func:`remove_due`), their story rows appended to ``stories``; returns those still waiting."""
    due = redress[:, REC.DAY] == d
    if due.any():
        r = np.ascontiguousarray(redress[due])
        on_score = ep.beh[r[:, REC.A], BEH.ACCOUNT] < 0
        stories.append((remove or remove_due)(plan, ep, cols, r, on_score, d, cnt_a[0], wake))
    return redress[redress[:, REC.DAY] > d]


def remove_due(plan: Plan, ep, cols: Columns, r: np.ndarray, on_score: np.ndarray, d: int, cnt: np.ndarray,
               wake: np.ndarray) -> np.ndarray:
    """The due records ``r`` removed on the CPU (:func:`redress_pass`), counted into ``cnt[metric, cell]``;
    returns their story rows."""
    out = np.empty((len(r), EMIT_WIDTH), np.int64)  # (only the rows written are read)
    nout = redress_pass(r, d, on_score, ep.prm[P.ACCT_PTS], cols.pending, cols.acct, cols.inbox, cols.traits,
                        cols.flags, plan.region_starts, ep.prm[P.T], ep.prm[P.M_REDRESSED], cnt, wake, out)
    return out[:nout]
