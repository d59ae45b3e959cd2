"""The windowed scheduler: each agent's window of days at once, then the next agent.

The day-by-day engines go over the population once a day. For the scenarios :func:`why_not` accepts (points,
one deterrence line, recovery, tiers, one list, published every day or every few days, sanctions that follow it
or tiers, and at most one behaviour whose detection costs the actor's friends points: bench-v1 and its kin,
xiamen-fuzhou-2018; ``engine.routes.SUPPORTS``), this scheduler turns the loops around.
A window of up to a year is run agent by agent with the agent's state in registers (``agent.py``). Agents
interact only through the network penalties, which are resolved in three steps (``penalties.py``, then
``route.py``; senders' lists read through ``incoming.py``):

1. **guess** every sender's network acts and bucket their penalties by block of targets;
2. **sweep** everyone's window, block by block, flagging each sender whose run differs from its guess;
3. **correct**: the flagged senders' lists replace the guesses and their friends are run again, until no
   list changes. The result is the day-by-day model's outcome for these draws.

Outputs are those of the lazy scheduler: the same metrics (levels kept as daily changes, score snapshots taken inside
the sweep), stories (the story agents replayed day by day by ``replay.py``, the slow reference the kernel is
tested against), undetected acts counted in aggregate (``engine/detected.py``). Results depend on the seed
only, not on threads; they agree with the day engines in law, not draw for draw (other random streams).
A windowed run is checkpointed, and stopped by Ctrl-C, between two windows (``driver.WindowState``): a
window is a year at most, so a run of a year or less has nothing to resume from and is run again, with
the same result.
"""

from __future__ import annotations

from .model import why_not

__all__ = ["why_not", "run_windowed"]


def run_windowed(plan, *, progress=None, stats=None, verify=False, state=None, after_window=None):
    """Run ``plan`` and return the engine's ``RawRun``; see ``driver``. A plan that :func:`why_not` refuses
    raises ``ValueError`` naming the features this scheduler lacks (``engine.routes`` picks the route for
    the command and ``simulate``; this guards a direct call, which would otherwise run a scheme it cannot)."""
    from .driver import run_windowed as run

    why = why_not(plan)
    if why is not None:
        raise ValueError(f"the windowed scheduler cannot run {plan.scenario.meta.name!r}: {why}")

    return run(plan, progress=progress, stats=stats, verify=verify, state=state, after_window=after_window)
