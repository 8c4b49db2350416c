"""The `make run` supervisor: a dead child is restarted with back-off, the rest keep running."""

import signal
import sys
import time

from attendance_site.supervisor import Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
CRASHER = [sys.executable, "-c", "raise SystemExit(3)"]
# Ignores SIGTERM, as a worker stuck in a task would.
STUBBORN = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"]


def poll_until(supervisor: Supervisor, condition, limit_s: float = 20.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "the supervisor did not get there"
        supervisor.poll()
        time.sleep(0.02)


def test_a_killed_child_is_restarted_and_the_others_keep_running(tmp_path):
    lines: list[str] = []
    supervisor = Supervisor(cwd=tmp_path, log=lines.append, initial_backoff_s=0.05)
    try:
        web = supervisor.add("web", SLEEPER)
        worker = supervisor.add("worker", SLEEPER)
        web_pid, worker_pid = web.started.pid, worker.started.pid

        worker.started.send_signal(signal.SIGKILL)
        poll_until(supervisor, lambda: worker.started.pid != worker_pid and worker.started.poll() is None)

        assert web.started.pid == web_pid and web.started.poll() is None
        assert worker.restarts == 1
        assert f"worker (pid {worker_pid}) was killed by SIGKILL; restarting in 0.05 s" in lines
        assert "worker: restarting (restart 1)" in lines
    finally:
        supervisor.stop()


def test_a_child_that_keeps_failing_is_restarted_with_growing_back_off(tmp_path):
    lines: list[str] = []
    supervisor = Supervisor(cwd=tmp_path, log=lines.append, initial_backoff_s=0.05, max_backoff_s=0.2)
    try:
        crasher = supervisor.add("beat", CRASHER)
        poll_until(supervisor, lambda: crasher.restarts >= 4)
    finally:
        supervisor.stop()

    delays = [line.rsplit("restarting in ", 1)[1] for line in lines if "exited with code 3" in line]
    assert delays[:4] == ["0.05 s", "0.1 s", "0.2 s", "0.2 s"]


def test_back_off_starts_again_after_a_child_ran_steadily(tmp_path):
    lines: list[str] = []
    supervisor = Supervisor(cwd=tmp_path, log=lines.append, initial_backoff_s=0.05, stable_after_s=0.3)
    try:
        child = supervisor.add("worker", SLEEPER)
        child.backoff_s = 8.0  # as if it had failed several times before
        time.sleep(0.4)
        child.started.send_signal(signal.SIGKILL)
        poll_until(supervisor, lambda: child.restarts == 1)
    finally:
        supervisor.stop()

    assert any(line.endswith("restarting in 0.05 s") for line in lines)


def test_stop_ends_every_child_and_kills_one_that_ignores_its_signal(tmp_path):
    lines: list[str] = []
    supervisor = Supervisor(cwd=tmp_path, log=lines.append, stop_grace_s=1.0)
    sleeper = supervisor.add("web", SLEEPER)
    stubborn = supervisor.add("worker", STUBBORN)
    time.sleep(0.5)  # let the stubborn one install its handler

    supervisor.stop()

    assert sleeper.started.returncode == -signal.SIGTERM
    assert stubborn.started.returncode == -signal.SIGKILL
    assert f"worker (pid {stubborn.started.pid}) did not stop in time; killing it" in lines
    supervisor.poll()  # nothing is restarted after a stop
    assert sleeper.started.poll() is not None and stubborn.started.poll() is not None
