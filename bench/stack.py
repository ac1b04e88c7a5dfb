"""Processes of a benchmark run: start, wait for, measure and stop them.

Every process is started by us with its own log under var/bench-logs/, and stopped by its
own pid (SIGTERM, then SIGKILL): nothing else on the machine is touched.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(os.environ.get("BENCH_VENV_BIN", str(ROOT / ".venv" / "bin")))
LOG_DIR = ROOT / "var" / "bench-logs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Proc:
    name: str
    args: list[str]
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{self.name}.log"

    def start(self) -> Proc:
        log = self.log_path.open("ab")
        log.write(f"\n=== {time.strftime('%H:%M:%S')} {' '.join(self.args)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # The process leads its own session: signal its group, which is only its children.
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


def wait_http(url: str, *, timeout: float = 60.0, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited:\n{proc.log_tail()}")
        try:
            response = requests.get(url, timeout=2)
            if response.status_code < 500:
                return
            last = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            last = str(exc)
        time.sleep(0.2)
    raise TimeoutError(f"{url} not up after {timeout:.0f} s ({last})")


# -- memory ---------------------------------------------------------------------------------
def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may contain spaces, so split after the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def process_tree(pid: int) -> list[int]:
    children = _children_map()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _kib(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU seconds used so far by the process tree (children that exited and
    were waited for are included by the kernel in their parent's counters)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime are fields 14-17 of stat (11-14 after the comm).
        total += sum(int(v) for v in fields[11:15])
    return total / ticks


def memory_of(pid: int) -> dict[str, float]:
    """RSS of every process in the tree, and their PSS sum (shared pages counted once)."""
    rss, pss = [], 0
    for member in process_tree(pid):
        kib = _kib(Path(f"/proc/{member}/status"), "VmRSS")
        if kib:
            rss.append(kib)
            pss += _kib(Path(f"/proc/{member}/smaps_rollup"), "Pss")
    return {
        "processes": len(rss),
        "rss_mib_each": [round(k / 1024, 1) for k in sorted(rss, reverse=True)],
        "rss_mib_total": round(sum(rss) / 1024, 1),
        "pss_mib_total": round(pss / 1024, 1),
    }


class MemorySampler:
    """Samples the memory of named process trees every ``interval`` seconds; keeps the peak."""

    def __init__(self, procs: dict[str, Proc], interval: float = 1.0) -> None:
        self.procs = procs
        self.interval = interval
        self.peak: dict[str, dict[str, float]] = {}
        self.last: dict[str, dict[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        for name, proc in self.procs.items():
            if not proc.alive():
                continue
            mem = memory_of(proc.pid)
            self.last[name] = mem
            if mem["rss_mib_total"] >= self.peak.get(name, {}).get("rss_mib_total", 0):
                self.peak[name] = mem

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
