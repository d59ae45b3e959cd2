"""Rules of the model written once, each with the closed form that summarises it, built for any compiler.

``make(jit)`` compiles the rules with ``jit``: ``numba.njit(inline="always")`` for the CPU schedulers, the
identity for plain Python (the reference, and ``NUMBA_DISABLE_JIT=1``); the same source can be compiled as
CUDA device functions. A closed form sits beside the rule it summarises, and ``tests/properties/
test_rules.py`` checks it against stepping the rule day by day.

**Recovery** (``docs/model.md``, end of day): an agent whose last detected offence was at least
``rec_quiet`` days ago and whose score is below ``rec_upto`` gains ``rec_pts`` points, up to ``rec_upto``.

- :func:`recovers` and :func:`recovery_step` are the rule, one day at a time.
- Closed form: an idle agent below the ceiling, quiet from day ``a`` on (``a = max(last_off + rec_quiet,
  0)``) with score ``sv`` at the end of day ``a - 1``, has :func:`recovered` ``(sv, a, u)`` at the end of day
  ``u``, and needs :func:`steps` ``(gap)`` steps to gain ``gap`` points (its j-th step falls on day
  ``a + j - 1``).

**Lists** (``docs/model.md``, end of day): an agent not on a list enters it on a publication day when it
meets the entry condition; a listed agent leaves on a publication day when it meets the exit condition and
has been listed at least the minimum term (a repaid debt needs no minimum term), and on any day when its
maximum term (plus its random extra days) is over.

- :func:`enters`, :func:`exit_met` and :func:`leaves` are the rule, one day at a time.
- Closed form: an agent not on a list that meets its entry condition on every day from ``u`` on enters it
  on :func:`published` ``(u, every)``, the first publication day from ``u`` on.
- Closed form: a listed agent that meets the exit condition on every day from ``met_from`` on leaves on
  :func:`first_exit` (listed since ``since``, publication on the days that are multiples of ``every``,
  maximum term over on ``term_end``).

**Ostracism** (``docs/model.md``, end of day): a person on one of the shunning lists or in one of the
shunning tiers is shunned; at the end of each day on which it is shunned, each of its friend and colleague
ties still standing breaks with probability ``rate`` (the friend drops it), for good. A published list whose
shaming costs ties (``scslab.shaming``) shuns its people at its own rate; a person shunned twice over breaks
ties at the higher rate.

- :func:`shunned` is who, :func:`shun_threshold` at what rate; the breaks are drawn by ``engine.kernels.finish`` and applied by
  ``engine.ostracism.break_ties``; :func:`tie_gone` says whether a tie was dropped, for every step that
  follows ties (network penalties, awareness).
- Closed form: a person shunned for ``days`` end of days, whose ties no other shunned person breaks, keeps on
  average :func:`ties_kept` ``(had, rate, days) = had (1 - rate) ** days`` of the ``had`` it started with.
"""

from __future__ import annotations

from types import SimpleNamespace

from ..encodings import ENTER, EXIT, P

__all__ = ["make"]


