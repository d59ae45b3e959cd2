"""Public shaming: what publishing a list's names does beyond the list's own sanctions (``lists.NAME.shaming``),
written down once.

``docs/model.md`` ("Public shaming"). A published list acts three ways, each set by the scenario:

- **on ties** (``ties``): its people are shunned. Each friend and colleague tie still standing of a person on
  the list breaks with the daily chance ``ties`` at the end of the day, as ``[ostracism]``'s ties do
  (``engine/kernels.py``'s ``finish`` draws, ``engine/ostracism.py`` applies; with ``[ostracism]`` on the same
  person too, the higher chance). The parameter slots are written by :func:`shun_slots`.
- **on work** (``work``): of the employed, this share work for an employer who reads the list (stream
  ``LIST_WORK + list``, drawn once per person); one of them on the list is out of work while listed
  (``engine/economy.py``'s ``income_lost``). Slots: :func:`work_slots`.
- **on others' deterrence** (``deters``): the chance of every act that costs points or creates a court debt on
  day d in region r is multiplied by :func:`factor`, ``max(0, 1 - sum over lists of deters x the share of
  region r's people on the list)``, the lists as they stood at the end of day d - 2 (the start of the day
  before: names reach screens and pages a day after they are published). The dense scheduler makes each
  day's tables with it (``engine/published.py``); the lazy and windowed schedulers, which make their tables
  from the scenario alone, refuse it by name (feature ``published-deterrence``).
"""

from __future__ import annotations

import numpy as np

from .encodings import P
from .rng import threshold

__all__ = ["costs_ties", "shuns", "bars_work", "deters", "deters_others", "factor", "shun_slots", "work_slots"]


def _shaming(s):
    """Each list's ``shaming`` table (None where it has none), in list order."""
    return [L.shaming for L in s.lists.values()]


def costs_ties(s) -> bool:
    """Whether a published list of scenario ``s`` costs the listed their ties (``shaming.ties``)."""
    return any(x is not None and x.ties > 0 for x in _shaming(s))


def shuns(s) -> bool:
    """Whether anyone of scenario ``s`` may be shunned: ``[ostracism]``, or a list whose shaming costs ties."""
    return s.ostracism is not None or costs_ties(s)


def bars_work(s) -> bool:
    """Whether a published list of ``s`` costs the listed their work (``shaming.work``)."""
    return any(x is not None and x.work > 0 for x in _shaming(s))


def deters(s) -> np.ndarray:
    """float64[list]: each list's ``shaming.deters`` (0 for a list that deters nobody)."""
    return np.array([0.0 if x is None else x.deters for x in _shaming(s)], np.float64)


def deters_others(s) -> bool:
    """Whether a published list of ``s`` deters others (``shaming.deters``): a day's tables then come from the
    run's own lists."""
    return any(x is not None and x.deters > 0 for x in _shaming(s))


def factor(by_list: np.ndarray, listed: np.ndarray, people: np.ndarray) -> np.ndarray:
    """float64[region]: the factor on every penalised act's chance in each region, given each list's
    ``deters`` (``by_list``), the people on each list in each region (``listed[list, region]``) and the
    people of each region (``people[region]``): ``max(0, 1 - sum_l deters_l x listed[l, r] / people[r])``.
    Exactly 1.0 where nobody deterring is listed."""
    share = listed / np.maximum(people, 1)[None, :]
    return np.maximum(0.0, 1.0 - (by_list[:, None] * share).sum(axis=0))


def shun_slots(prm: np.ndarray, s, ost_lists: int, ost_tiers: int) -> None:
    """Write who is shunned and how fast their ties break, given the lists and tiers ``[ostracism]`` names
    (bit masks; 0 without it): its threshold for its tiers (``SHUN_T``, ``SHUN_TIERS``), the shunning lists
    (``SHUN_LISTS``: its own and those whose shaming costs ties) and each list's threshold (``SHUN_L0`` +
    list: the higher of ``[ostracism]``'s, when it names the list, and the list's ``shaming.ties``)."""
    ost = int(threshold(s.ostracism.rate)) if s.ostracism is not None else 0
    prm[P.SHUN_T], prm[P.SHUN_TIERS] = ost, ost_tiers
    mask = 0
    for k, x in enumerate(_shaming(s)):
        t = ost if (ost_lists >> k) & 1 else 0
        if x is not None and x.ties > 0:
            t = max(t, int(threshold(x.ties)))
        if (ost_lists >> k) & 1 or t > 0:
            mask |= 1 << k
        prm[P.SHUN_L0 + k] = t
    prm[P.SHUN_LISTS] = mask


def work_slots(prm: np.ndarray, s) -> None:
    """Write each list's threshold of the employed whose work it bars (``WORK_L0`` + list; 0: none)."""
    for k, x in enumerate(_shaming(s)):
        prm[P.WORK_L0 + k] = int(threshold(x.work)) if x is not None else 0
