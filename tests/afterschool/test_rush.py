"""The selection rush (in CI, bounded): 2,000 parents (and forty double clicks) choose within a minute against
gunicorn's worker processes on PostgreSQL, many of them for the same five 20-seat courses; afterwards SQL over the tables shows
no course above capacity, no child twice in a course or in two courses at the same time, and every request
answered with a place, a waiting-list place or a clear refusal — no 5xx, nothing lost. (tests/afterschool/rush.py)"""
from __future__ import annotations

import os
import time
import uuid

import pytest

from tests.afterschool import rush

pytestmark = pytest.mark.skipif(not os.environ.get("JIZUO_TEST_DATABASE_URL"), reason="the rush runs on PostgreSQL")


def test_two_thousand_parents_at_once_overbook_nothing_and_lose_nothing(tmp_path):
    from tests.conftest import _pg_exec, _pg_url

    name = f"jizuo_rush_{uuid.uuid4().hex[:8]}"
    _pg_exec(f'CREATE DATABASE "{name}"')
    proc = None
    try:
        world = rush.build(_pg_url(name), "rush-secret-not-for-production", 2000, str(tmp_path))
        assert len(world.parents) == 2000
        proc, base = rush.serve(world, str(tmp_path), workers=3)
        jobs = rush.plan(world)
        start = time.monotonic()
        answers = rush.drive(world, base, jobs, clients=64, spread=55)  # every parent has clicked within a minute
        took = time.monotonic() - start
        got = rush.check(world.url, answers)
        ms = [a["ms"] for a in answers]
        print(f"rush: {len(jobs)} requests sent within 55 s, all answered after {took:.1f} s; "
              f"p50 {rush.percentile(ms, .5):.0f} ms, p95 {rush.percentile(ms, .95):.0f} ms; {got}")
        # all answered soon after the last parent clicked: 2½ minutes catches a stall or a queue that never drains
        # even on a machine crowded by other test runs (80–160 s measured there; JIZUO_RUSH_MAX_SECONDS to tighten)
        assert took < float(os.environ.get("JIZUO_RUSH_MAX_SECONDS", "150")), took
        assert got | {"over_capacity": 0, "double": 0, "clashes": 0, "lost_or_5xx": 0, "unclear": 0,
                      "mismatched": 0} == got, got
        assert got["enrolled"] and got["waiting"] and got["refused_422"] == 200  # the clashing pairs
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
