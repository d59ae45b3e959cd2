"""The economy's rules, written once and compiled by :func:`make` for every scheduler and backend.

``docs/model.md`` ("Money and work"): work, income and a court debt's amount are drawn once per person from
its id, like its class, so nothing is stored and every scheduler reads the same numbers.

- **In work**: an adult is employed with the chance ``economy.employed``; an employed person's daily income is
  the ``yuan`` of its income band (:func:`income_of`, 0 when not employed).
- **Work a sanction bars**: for each sanction with ``costs_work``, the employed person's work is one it bars
  with that chance (stream ``WORK + k``); for each published list with ``shaming.work``, its employer reads
  the list with that chance (stream ``LIST_WORK + list``, ``scslab.shaming``). A person under such a sanction
  whose work it bars, or on such a list whose employer reads it, is *out of work*
  (:func:`income_lost`, its daily income, 0 when it is not): it loses that income each day it stays so, and
  finds work again when the sanction ends. Becoming so is a job lost (``jobs_lost``).
- **A debt's amount**: a court debt is of the amount of the person's band ([debt] ``amounts``, stream
  ``DEBT_AMOUNT``; :func:`debt_amount`); a person's every debt is of that amount. While it is held it counts in
  ``debt_owed_yuan``; repaid, in ``repaid_yuan``.
- **Fines** (``engine.kernels.apply_points``): each recorded act of a fined behaviour adds its ``fine`` to
  ``fines_yuan``, and a false attribution's also to ``fines_wrongful_yuan``.

The income lost over a run is the sum over the days of the level ``income_lost_yuan``, the daily income of the
people out of work that day; ``tests/test_economy.py`` checks the levels against each person's own state at
the end of a run, to the yuan, and against the slow reference.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..encodings import BANDS, CONS, EVENT, FLAG, SE, WORK_ROWS, P
from ..rng import Stream

__all__ = ["make"]


def make(jit, draw, applies, put) -> SimpleNamespace:
    """The economy's rules compiled with ``jit``, given the kernels' ``draw``, ``applies`` and ``put``."""
    F_ADULT, F_DEBT = FLAG.ADULT, FLAG.DEBT
    LAST = BANDS - 1

    @jit
    def band(u, prm, first):
        """The band of a draw ``u``: the first k whose cumulative threshold (slots from ``first``) exceeds it."""
        k = 0
        while k < LAST and u >= np.uint64(prm[first + k]):
            k += 1
        return k

    @jit
    def income_of(i, prm, ks):
        """Person i's daily income in yuan: its band's, or 0 when it is not in work."""
        if draw(ks[Stream.EMPLOYED], i) >= np.uint64(prm[P.EMPLOYED_T]):
            return 0
        return prm[P.INCOME_Y0 + band(draw(ks[Stream.INCOME], i), prm, P.INCOME_T0)]

    @jit
    def debt_amount(i, prm, ks):
        """The yuan of person i's court debt."""
        return prm[P.DEBT_Y0 + band(draw(ks[Stream.DEBT_AMOUNT], i), prm, P.DEBT_T0)]

    @jit
    def income_lost(i, tier, on, f, prm, cons, ks):
        """The daily income adult i, on lists ``on`` in ``tier`` with flags ``f``, loses through a sanction: its
        income when a sanction that costs work applies to it and bars its work, or it is on a published list its
        employer reads; 0 when none does, and when it is not in work (it is then not out of work)."""
        if (f & F_ADULT) == 0:
            return 0
        for k in range(cons.shape[0]):
            if (cons[k, CONS.WORK] > 0 and cons[k, CONS.CHILDREN] == 0 and applies(k, cons, on, tier, f)
                    and draw(ks[Stream.WORK + k], i) < np.uint64(cons[k, CONS.WORK])):
                return income_of(i, prm, ks)
        for l in range(prm[P.NL]):  # a published list its employer reads (scslab.shaming)
            if (((on >> l) & 1) != 0 and prm[P.WORK_L0 + l] > 0
                    and draw(ks[Stream.LIST_WORK + l], i) < np.uint64(prm[P.WORK_L0 + l])):
                return income_of(i, prm, ks)
        return 0

    @jit
    def work_levels(cnt, cell, sign, i, tier, on, f, prm, cons, ks):
        """Add ``sign`` x person i's contribution to the work levels (out of work, its income lost a day);
        returns that income (0: not out of work)."""
        if prm[P.HAS_WORK] == 0:
            return 0
        lost = income_lost(i, tier, on, f, prm, cons, ks)
        if lost > 0:
            cnt[prm[P.M_WORK] + WORK_ROWS.PEOPLE, cell] += sign
            cnt[prm[P.M_WORK] + WORK_ROWS.INCOME, cell] += sign * lost
        return lost

    @jit
    def change(cnt, cell, i, d, tier0, on0, f0, tier, on, f, prm, cons, ks, story, emit, ne):
        """Person i's end of day d moved it from (tier0, on0, f0) to (tier, on, f): its work and debt levels
        follow, a job lost is counted, and a story agent's row is written. Returns the emit count."""
        if prm[P.HAS_WORK] != 0:
            was = work_levels(cnt, cell, -1, i, tier0, on0, f0, prm, cons, ks)
            now = work_levels(cnt, cell, 1, i, tier, on, f, prm, cons, ks)
            if now > 0 and was == 0:
                cnt[prm[P.M_JOBS_LOST], cell] += 1
            if story and (now > 0) != (was > 0):  # (the row's number: the income lost or regained a day)
                ne = put(emit, ne, EVENT.STORY, i, d, SE.work_lost if now > 0 else SE.work_regained, -1,
                         max(now, was))
        if prm[P.HAS_AMOUNTS] != 0 and ((f ^ f0) & F_DEBT) != 0:
            cnt[prm[P.M_OWED], cell] += debt_amount(i, prm, ks) if (f & F_DEBT) != 0 else -debt_amount(i, prm, ks)
        return ne

    return SimpleNamespace(band=band, income_of=income_of, debt_amount=debt_amount, income_lost=income_lost,
                           work_levels=work_levels, change=change)
