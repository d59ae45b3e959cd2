"""Rules of the model written once, each with the closed form that summarises it, built for any compiler.

``make(jit)`` compiles the rules with ``jit``: ``numba.njit(inline="always")`` for the CPU schedulers, the
identity for plain Python (the reference, and ``NUMBA_DISABLE_JIT=1``); the same source can be compiled as
CUDA device functions. A closed form sits beside the rule it summarises, and ``tests/properties/
test_rules.py`` checks it against stepping the rule day by day.

**Recovery** (``docs/model.md``, end of day): an agent whose last detected offence was at least
``rec_quiet`` days ago and whose score is below ``rec_upto`` gains ``rec_pts`` points, up to ``rec_upto``.

- :func:`recovers` and :func:`recovery_step` are the rule, one day at a time.
- Closed form: an idle agent below the ceiling, quiet from day ``a`` on (``a = max(last_off + rec_quiet,
  0)``) with score ``sv`` at the end of day ``a - 1``, has :func:`recovered` ``(sv, a, u)`` at the end of day
  ``u``, and needs :func:`steps` ``(gap)`` steps to gain ``gap`` points (its j-th step falls on day
  ``a + j - 1``).
"""

from __future__ import annotations

from types import SimpleNamespace

__all__ = ["make"]


def make(jit) -> SimpleNamespace:
    """The rules compiled with ``jit``, as a namespace of functions."""

    @jit
    def recovers(s, quiet, rec_quiet, rec_pts, rec_upto):
        """Whether a day ending with score ``s``, ``quiet`` days after the last detected offence, brings a
        recovery step."""
        return rec_pts > 0 and s < rec_upto and quiet >= rec_quiet

    @jit
    def recovery_step(s, rec_pts, rec_upto):
        """The score after one recovery step."""
        return min(s + rec_pts, rec_upto)

    @jit
    def steps(gap, rec_pts):
        """Recovery steps of ``rec_pts`` points that close a positive ``gap``: ceil(gap / rec_pts). One point a
        day, the common case, needs no division (a 64-bit division costs as much as the rest of a visit)."""
        if rec_pts == 1:
            return gap
        return (gap + rec_pts - 1) // rec_pts

    @jit
    def recovered(sv, a, u, rec_pts, rec_upto):
        """The score at the end of day ``u`` of an idle agent below the ceiling whose score was ``sv`` at the
        end of day ``a - 1`` and who recovers on every day from ``a`` on."""
        return min(rec_upto, sv + rec_pts * max(0, u - a + 1))

    return SimpleNamespace(recovers=recovers, recovery_step=recovery_step, steps=steps, recovered=recovered)
