"""The pinned behaviour of every engine: digests of the raw run arrays, per preset, route and seed.

A digest is the sha256 of a run's raw arrays (``engine.cpu.RawRun``: counts, story rows, story agents, their
scores, coverage, score snapshots, and each entity type's, in that order, each with its dtype and shape), not
of Parquet bytes, so it changes only when the engine's results change. ``baseline.json`` holds, for every
preset at a small size and two seeds, the digest of each route that can run it (``dense``, ``lazy`` day by
day, ``windowed`` where the windowed route admits the scenario) or the windowed route's refusal in words.

An engine change keeps every digest, or changes it on purpose in a commit of its own that says why (and
reruns the agreement tests). Refresh the file with::

    python tests/baseline.py --refresh

and check it without pytest with ``python tests/baseline.py``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

FILE = Path(__file__).with_name("baseline.json")
SEEDS = (1, 2)
# (agents, days): small, but long enough for lists, recoveries, timelines and exits to act
SIZES = {"bench-v1": (1000, 120), "bench-v1-harsh": (1500, 100), "press-2018": (1000, 120),
         "rongcheng-2018": (1000, 120), "court-defaulters-national": (2000, 120),
         "court-defaulters-calibrated": (2000, 120), "beijing-2020": (1000, 100),
         "jinan-dog-points": (2000, 150), "xiamen-fuzhou-2018": (1000, 120),
         "sesame-credit-2018": (1000, 120)}
# bench-v1-harsh: bench-v1 with harsh points and friends' penalties (test_windowed.HARSH): the windowed
# route's corrections act at this size
CASES = {name: ("bench-v1", "HARSH") if name == "bench-v1-harsh" else (name, None) for name in SIZES}


def raw_digest(raw) -> str:
    """sha256 of a RawRun's arrays (and its entity types' runs, by name)."""
    h = hashlib.sha256()

    def add(r) -> None:
        for a in (r.counts, r.stories, r.story_ids, r.story_scores, r.coverage, r.score_hist):
            a = np.ascontiguousarray(a)
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
        for name in sorted(r.entities):
            h.update(name.encode())
            add(r.entities[name])

    add(raw)
    return h.hexdigest()


def case_digests(case: str, seed: int) -> dict[str, str]:
    """{route: digest, or 'refused: WHY'} for one case and seed."""
    from scslab.compile import compile_plan
    from scslab.engine.cpu import run_cpu
    from scslab.engine.routes import refusal
    from scslab.scenarios import load_scenario

    from test_windowed import HARSH

    preset, overrides = CASES[case]
    overrides = HARSH if overrides == "HARSH" else overrides
    n, d = SIZES[case]
    plan = compile_plan(load_scenario(preset, overrides), size=n, days=d, seed=seed)
    out = {"dense": raw_digest(run_cpu(plan, engine="dense")), "lazy": raw_digest(run_cpu(plan, engine="lazy"))}
    why = refusal(plan, "windowed")
    out["windowed"] = raw_digest(run_cpu(plan, engine="windowed")) if why is None else f"refused: {why}"
    return out


def compute() -> dict:
    return {case: {str(seed): case_digests(case, seed) for seed in SEEDS} for case in SIZES}


def main(argv: list[str]) -> int:
    import warnings

    warnings.simplefilter("ignore")
    now = compute()
    if "--refresh" in argv:
        FILE.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"wrote {FILE}")
        return 0
    pinned = json.loads(FILE.read_text())
    changed = [f"{c} seed {s} {r}" for c in now for s in now[c] for r in now[c][s]
               if pinned.get(c, {}).get(s, {}).get(r) != now[c][s][r]]
    print("\n".join(changed) or "every digest as pinned")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    raise SystemExit(main(sys.argv[1:]))
