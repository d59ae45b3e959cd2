"""scslab against the tools users would otherwise pick, on bench-v1, side by side in one run.

    python -m benchmarks run                                   # 10 k, 100 k, 1 M agents; 3 repetitions
    python -m benchmarks run --sizes 1000000 --repeats 5 --tools scslab-auto,scslab-dense,numpy
    python -m benchmarks run --json bench.json --plot docs/img/throughput.png

Tools: ``scslab-auto`` (the default: on bench-v1 the windowed scheduler), ``scslab-lazy`` and
``scslab-dense`` (the day-by-day schedulers; all cores),
``numpy`` (``benchmarks/peers/numpy_peer.py``) and
``mesa`` (``benchmarks/peers/mesa_peer.py``, needs ``mesa``). Every measurement runs in a fresh process,
and the tools alternate within each repetition (A B C, A B C, ...), so a slow drift of the machine affects
them alike. scslab first runs a tiny warm-up that loads its compiled engine from numba's cache.

What is timed: the simulation of N agents for D days, from an empty process state to the daily metrics in
memory. For the peers that is their ``simulate`` call. Building the population (``setup``) is timed apart
and is not in agent-days/s. scslab's time includes its initial pass. Peak memory is the process's maximum
resident set. A tool runs ``min(days, budget / N)`` days (at least 2), where the budget in agent-days is
per tool (``--budget``). The table says how many days each tool ran.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

TOOLS = ("scslab-auto", "scslab-lazy", "scslab-dense", "numpy", "mesa")
REFERENCE = "scslab-auto"  # ratios are scslab's default engine against each tool
# agent-days a tool may spend per measurement (about 20-40 s each on the development machine)
BUDGET = {"scslab-auto": 10**12, "scslab-lazy": 10**12, "scslab-dense": 10**12, "numpy": 4 * 10**8, "mesa": 3 * 10**6}

CHILD = r"""
import json, resource, sys, time
tool, n, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
clock = {}
if tool.startswith("scslab-"):
    import scslab
    engine = tool.split("-", 1)[1]
    scslab.simulate("bench-v1", population=1000, days=2, seed=1, engine=engine)  # load the compiled engine
    t0 = time.perf_counter()
    r = scslab.simulate("bench-v1", population=n, days=days, seed=1, engine=engine)
    clock["setup_end"] = t0
    detected = int(r.series("detected:jaywalking").sum())
else:
    if tool == "numpy":
        from benchmarks.peers.numpy_peer import simulate
    else:
        from benchmarks.peers.mesa_peer import simulate
    t0 = time.perf_counter()
    out = simulate(n, days, 1, clock=clock)
    detected = int(out["detected:jaywalking"].sum())
t1 = time.perf_counter()
print(json.dumps({"setup_s": clock["setup_end"] - t0, "run_s": t1 - clock["setup_end"],
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "detected_jaywalking": detected}))
"""


def days_for(tool: str, n: int, days: int, budget: dict[str, int]) -> int:
    return max(2, min(days, budget[tool] // n))


def measure(tool: str, n: int, days: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, tool, str(n), str(days)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{tool} at {n:,} agents failed:\n{out.stderr[-2000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row.update(tool=tool, agents=n, days=days, rate=n * days / row["run_s"])
    return row


def summarise(rows: list[dict]) -> list[dict]:
    """Median and min-max of agent-days/s per (tool, agents), and the ratio of scslab's median to each."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["tool"], r["agents"]), []).append(r)
    table = []
    for (tool, n), rs in groups.items():
        rates = [r["rate"] for r in rs]
        table.append({"tool": tool, "agents": n, "days": rs[0]["days"], "repeats": len(rs),
                      "rate_median": statistics.median(rates), "rate_min": min(rates), "rate_max": max(rates),
                      "setup_s_median": statistics.median(r["setup_s"] for r in rs),
                      "peak_rss_bytes": max(r["peak_rss_bytes"] for r in rs)})
    ref = {row["agents"]: row["rate_median"] for row in table if row["tool"] == REFERENCE}
    for row in table:
        row["scslab_ratio"] = ref[row["agents"]] / row["rate_median"] if row["agents"] in ref else None
    return table


def plot(table: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for tool in TOOLS:
        rows = sorted((r for r in table if r["tool"] == tool), key=lambda r: r["agents"])
        if not rows:
            continue
        x = [r["agents"] for r in rows]
        y = [r["rate_median"] for r in rows]
        err = [[m - r["rate_min"] for m, r in zip(y, rows)], [r["rate_max"] - m for m, r in zip(y, rows)]]
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=tool)
    ax.set(xscale="log", yscale="log", xlabel="agents", ylabel="agent-days per second (median, min-max)",
           title="bench-v1 throughput, 2-core CPU")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated agent counts")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated, from {', '.join(TOOLS)}")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget", action="append", default=[], metavar="TOOL=AGENT_DAYS",
                    help="agent-days per measurement for a tool (default: " +
                         ", ".join(f"{k}={v:.0e}" for k, v in BUDGET.items()) + ")")
    ap.add_argument("--json", help="write every measurement and the summary here")
    ap.add_argument("--plot", help="write a log-log plot of throughput against agents here (needs matplotlib)")
    args = ap.parse_args(argv)
    tools = [t.strip() for t in args.tools.split(",")]
    unknown = [t for t in tools if t not in TOOLS]
    if unknown:
        ap.error(f"unknown tools {unknown}; allowed: {', '.join(TOOLS)}")
    budget = dict(BUDGET)
    for item in args.budget:
        name, _, value = item.partition("=")
        budget[name] = int(float(value))
    sizes = [int(float(x)) for x in args.sizes.split(",")]
    rows = []
    for n in sizes:
        for rep in range(args.repeats):
            for tool in tools:
                d = days_for(tool, n, args.days, budget)
                row = measure(tool, n, d)
                rows.append(row)
                print(f"  {tool:<13} {n:>11,} agents x {d:>3} days  run {row['run_s']:8.2f} s  "
                      f"setup {row['setup_s']:6.2f} s  {row['rate']:10.3g} agent-days/s", file=sys.stderr)
    table = summarise(rows)
    print(f"{'tool':<13} {'agents':>11} {'days':>5} {'agent-days/s median (min-max)':>34} {'setup s':>8} "
          f"{'peak MiB':>9} {'scslab x':>9}")
    for r in table:
        ratio = f"{r['scslab_ratio']:.3g}" if r["scslab_ratio"] else "-"
        print(f"{r['tool']:<13} {r['agents']:>11,} {r['days']:>5} {r['rate_median']:>12.3g} "
              f"({r['rate_min']:.3g}-{r['rate_max']:.3g}){'':>3} {r['setup_s_median']:>8.2f} "
              f"{r['peak_rss_bytes'] / 2**20:>9.0f} {ratio:>9}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"measurements": rows, "summary": table}, fh, indent=2)
    if args.plot:
        plot(table, args.plot)
    return table


if __name__ == "__main__":
    main()
