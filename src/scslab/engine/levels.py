"""The level metrics (people in a state at the end of a day), written once and compiled by :func:`make` for every
scheduler and backend: who is under which consequence, and what one agent adds to every level count.

The kernels count a level as changes: when an agent's state changes at its end of day, ``levels`` takes its
old state away (``sign = -1``) and adds its new one (``sign = 1``); the driver sums the changes up from the
counts at the start (``engine.loop.with_levels``). So every level metric is a function of an agent's state
alone (its tier, lists, flags, whether it has an act of its own on record, its ties word), and a scheduler that
skips an agent whose state does not change (``kernels.quick``) misses nothing.

- **Under a consequence** (:func:`applies`): an agent on one of its lists, in one of its tiers, with its
  account at zero; for one passed to children, a child with a listed adult in its household.
- **Joint punishment, per person**: the agencies of the consequences that apply to it, OR-ed as bits
  (``CONS.AGENCY``), counted by ``rules.agency_count``: ``under_agencies:K``.
"""

from __future__ import annotations

from types import SimpleNamespace

from ..encodings import CONS, FLAG, SHUNNED_ROWS, TIE, P

__all__ = ["make"]


def make(jit, R) -> SimpleNamespace:
    """``applies`` and ``levels`` compiled with ``jit``, given the rules ``R`` (``rules.make(jit)``)."""
    shunned, agency_count = R.shunned, R.agency_count
    TIE_LOST, TIE_HAD, TIE_COUNT = int(TIE.LOST), int(TIE.HAD), int(TIE.COUNT)
    F_ADULT, F_FALSE, F_DEBT = FLAG.ADULT, FLAG.FALSE_MARK, FLAG.DEBT
    F_CONF, F_CHILD = FLAG.CONFISCATED, FLAG.CHILD_SANCTION

    @jit
    def applies(k, cons, on, tier, f):
        """Does consequence k apply to an agent on lists ``on`` (bit mask), in ``tier``, with flags ``f``?"""
        if cons[k, CONS.CHILDREN] != 0:
            return (f & F_CHILD) != 0 and (f & F_ADULT) == 0
        return ((cons[k, CONS.LISTS] & on) != 0 or ((cons[k, CONS.TIERS] >> tier) & 1) != 0
                or (cons[k, CONS.ACCOUNT_ZERO] != 0 and (f & F_CONF) != 0))

    @jit
    def levels(cnt, cell, sign, tier, on, f, own, tw, prm, cons):
        """Add ``sign`` x this agent's contribution to every level metric (people in a state).

        ``own`` is true once the agent has lost main-score points for an act of their own (true or falsely
        attributed): a sanctioned agent without it, without court debt and with its account intact is
        sanctioned only because of what its ties did (``sanctioned_by_ties``). ``tw`` is its ``ties`` word
        (``TIE``; 0 without ostracism): the ties it still has and whether it has lost one."""
        cnt[prm[P.M_TIER] + tier, cell] += sign
        for l in range(prm[P.NL]):
            if (on >> l) & 1:
                cnt[prm[P.M_LISTED] + l, cell] += sign
                if (f & F_FALSE) != 0:
                    cnt[prm[P.M_INNOCENT] + l, cell] += sign
        by_self = False  # under a sanction that ties' penalties can bring: by a tier, or a list not entered on a debt
        agencies = 0     # the agencies whose measures it is under, as bits (CONS.AGENCY)
        for k in range(cons.shape[0]):
            if applies(k, cons, on, tier, f):
                cnt[prm[P.M_SANCT] + k, cell] += sign
                agencies |= cons[k, CONS.AGENCY]
                by_self = by_self or (cons[k, CONS.REWARD] == 0 and cons[k, CONS.CHILDREN] == 0 and (
                    (cons[k, CONS.LISTS] & on & ~prm[P.DEBT_LISTS]) != 0 or ((cons[k, CONS.TIERS] >> tier) & 1) != 0))
        if by_self and not own and (f & (F_DEBT | F_CONF)) == 0:
            cnt[prm[P.M_TIES], cell] += sign
        if agencies != 0:  # joint punishment, per person: under the measures of so many agencies
            cnt[prm[P.M_AGENCIES] + agency_count(agencies) - 1, cell] += sign
        if (f & F_DEBT) != 0:
            cnt[prm[P.M_DEBTORS], cell] += sign
        if (f & F_FALSE) != 0:
            cnt[prm[P.M_FALSE_MARKED], cell] += sign
        if (f & F_CONF) != 0 and prm[P.HAS_ACCT] != 0:
            cnt[prm[P.M_ACCT_ZERO], cell] += sign
        if prm[P.HAS_SHUN] != 0:
            row = prm[P.M_SHUNNED]
            lost = (tw >> TIE_LOST) & TIE_COUNT
            left = ((tw >> TIE_HAD) & TIE_COUNT) - lost
            if shunned(on, tier, prm[P.SHUN_LISTS], prm[P.SHUN_TIERS]):
                cnt[row + SHUNNED_ROWS.PEOPLE, cell] += sign
                cnt[row + SHUNNED_ROWS.TIES_SHUNNED, cell] += sign * left
            else:
                cnt[row + SHUNNED_ROWS.TIES_OTHERS, cell] += sign * left
            if lost > 0:
                cnt[row + SHUNNED_ROWS.LOST, cell] += sign
                if not own:
                    cnt[row + SHUNNED_ROWS.LOST_NO_ACT, cell] += sign

    return SimpleNamespace(applies=applies, levels=levels)
