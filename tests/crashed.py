"""Shared helper: a run stopped by a crash and resumed, against the same run uninterrupted."""

from __future__ import annotations

import hashlib

import pytest

import scslab

OUTPUTS = ("metrics.parquet", "stories.parquet")


class Crash(Exception):
    pass


def digests(folder):
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in OUTPUTS}


def resumed_as_whole(scenario, tmp_path, *, crash_on: int, every: int, **run) -> bool:
    """Whether ``scenario`` run with ``run`` (population, days, seed, engine...), crashed after pass
    ``crash_on`` with a checkpoint every ``every`` passes and resumed, writes the bytes of the run without the
    crash."""
    def crash(d):
        if d == crash_on:
            raise Crash(d)

    whole, cut = tmp_path / "whole", tmp_path / "cut"
    scslab.run(scenario, whole, **run)
    with pytest.raises(Crash):
        scslab.run(scenario, cut, checkpoint_every=every, progress=crash, **run)
    scslab.resume(cut)
    return digests(whole) == digests(cut)
