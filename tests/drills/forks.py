"""Bot processes started by forking one that has imported the bot already.

A drill that kills the bot dozens of times would otherwise pay a whole start each time: `python -m bot` spends
seconds of CPU importing (aiogram builds a pydantic schema for every Telegram type), more than the bot then lives
between two kills, and on a small CI machine that CPU is taken from every other test. Here one helper process
imports `bot.__main__` once and forks a child per start; the child sets its environment and runs
`bot.__main__.main` exactly as `python -m bot` would. It is a real, separate process: SIGKILL loses whatever it held
in memory, and its files and connections are its own (none are opened before the fork).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_HELPER = r"""
import json, os, signal, sys, traceback
import bot.__main__ as entry
import bot.app  # the imports every start would pay (entry imports it when the bot starts)
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children: a dead child's pid is gone at once
print("ready", flush=True)
for line in sys.stdin:
    order = json.loads(line)
    pid = os.fork()
    if pid:
        print(pid, flush=True)
        continue
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        os.dup2(os.open(order["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), 2)
        sys.stdin.close()
        os.environ.clear()
        os.environ.update(order["env"])
        entry.main(order["argv"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
"""


class Child:
    """One bot process forked by `Forks`."""

    def __init__(self, pid: int, log: Path):
        self.pid, self.log = pid, log

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def signal(self, sig: int) -> None:
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    async def gone(self, timeout: float) -> bool:
        """Wait until the process has ended (its files and connections closed); False if it outlived `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.alive():
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def kill(self) -> None:
        self.signal(signal.SIGKILL)
        assert await self.gone(30), f"bot process {self.pid} outlived SIGKILL"

    async def stop(self, timeout: float = 20) -> None:
        """SIGTERM as a service manager would, then SIGKILL if it has not ended in `timeout` seconds."""
        self.signal(signal.SIGTERM)
        if not await self.gone(timeout):
            await self.kill()


class Forks:
    """The forking helper: `async with Forks() as forks: child = await forks.spawn(argv, env, log)`."""

    def __init__(self) -> None:
        self.helper: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Forks:
        self.helper = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _HELPER, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert await self._line() == "ready"
        return self

    async def _line(self) -> str:
        assert self.helper is not None and self.helper.stdout is not None
        return (await asyncio.wait_for(self.helper.stdout.readline(), 120)).decode().strip()

    async def spawn(self, argv: list[str], env: dict[str, str], log: Path) -> Child:
        """Start `python -m bot ARGV` with exactly `env` as its environment, its stderr appended to `log`."""
        assert self.helper is not None and self.helper.stdin is not None
        self.helper.stdin.write((json.dumps({"argv": argv, "env": env, "log": str(log)}) + "\n").encode())
        await self.helper.stdin.drain()
        return Child(int(await self._line()), log)

    async def __aexit__(self, *exc: object) -> None:
        if self.helper is None:
            return
        if self.helper.stdin is not None:
            self.helper.stdin.close()
        try:
            await asyncio.wait_for(self.helper.wait(), 30)
        except TimeoutError:
            self.helper.kill()
            await self.helper.wait()
