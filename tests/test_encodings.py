"""Names, not positions: the engine reads the epoch tables' columns, the state bits and the event records'
fields by name (``compile.BEH``, ``LIST``, ``CONS``, ``STATE``, ``REC``), and the windowed route its tables,
stream keys and scalars (``windowed.agent.Tables``, ``KEY``, ``windowed.model.SC``), never by a literal index
or bit."""

import re
from pathlib import Path

import scslab
from scslab.compile import BEH, CONS, LIST, N_BEH, REC, REL, STATE

SRC = Path(scslab.__file__).parent
TABLES = re.compile(r"\b(beh|lists?|lists_f|cons|cons_f|row|L)\[[^\]\[]*,\s*\d+\s*\]")
RECORDS = re.compile(r"\b(rec|emit|rows|redress|out|r|records)\[[^\]\[]*,\s*[0-5]\s*\]")
STATE_BITS = re.compile(r"state\[[^\]]*\][^\n]*&\s*(63|64|128)\b|\|=\s*np\.uint8\((64|128)\)")
WINDOWED = re.compile(r"\b(M|keys|sc|scalars)\[\d+\]|\b(M|sc)\[\d*:\d*\]")


def test_no_literal_column_of_an_epoch_table_state_bit_or_record_field():
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "reference.py":  # the reference reads the scenario, not the tables
            continue
        for k, line in enumerate(path.read_text().splitlines(), 1):
            if TABLES.search(line) or STATE_BITS.search(line) or RECORDS.search(line) or WINDOWED.search(line):
                found.append(f"{path.relative_to(SRC)}:{k}: {line.strip()}")
    assert not found, "\n".join(found)


def test_the_names_cover_the_tables_the_plan_builds():
    from scslab.compile import compile_plan
    from scslab.scenarios import load_scenario

    e = compile_plan(load_scenario("press-2018"), size=1_000, days=30, seed=1).epochs[0]
    assert e.beh.shape[1] == N_BEH == BEH.NET + len(REL)  # the last columns: each kind of tie's points
    assert e.lists.shape[1] == len(LIST) and e.cons.shape[1] == len(CONS)
    assert STATE.CODE + 1 == STATE.RECOVERING and STATE.RECOVERING * 2 == STATE.BUSY
    from scslab.engine.kernels import EMIT_WIDTH

    assert EMIT_WIDTH == len(REC) == 6
    import numpy as np

    from scslab.engine.windowed.model import SC, model_of
    from scslab.engine.windowed.tables import KEY, Tables, tables

    plan = compile_plan(load_scenario("bench-v1"), size=1_000, days=30, seed=1)
    m = model_of(plan)
    assert len(m.scalars) == len(SC)
    M = tables(m, 30, np.zeros(len(KEY), np.uint64), np.zeros(2000, np.int64), np.array([40], np.int64))
    assert isinstance(M, Tables) and M.sc.tolist() == list(m.scalars) and M.keys.shape == (len(KEY),)


def test_the_parameter_slots_come_in_three_named_groups():
    """``P`` is the parameters, then the sizes, then the metric rows, each slot in one group, and ``SIZE`` its
    length; the metric rows are the ones the plan fills with the metrics' offsets."""
    from scslab.compile import compile_plan
    from scslab.encodings import METRIC_ROWS, PARAMETERS, SIZES, P
    from scslab.scenarios import load_scenario

    names = [m.name for m in P]
    assert names == [*PARAMETERS, *SIZES, *METRIC_ROWS, "SIZE"] and len(set(names)) == len(names)
    assert P.SIZE == len(P) - 1
    plan = compile_plan(load_scenario("press-2018"), size=1_000, days=30, seed=1)
    prm = plan.epochs[0].prm
    assert len(prm) == P.SIZE
    rows = sorted(prm[getattr(P, m)] for m in METRIC_ROWS if m != "M_CODE")
    assert rows[0] == 0 and rows[-1] <= prm[P.NM]  # offsets into the metric rows (an empty last block: NM)
