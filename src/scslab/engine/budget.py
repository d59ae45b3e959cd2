"""What a run needs in memory, and the refusal before allocation (``CapacityError``, with the estimate)."""

from __future__ import annotations

import os

import numpy as np

from .. import population as popmod
from ..compile import Plan
from ..encodings import HOUSEHOLD_RELATIONS, REL
from ..errors import CapacityError
from .state import EMIT_ROWS, bytes_per_agent

__all__ = ["estimate_bytes", "check_capacity", "fits", "available_memory", "resident_bytes", "count_bytes", "lazy_bytes",
           "story_bytes", "story_rows_per_day", "BASE_BYTES"]


# Measured on the reference machine (docs/performance.md, ``python -m benchmarks.memory``): the resident
# memory of a run that holds no agents (interpreter, NumPy, Numba with the engine's machine code, PyArrow),
# and the bytes each row of the metrics table costs while it is built, sorted, written and summarised.
BASE_BYTES = 255 * 2**20
ROW_BYTES = 160
PAGE_BYTES = 4096  # memory is resident page by page: untouched pages of a zeroed array cost nothing
STORY_ROW_BYTES = 320  # a story row: its engine record, sorting it, and its columns in the stories table


def count_bytes(plan: Plan) -> int:
    """Bytes of the run's count table, int64[days, metrics, cells]."""
    return plan.days * len(plan.metric_names) * plan.n_cells * 8


def lazy_bytes(plan: Plan) -> int:
    """What the lazy engine adds: the wake ring and band bitmaps (2 bytes per agent at most), and the
    per-lane deferred recovery counts, candidate offsets and buffers (counters: the metrics and the people
    per state code)."""
    from .lazy import BLOCK, MAX_BANDS, lane_ranges, ring_bytes

    lanes = len(lane_ranges(plan.size))
    NM = len(plan.metric_names)
    return (ring_bytes(plan.size, MAX_BANDS) + lanes * (plan.days + 1) * plan.n_cells * 8
            + lanes * (EMIT_ROWS * 48 + 2 * (NM + plan.n_states) * plan.n_cells * 8 + MAX_BANDS * BLOCK * 2))


