"""Load worker subprocesses (bench/clients/load.py) for one cell: start, window, stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from typing import TYPE_CHECKING

import psutil

from bench.common import ROOT, is_photon

if TYPE_CHECKING:
    from bench.cell import Cell


class Workers:
    """Load worker subprocesses (bench/clients/load.py) for one cell."""

    def __init__(self, cell: Cell, base: str, nproc: int, batch: int, ramp_timeout: float):
        self.cell, self.base = cell, base
        self.nproc = max(1, min(nproc, cell.n))
        self.batch, self.ramp_timeout = batch, ramp_timeout
        self.procs: list[asyncio.subprocess.Process] = []
        self.ps: list[psutil.Process] = []

    async def start(self) -> list[dict]:
        per = [self.cell.n // self.nproc + (j < self.cell.n % self.nproc)
               for j in range(self.nproc)]
        first = 0
        for j, count in enumerate(per):
            slow = self.cell.slow if j == 0 else 0
            server_name = "photon" if is_photon(self.cell.server) else self.cell.server
            cmd = [sys.executable, "-m", "bench.clients.load", "--server", server_name,
                   "--base", self.base, "--first", str(first), "--count", str(count),
                   "--k", str(self.cell.k), "--batch", str(self.batch), "--slow", str(slow),
                   "--ramp-timeout", str(self.ramp_timeout)]
            first += count
            p = await asyncio.create_subprocess_exec(
                *cmd, cwd=str(ROOT), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=None, limit=2**27)
            self.procs.append(p)
            self.ps.append(psutil.Process(p.pid))
        return [await self._read(p, self.ramp_timeout + 120) for p in self.procs]

    async def _read(self, p, timeout: float) -> dict:
        line = await asyncio.wait_for(p.stdout.readline(), timeout)
        if not line:
            raise RuntimeError("load worker exited early")
        return json.loads(line)

    async def measure(self, w0: float, w1: float, end: float) -> list[dict]:
        cmd = (json.dumps({"w0": w0, "w1": w1, "end": end}) + "\n").encode()
        for p in self.procs:
            p.stdin.write(cmd)
            await p.stdin.drain()
        return [await self._read(p, end - time.time() + 120) for p in self.procs]

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self.ps:
            with contextlib.suppress(psutil.Error):
                total += sum(p.cpu_times()[:2])
        return total

    async def stop(self) -> None:
        for p in self.procs:
            if p.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    p.stdin.close()
                try:
                    await asyncio.wait_for(p.wait(), 10)
                except TimeoutError:
                    p.kill()
                    await p.wait()
