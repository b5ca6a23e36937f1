"""PostgreSQL's answer latency alone: the benchmark's paced mix (50 updates/s), several runs, each on a fresh
database, with the slowest answers of each run and when they came (docs/testing.md "What bounds the misses").

    TEST_DATABASE_URL=postgresql+asyncpg://... python -m bench.pg_latency [runs]
"""

from __future__ import annotations

import asyncio
import sys

from bench import run
from tests.drills.common import drop_pg_database, fresh_pg_database


class TimedLoad(run.Load):
    """The benchmark's load, remembering when each step started and what it waited for."""

    def __init__(self, fake):
        super().__init__(fake)
        self.steps: list[tuple[float, float, str]] = []

    async def step(self, user, kind, payload, expect, message=None, chat=None, notice=False):
        t0, n = asyncio.get_running_loop().time(), len(self.latencies)
        found = await super().step(user, kind, payload, expect, message, chat, notice)
        self.steps.append((self.latencies[n] * 1000, t0, expect or "volunteer's tap"))
        return found


async def main(runs: int) -> None:
    loads: list[TimedLoad] = []

    def timed_load(fake) -> TimedLoad:
        loads.append(TimedLoad(fake))
        return loads[-1]

    run.Load = timed_load  # type: ignore[assignment,misc]  # mixed() builds its load by this name
    for i in range(runs):
        url, name = await fresh_pg_database()
        try:
            r = await run.mixed(url, residents=150, volunteers=20, rounds=1, rate=50)
        finally:
            await drop_pg_database(name)
        start = min(t for _, t, _ in loads[-1].steps)
        slowest = sorted(loads[-1].steps, reverse=True)[:5]
        print(
            f"run {i + 1}: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms; slowest: "
            + ", ".join(f"{ms:.0f} ms at {t - start:.1f} s ({what!r})" for ms, t, what in slowest),
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
