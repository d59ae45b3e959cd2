"""A sampled agent's event log as a reader sees it (``scslab story``, the report): the words for whose log
it is, and daily recoveries collapsed into one row per stretch.

``stories.parquet`` keeps every row; only the telling is shorter. A stretch is a run of ``recovery`` rows on
consecutive days with no other event of the agent in between; it becomes one row, "recovered +1/day for 30
days: 560 -> 590", dated by its first and last day.
"""

from __future__ import annotations

__all__ = ["told_rows", "population_words", "role_words", "starting_score", "run_name"]

_PLURAL = {"citizen": "citizens", "firm": "firms", "authority": "authorities"}


def population_words(manifest: dict, population: str = "persons") -> tuple[str, str]:
    """(singular, plural) for the agents of ``population``: ("citizen", "citizens") for persons, ("firm",
    "firms") for an entity type of kind firm, ("authority", "authorities") for local authorities."""
    if population == "persons":
        return "citizen", "citizens"
    kind = manifest.get("scenario", {}).get("entities", {}).get(population, {}).get("kind")
    if kind is None:
        return "entity", population
    return kind, _PLURAL.get(kind, f"{kind}s")


def run_name(manifest: dict, default: str = "") -> str:
    """The run's scenario as a reader knows it: the preset's name (``press_2018`` -> "press-2018")."""
    name = manifest.get("name") or manifest.get("scenario", {}).get("meta", {}).get("name") or default
    return str(name).replace("_", "-")


def role_words(role: str, noun: str) -> str:
    """A role in the population's words ("group state owned"): runs written before roles carried them say
    "model citizen" for a firm too."""
    role = role.replace("_", " ")
    return role.replace("citizen", noun) if noun != "citizen" else role


def starting_score(manifest: dict, population: str = "persons") -> int | None:
    """The score every agent of ``population`` starts with (the scenario's ``score.base``)."""
    s = manifest.get("scenario", {})
    if population != "persons":
        s = s.get("entities", {}).get(population, {})
    return s.get("score", {}).get("base")


def told_rows(own) -> list[dict]:
    """One agent's rows (a pandas frame of ``stories.parquet`` rows, in order) as rows to show: dicts with
    ``day`` (text: "12", or "12-41" for a collapsed stretch), ``event``, ``channel``, ``points`` (0: none),
    ``score_after`` (None when unknown), ``reason`` and ``events`` (the log rows it stands for)."""
    out: list[dict] = []
    run: list = []

    def close():
        if not run:
            return
        if len(run) == 1:
            out.append(_row(run[0]))
        else:
            first, last = run[0], run[-1]
            gained = sum(int(r.points) for r in run)
            per_day = {int(r.points) for r in run}
            rate = f"{next(iter(per_day)):+d}/day" if len(per_day) == 1 else f"{gained:+d} in all"
            before = None if _missing(first.score_after) else int(first.score_after) - int(first.points)
            after = None if _missing(last.score_after) else int(last.score_after)
            scores = f": {before} -> {after}" if before is not None and after is not None else ""
            out.append({"day": f"{first.day}-{last.day}", "event": "recovery", "channel": "", "points": gained,
                        "score_after": after, "events": len(run),
                        "reason": f"recovered {rate} for {len(run)} days{scores} (quiet-period recovery)"})
        run.clear()

    for row in own.itertuples(index=False):
        if row.event == "recovery" and (not run or int(row.day) == int(run[-1].day) + 1):
            run.append(row)
            continue
        close()
        if row.event == "recovery":
            run.append(row)
        else:
            out.append(_row(row))
    close()
    return out


def _missing(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))  # None, NaN or pandas' NA


def _row(row) -> dict:
    missing = _missing(row.score_after)
    return {"day": str(row.day), "event": row.event, "channel": row.channel or "", "points": int(row.points),
            "score_after": None if missing else int(row.score_after), "reason": row.reason, "events": 1}
