"""Each closed form in ``engine/rules.py`` equals stepping its rule day by day (uncompiled, as written)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scslab.encodings import ENTER, EXIT
from scslab.engine import rules

R = rules.make(lambda f: f)


@settings(max_examples=300, deadline=None)
@given(below=st.integers(1, 1500), last_off=st.integers(-400, 300), rec_quiet=st.integers(0, 400),
       rec_pts=st.integers(1, 7), rec_upto=st.integers(0, 1400), days=st.integers(1, 500))
def test_recovery_closed_form_is_the_rule_stepped_day_by_day(below, last_off, rec_quiet, rec_pts, rec_upto, days):
    """An idle agent below the ceiling: from its score at the end of day ``a - 1`` (``a`` the first quiet day
    that counts), ``recovered`` gives its score at the end of every later day, and ``steps`` the number of
    steps to gain any gap, the j-th falling on day ``a + j - 1``."""
    s0 = rec_upto - below  # below the ceiling (above it nothing recovers: the next test)
    a = max(last_off + rec_quiet, 0)
    s, first_reach = s0, {}
    assert R.recovered(s0, a, a - 1, rec_pts, rec_upto) == s0
    for u in range(a, a + days):
        assert R.recovers(s, u - last_off, rec_quiet, rec_pts, rec_upto) == (s < rec_upto)
        if R.recovers(s, u - last_off, rec_quiet, rec_pts, rec_upto):
            s = R.recovery_step(s, rec_pts, rec_upto)
        assert s == R.recovered(s0, a, u, rec_pts, rec_upto), (u, s)
        for gap in range(1, s - s0 + 1):
            first_reach.setdefault(gap, u)
    for gap, u in first_reach.items():
        assert a + R.steps(gap, rec_pts) - 1 == u


@given(s=st.integers(-500, 1500), quiet=st.integers(-5, 500), rec_quiet=st.integers(0, 400),
       rec_pts=st.integers(0, 7), rec_upto=st.integers(0, 1400))
def test_no_recovery_at_the_ceiling_before_the_quiet_days_or_without_points(s, quiet, rec_quiet, rec_pts, rec_upto):
    if s >= rec_upto or quiet < rec_quiet or rec_pts == 0:
        assert not R.recovers(s, quiet, rec_quiet, rec_pts, rec_upto)
    else:
        assert R.recovery_step(s, rec_pts, rec_upto) == min(s + rec_pts, rec_upto) > s


@settings(max_examples=400, deadline=None)
@given(since=st.integers(-50, 300), met_from=st.integers(-50, 400), min_days=st.integers(0, 120),
       every=st.integers(1, 31), max_days=st.integers(-1, 400), extra=st.integers(0, 30), repaid=st.booleans())
def test_first_exit_is_the_list_rule_stepped_day_by_day(since, met_from, min_days, every, max_days, extra, repaid):
    """A listed agent that meets the exit condition on every day from ``met_from`` on (and on none before)
    leaves, stepping ``leaves`` day by day from the day after its listing, on the day ``first_exit`` gives
    (a repaid debt has no minimum term: ``min_days`` 0 in the closed form)."""
    term_end = since + max_days + extra if max_days >= 0 else 10**6  # a term of 0 days ends the next day
    expected = R.first_exit(since, max(met_from, since + 1), 0 if repaid else min_days, every, term_end)
    day = since + 1
    while not R.leaves(day % every == 0, day >= met_from, day - since, min_days, repaid, max_days, extra):
        day += 1
        assert day < since + 2000
    assert day == min(expected, 10**6)


@given(u=st.integers(-400, 400), every=st.integers(1, 31))
def test_published_is_the_entry_rule_stepped_day_by_day(u, every):
    """An agent that meets a list's entry condition on every day from ``u`` on (and is not on it) enters it on
    the first day the rule lets it, a publication day (``leaves`` and ``enters`` take it as ``day % every ==
    0``, the drivers' phase): the day ``published`` gives."""
    day = u
    while day % every != 0:  # the day engines enter on publication days only (kernels.finish)
        day += 1
    assert R.published(u, every) == day


@settings(deadline=None)
@given(tier=st.integers(0, 7), arg=st.integers(0, 7), confiscated=st.booleans(), debt=st.booleans())
def test_list_conditions(tier, arg, confiscated, debt):
    """Entry by tier 'at most' (that tier or worse) and exit 'at least' (that tier or better) are complements
    around the tier; the account and debt kinds read their flags; EXIT.NEVER never holds."""
    assert R.enters(ENTER.TIER_AT_MOST, arg, tier, confiscated, debt) == (tier >= arg)
    assert R.exit_met(EXIT.TIER_AT_LEAST, arg, tier, confiscated, debt) == (tier <= arg)
    assert R.enters(ENTER.TIER_AT_LEAST, arg, tier, confiscated, debt) == (tier <= arg)
    assert R.exit_met(EXIT.TIER_AT_MOST, arg, tier, confiscated, debt) == (tier >= arg)
    assert R.enters(ENTER.ACCOUNT_ZERO, arg, tier, confiscated, debt) == confiscated
    assert R.exit_met(EXIT.ACCOUNT_RESTORED, arg, tier, confiscated, debt) == (not confiscated)
    assert R.enters(ENTER.DEBT, arg, tier, confiscated, debt) == debt
    assert R.exit_met(EXIT.REPAID, arg, tier, confiscated, debt) == (not debt)
    assert not R.exit_met(EXIT.NEVER, arg, tier, confiscated, debt)
