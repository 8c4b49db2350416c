"""Keeps a set of child processes running: a child that dies is started again, with back-off.

Used by ``make run`` (:mod:`attendance_site.runner`). One dead worker must not take the
web server down with it: each child is restarted on its own, after 1, 2, 4 ... up to
``max_backoff_s`` seconds (the delay resets once the child has stayed up for
``stable_after_s``), and the restart is logged in one line. Everything stops only when
:meth:`Supervisor.stop` is called (the runner does on Ctrl-C or SIGTERM).

No Django here: the supervisor is tested with plain child commands.
"""

import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Child:
    name: str
    command: list[str]
    # How to ask this child to stop; SIGKILL follows after the grace period.
    stop_signal: int = signal.SIGTERM
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff_s: float = 0.0
    restart_at: float | None = None  # when a dead child is due to start again

    @property
    def started(self) -> subprocess.Popen:
        """The child's current process; a child is started as it is added."""
        if self.process is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self.process


@dataclass
class Supervisor:
    cwd: Path
    log: Callable[[str], None] = print
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    stable_after_s: float = 60.0
    stop_grace_s: float = 15.0
    children: dict[str, Child] = field(default_factory=dict)
    stopped: bool = False

    def add(self, name: str, command: list[str], *, stop_signal: int = signal.SIGTERM) -> Child:
        child = Child(name=name, command=command, stop_signal=stop_signal)
        self.children[name] = child
        self._start(child)
        return child

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(child.command, cwd=self.cwd)  # noqa: S603 (our own commands)
        child.started_at = time.monotonic()
        child.restart_at = None

    def poll(self) -> None:
        """Notice dead children and start the ones whose back-off has passed; call it often."""
        if self.stopped:
            return
        now = time.monotonic()
        for child in self.children.values():
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self.log(f"{child.name}: restarting (restart {child.restarts})")
                    self._start(child)
                continue
            assert child.process is not None
            code = child.process.poll()
            if code is None:
                continue
            if now - child.started_at >= self.stable_after_s:
                child.backoff_s = 0.0  # it had been running fine: this is a fresh failure
            child.backoff_s = (
                self.initial_backoff_s if child.backoff_s == 0 else min(child.backoff_s * 2, self.max_backoff_s)
            )
            child.restart_at = now + child.backoff_s
            self.log(
                f"{child.name} (pid {child.process.pid}) {_how_it_ended(code)}; restarting in {child.backoff_s:g} s"
            )

    def stop(self) -> None:
        """Stop the children in the reverse order of their start (Redis, started first, goes last),
        each asked with its stop signal and killed if still there after the grace period."""
        self.stopped = True
        for child in self.children.values():
            child.restart_at = None
        for child in reversed(self.children.values()):
            if child.process is None or child.process.poll() is not None:
                continue
            child.process.send_signal(child.stop_signal)
            try:
                child.process.wait(timeout=self.stop_grace_s)
            except subprocess.TimeoutExpired:
                self.log(f"{child.name} (pid {child.process.pid}) did not stop in time; killing it")
                child.process.kill()
                child.process.wait()


def _how_it_ended(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"
