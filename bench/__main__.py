"""``python -m bench [name ...]``: run every benchmark, or only the named ones.

Benchmarks on the database and server (check-in throughput, the 1M-event list) need
PostgreSQL and are skipped without it; the biometric ones need only the test data.
"""

import argparse
import importlib
import sys
import traceback

from bench.report import emit_failure, note

# name -> needs the PostgreSQL/Redis bench environment
BENCHES = {
    "checkin_throughput": True,
    "attendance_list": True,
    "face_accuracy": False,
    "face_speed": False,
    "voice_accuracy": False,
    "liveness_accuracy": False,
    "ws_fanout": False,
    "environment_perf": True,
    "stream_pipeline": False,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name", help="one of: " + ", ".join(BENCHES))
    names = parser.parse_args(argv).names or list(BENCHES)
    unknown = [name for name in names if name not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHES)}")

    from bench.env import Unavailable, bench_env_start

    env = None
    if any(BENCHES[name] for name in names):
        try:
            env = bench_env_start()
        except Unavailable as reason:
            print(f"bench: database benchmarks SKIPPED, {reason}", file=sys.stderr)
    else:
        import os

        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_site.settings")
        django.setup()
    failed = []
    try:
        for name in names:
            if BENCHES[name] and env is None:
                continue
            if not _bench_run(name, env):
                failed.append(name)
    finally:
        if env is not None:
            env.close()
    if failed:
        print(f"bench: FAILED {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _bench_run(name: str, env: object) -> bool:
    """Run one benchmark; False if it raised.

    A benchmark that breaks (a missing package, a crash half-way) is reported as a JSON
    line that is not met and the others still run: one broken benchmark must not hide
    the figures of the ones after it.
    """
    from bench.env import Unavailable

    note(f"--- {name}")
    try:
        # Imported after django.setup(): the benchmarks import models.
        module = importlib.import_module(f"bench.{name}")
        module.run(env) if BENCHES[name] else module.run()
    except Unavailable as reason:
        print(f"bench: {name} SKIPPED, {reason}", file=sys.stderr)
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        emit_failure(bench=name, error=error)
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