def make(jit) -> SimpleNamespace:
    """The rules compiled with ``jit``, as a namespace of functions."""

    @jit
    def recovers(s, quiet, rec_quiet, rec_pts, rec_upto):
        """Whether a day ending with score ``s``, ``quiet`` days after the last detected offence, brings a
        recovery step."""
        return rec_pts > 0 and s < rec_upto and quiet >= rec_quiet

    @jit
    def recovery_step(s, rec_pts, rec_upto):
        """The score after one recovery step."""
        return min(s + rec_pts, rec_upto)

    @jit
    def steps(gap, rec_pts):
        """Recovery steps of ``rec_pts`` points that close a positive ``gap``: ceil(gap / rec_pts). One point a
        day, the common case, needs no division (a 64-bit division costs as much as the rest of a visit)."""
        if rec_pts == 1:
            return gap
        return (gap + rec_pts - 1) // rec_pts

    @jit
    def recovered(sv, a, u, rec_pts, rec_upto):
        """The score at the end of day ``u`` of an idle agent below the ceiling whose score was ``sv`` at the
        end of day ``a - 1`` and who recovers on every day from ``a`` on."""
        return min(rec_upto, sv + rec_pts * max(0, u - a + 1))

    @jit
    def enters(kind, arg, tier, confiscated, debt):
        """Whether an agent ending the day in ``tier`` (tiers numbered from the best, 0), with its account at
        zero (``confiscated``) or a court debt (``debt``), meets a list's entry condition ``kind`` (``ENTER``)
        with its argument ``arg`` (a tier)."""
        if kind == ENTER.TIER_AT_MOST:
            return tier >= arg
        if kind == ENTER.TIER_AT_LEAST:
            return tier <= arg
        if kind == ENTER.ACCOUNT_ZERO:
            return confiscated
        return debt

    @jit
    def exit_met(kind, arg, tier, confiscated, debt):
        """Whether a listed agent meets the list's exit condition ``kind`` (``EXIT``) with its argument ``arg``;
        ``EXIT.NEVER``: never (only a maximum term ends the listing)."""
        if kind == EXIT.TIER_AT_LEAST:
            return tier <= arg
        if kind == EXIT.TIER_AT_MOST:
            return tier >= arg
        if kind == EXIT.ACCOUNT_RESTORED:
            return not confiscated
        if kind == EXIT.REPAID:
            return not debt
        return False

    @jit
    def leaves(publish, met, dur, min_days, repaid, max_days, extra):
        """Whether an agent listed ``dur`` days ago leaves at the end of the day: on a publication day
        (``publish``) when it meets the exit condition (``met``) after the minimum term (none for a repaid
        debt, ``repaid``), or on any day once its maximum term (``max_days`` < 0: none) plus ``extra`` days
        is over."""
        if publish and met and (dur >= min_days or repaid):
            return True
        return max_days >= 0 and dur >= max_days + extra

    @jit
    def published(u, every):
        """The first publication day (a multiple of ``every``) from day ``u`` on: an agent that meets a list's
        entry condition on every day from ``u`` on enters it that day."""
        if every > 1:
            return -(-u // every) * every
        return u

    @jit
    def first_exit(since, met_from, min_days, every, term_end):
        """The day a listed agent leaves when it meets the exit condition on every day from ``met_from`` on and
        on none before: the first publication day (a multiple of ``every``) from the end of its minimum term
        (listed on ``since``; a repaid debt has none: pass 0) and ``met_from`` on, or the day its maximum
        term is over, ``term_end`` (``since`` + maximum term + extra days; a day past the window when it has
        none), if earlier. Exits begin the day after the listing: ``met_from`` is at least ``since + 1``, and
        a term of 0 days ends on ``since + 1``."""
        return min(published(max(since + min_days, met_from), every), max(term_end, since + 1))

    @jit
    def shunned(on, tier, shun_lists, shun_tiers):
        """Whether a person on the lists ``on`` (bit mask) in ``tier`` is shunned, given the shunning lists and
        tiers as masks."""
        return (on & shun_lists) != 0 or ((shun_tiers >> tier) & 1) != 0

    @jit
    def shun_threshold(on, tier, prm):
        """The daily threshold (out of 2**32) at which each tie of a person on the lists ``on`` in ``tier``
        breaks: the highest of its shunning tier's (``SHUN_T``, ``[ostracism]``) and its shunning lists'
        (``SHUN_L0`` + list: ``[ostracism]``'s, or the list's ``shaming.ties``); 0 when it is not shunned."""
        t = prm[P.SHUN_T] if ((prm[P.SHUN_TIERS] >> tier) & 1) != 0 else 0
        m = on & prm[P.SHUN_LISTS]
        k = 0
        while m != 0:
            if (m & 1) != 0 and prm[P.SHUN_L0 + k] > t:
                t = prm[P.SHUN_L0 + k]
            m >>= 1
            k += 1
        return t

    @jit
    def tie_gone(word_a, word_m, k):
        """Whether the tie in matching k between two people with ``ties`` words ``word_a`` and ``word_m``
        (``encodings.TIE``) was dropped: either end broke it."""
        return ((word_a | word_m) >> k) & 1 != 0

    @jit
    def agency_count(agencies):
        """Joint punishment, per person: how many agencies' measures an agent is under, from the bits
        (``CONS.AGENCY``) of the consequences that apply to it, OR-ed (two measures of one agency count once)."""
        n = 0
        while agencies != 0:
            agencies &= agencies - 1
            n += 1
        return n

    @jit
    def ties_kept(had, rate, days):
        """The expected ties left to a person shunned for ``days`` end of days, from ``had``, when each breaks
        with probability ``rate`` a day and no one else breaks them."""
        return had * (1.0 - rate) ** days

    return SimpleNamespace(recovers=recovers, recovery_step=recovery_step, steps=steps, recovered=recovered,
                           enters=enters, exit_met=exit_met, leaves=leaves, published=published,
                           first_exit=first_exit, shunned=shunned, shun_threshold=shun_threshold, tie_gone=tie_gone, ties_kept=ties_kept,
                           agency_count=agency_count)