def story_rows_per_day(plan: Plan) -> float:
    """The expected rows of one story agent's log per day: its acts (detected or not) and false attributions
    at the day tables' rates, the network penalties its ties' detected acts bring, its consequences'
    attempts, and its recovery steps (the days its lost points need at ``points_per_day``; for adults only
    once quiet). Averaged over the population's cells, adults and children, and the run's first, middle and
    last day. Deterrence by tier makes the rates of people who fall lower than at the start: the rates
    used are halfway between the start tier's and the lowest tier's (the truth lies between them, so this
    is off by at most half their spread)."""
    s, pop = plan.scenario, plan.scenario.population
    share = (np.array([pop.regions[r].share for r in plan.region_names])[:, None, None]
             * np.array([pop.classes[c] for c in plan.class_names])[None, :, None]
             * np.array([pop.groups[g].share for g in plan.group_names])[None, None, :]).ravel()
    adult = float(np.mean(plan.hh_adult))
    tier0 = next(k for k, low in enumerate(s.score.tiers.values()) if s.score.base >= low)
    low = len(s.score.tiers) - 1
    codes = [tier0 * 8 + 1, tier0 * 8 + 3, low * 8 + 1, low * 8 + 3]  # an adult at the start and at the bottom,
    # without and with an account
    mean_hh = (sum(int(k) * v for k, v in pop.households.sizes.items()) if pop.households else 1.0)
    region_of = np.repeat(np.arange(len(plan.region_names)), len(plan.class_names) * len(plan.group_names))
    group_of = np.tile(np.arange(len(plan.group_names)), len(plan.region_names) * len(plan.class_names))
    rows = 0.0
    days = sorted({0, plan.days // 2, plan.days - 1})
    for day in days:
        p, det = plan.day_probabilities(day)
        acts = p[:, codes, 0::2].mean(axis=1)  # [cells, behaviours]
        false = p[:, codes, 1::2].mean(axis=1)
        caught = np.zeros_like(acts)
        for b, name in enumerate(plan.behaviour_names):
            n_ch = len(s.behaviours[name].channels)
            if n_ch:
                caught[:, b] = acts[:, b] * det[region_of, group_of, b, n_ch - 1]
        mean_caught = adult * (share @ caught)  # [behaviours]: the population's detected acts per person-day
        # the points each behaviour costs each kind of tie (``REL``), and the ties it reaches per act: the
        # household's other members (mean_hh - 1, whatever their kinds) and each matched tie of a kind it costs
        net = np.array([popmod.network_points(pop, s.behaviours[b].network) for b in plan.behaviour_names])
        matched = {REL.BEST_FRIEND: int(pop.friends.best), REL.FRIENDS: pop.friends.degree - int(pop.friends.best),
                   REL.COLLEAGUES: pop.colleagues.degree}
        ties = (net[:, list(HOUSEHOLD_RELATIONS)] != 0).any(axis=1) * (mean_hh - 1)
        ties += sum((net[:, rel] != 0) * count for rel, count in matched.items())
        lost_net = float((ties * mean_caught * -np.minimum(net.min(axis=1), 0)).sum())
        own_loss = np.array([max(-s.behaviours[b].points, 0) for b in plan.behaviour_names])
        lost_own = caught @ own_loss  # [cells]
        offences = caught[:, own_loss > 0].sum(axis=1)
        ppd = s.score.recovery.points_per_day
        rec_adult = rec_child = 0.0
        if ppd:
            quiet = np.exp(-offences * s.score.recovery.after_quiet_days)
            rec_adult = float(share @ (np.minimum(1.0, (lost_own + lost_net) / ppd) * quiet))
            rec_child = min(1.0, lost_net / ppd)
        rows += (adult * float(share @ (acts.sum(axis=1) + false.sum(axis=1))) + float(ties @ mean_caught)
                 + adult * rec_adult + (1 - adult) * rec_child)
    rows /= len(days)
    return rows + sum(c.attempts_per_day for c in s.consequences.values())


def story_bytes(plan: Plan) -> int:
    """The memory of the story agents' logs (:func:`story_rows_per_day`, at STORY_ROW_BYTES a row)."""
    k = min(plan.scenario.run.story_agents, plan.size)
    return int(k * plan.days * story_rows_per_day(plan) * STORY_ROW_BYTES) if k else 0


def estimate_bytes(plan: Plan, chunk: int = 1 << 16, engine: str = "dense") -> int:
    """Peak resident memory of a run, in bytes: the fixed base, the agent columns, the count tables and
    the per-chunk buffers of the engine (or the lazy engine's bitmaps), the day tables it keeps, the story
    agents' logs, and the metrics table as it is built and written."""
    from ..table_cache import table_cache_bytes
    from ..metrics import metric_rows

    NM = len(plan.metric_names)
    extra = table_cache_bytes(plan, engine) + story_bytes(plan)
    if engine == "windowed":  # the lazy engine's windowed route (engine/windowed): no columns but its own;
        # entity types run after the persons' windows, on their own routes, while the persons' columns are held
        from .routes import entity_route
        from .windowed.model import windowed_bytes

        entities = max((estimate_bytes(p, chunk, entity_route(p, engine)) - BASE_BYTES
                        for p in plan.entities.values()), default=0)
        return (BASE_BYTES + windowed_bytes(plan) + 3 * count_bytes(plan) + metric_rows(plan) * ROW_BYTES
                + extra + entities)
    if engine == "lazy":
        buffers = lazy_bytes(plan)
    else:
        n_chunks = -(-plan.size // chunk) + len(plan.region_names)
        # each chunk counts into its own [metrics, cells] tables but touches only its region's cells: the
        # pages it writes are resident, the rest stay unallocated zero pages
        row = plan.n_cells * 8
        touched = min(row, max(row // len(plan.region_names), PAGE_BYTES))
        buffers = n_chunks * (EMIT_ROWS * 48 + 2 * NM * touched)
    entities = sum(estimate_bytes(p, chunk, engine) - BASE_BYTES for p in plan.entities.values())
    return (BASE_BYTES + plan.size * bytes_per_agent(plan) + 3 * count_bytes(plan) + metric_rows(plan) * ROW_BYTES
            + buffers + entities + extra)


def resident_bytes() -> int:
    """Resident memory of this process now (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):  # pragma: no cover
        return 0


def available_memory() -> int:
    """Bytes of RAM available now (MemAvailable on Linux, else physical memory)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 2**62


def _need(plan: Plan, engine: str) -> int:
    """The bytes a run of ``plan`` on ``engine`` adds to this process (its estimate, less what the process
    already holds)."""
    return estimate_bytes(plan, engine=engine) - min(resident_bytes(), BASE_BYTES)


def fits(plan: Plan, engine: str) -> bool:
    """Whether a run of ``plan`` on ``engine`` fits in the memory available now (``routes.choose_route``'s
    ``fits``)."""
    return _need(plan, engine) <= available_memory()


def check_capacity(plan: Plan, available: int | None = None, engine: str = "dense") -> int:
    """Refuse a run whose estimate exceeds the memory available (less what this process already holds)."""
    need = _need(plan, engine)
    have = available_memory() if available is None else available
    if need > have:
        raise CapacityError(
            f"a run of {plan.size:,} agents{beside(plan)} needs about {need / 2**30:.2f} GiB "
            f"({bytes_per_agent(plan)} bytes per agent) but only {have / 2**30:.2f} GiB of memory is available; "
            "use a smaller --population", needed_bytes=need, available_bytes=have)
    return need


def beside(plan: Plan) -> str:
    return "".join(f" and {p.size:,} {name}" for name, p in plan.entities.items())
