"""The names of the metric rows a run counts, block by block (the blocks' first rows are the slots ``P.M_*`` of
the parameter vector, ``encodings``)."""

from __future__ import annotations

import numpy as np

from .encodings import AWARE_BY, FINE_NAMES, LEVEL_METRICS, SHUNNED_NAMES, WORK_NAMES, P
from .scenarios.entities import link_reach
from .shaming import bars_work, shuns

__all__ = ["consequence_metrics", "metric_names", "costs_work", "has_fines", "agency_names", "delivered_by"]


def costs_work(s) -> bool:
    """Whether a sanction (``costs_work``) or a published list (``shaming.work``) of scenario ``s`` costs work,
    with [economy]: the work metrics."""
    return s.economy is not None and (any(c.costs_work > 0 for c in s.consequences.values()) or bars_work(s))


def _rule_sets(s):
    """The rules of ``s`` in force from the start and after each timeline change, applied as ``compile``
    applies them (a change for some regions only changes no rule counted here)."""
    from .scenarios.load import with_changes

    rules = s.model_copy(update={"timeline": []})
    yield rules
    for i, t in enumerate(s.timeline):
        if not t.regions:
            rules = with_changes(rules, t.set, where=f"timeline.{i}.set")
            yield rules


def has_fines(s) -> bool:
    """Whether a behaviour of ``s`` is fined (``fine``), from the start or after a timeline change: the fines
    metrics."""
    return any(b.fine > 0 for rules in _rule_sets(s) for b in rules.behaviours.values())


def delivered_by(c) -> str | None:
    """The agency whose measure consequence ``c`` puts on the agent under it: its ``agency``, or None without
    one or when the measure falls on the agent's linked persons or entities (``applies_to = "links..."``: the
    other population bears it)."""
    return None if link_reach(c.applies_to) else c.agency


def agency_names(s) -> list[str]:
    """The agencies whose measures fall on the agents of ``s`` themselves, from the start or after a timeline
    change, sorted: the bits of ``CONS.AGENCY`` and the span of ``under_agencies:K`` (people under measures of
    exactly K of them)."""
    return sorted({a for rules in _rule_sets(s) for c in rules.consequences.values()
                   if (a := delivered_by(c)) is not None})


def consequence_metrics(kind: str, name: str) -> tuple[str, str]:
    """The metrics of consequence ``name``: (people under it, their attempts) = ``sanctioned:NAME`` and
    ``blocked:NAME`` for a sanction, ``rewarded:NAME`` and ``granted:NAME`` for a reward."""
    return (f"rewarded:{name}", f"granted:{name}") if kind == "reward" else (f"sanctioned:{name}", f"blocked:{name}")


def metric_names(s, tiers, behaviours, lists, cons, accounts) -> tuple[list[str], dict[int, int], np.ndarray]:
    """The count tables' metric rows of a scenario ``s`` (``schema.Scenario``) with these names: (the rows'
    names, the first row of each block by its slot ``P.M_*``, whether each row is a level)."""
    names: list[str] = []
    off: dict[int, int] = {}
    level: list[bool] = []
    levels = {getattr(P, m) for m in LEVEL_METRICS}

    def block(index, items):
        off[index] = len(names)
        names.extend(items)
        level.extend([index in levels] * len(items))

    block(P.M_TIER, [f"tier:{t}" for t in tiers])
    block(P.M_LISTED, [f"listed:{l}" for l in lists])
    block(P.M_ENTERED, [f"entered:{l}" for l in lists])
    block(P.M_EXITED, [f"exited:{l}" for l in lists])
    block(P.M_INNOCENT, [f"innocent_listed:{l}" for l in lists])
    block(P.M_SANCT, [consequence_metrics(s.consequences[c].kind, c)[0] for c in cons])
    block(P.M_ATTEMPT, [consequence_metrics(s.consequences[c].kind, c)[1] for c in cons])
    block(P.M_ACCT_ZERO, [f"account_zero:{a}" for a in accounts])
    block(P.M_DEBTORS, ["debtors"])
    block(P.M_REPAID, ["repaid"])
    block(P.M_RECOVERED, ["recovering"])
    block(P.M_FALSE_MARKED, ["carrying_false_record"])
    block(P.M_ACTS, [f"acts:{b}" for b in behaviours])
    block(P.M_DETECTED, [f"detected:{b}" for b in behaviours])
    block(P.M_FALSE, [f"false:{b}" for b in behaviours])
    block(P.M_NEW_DEBT, ["new_debts"])
    block(P.M_NET, ["network_penalties"])
    block(P.M_REDRESSED, ["redressed"])
    block(P.M_TIES, ["sanctioned_by_ties"])
    block(P.M_PENALISED, ["newly_penalised"])
    shun = shuns(s)
    block(P.M_SHUNNED, [SHUNNED_NAMES[r] for r in sorted(SHUNNED_NAMES)] if shun else [])
    block(P.M_BROKEN, ["ties_dropped"] if shun else [])
    aware = s.awareness is not None
    block(P.M_AWARE, ["aware"] if aware else [])
    block(P.M_AWARE_BY, [f"aware_by:{how.name.lower()}" for how in AWARE_BY] if aware else [])
    work = costs_work(s)
    block(P.M_WORK, [WORK_NAMES[r] for r in sorted(WORK_NAMES)] if work else [])
    block(P.M_JOBS_LOST, ["jobs_lost"] if work else [])
    amounts = s.debt is not None and bool(s.debt.amounts)
    block(P.M_OWED, ["debt_owed_yuan"] if amounts else [])
    block(P.M_REPAID_YUAN, ["repaid_yuan"] if amounts else [])
    block(P.M_FINES, [FINE_NAMES[r] for r in sorted(FINE_NAMES)] if has_fines(s) else [])
    block(P.M_AGENCIES, [f"under_agencies:{k}" for k in range(1, len(agency_names(s)) + 1)])
    return names, off, np.array(level, bool)
