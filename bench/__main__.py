"""``python -m bench [name ...]``: run every benchmark, or only the named ones."""

import argparse
import sys

from bench.report import note

BENCHES = ("checkin_throughput", "attendance_list")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name", help="one of: " + ", ".join(BENCHES))
    names = parser.parse_args(argv).names or list(BENCHES)
    unknown = [name for name in names if name not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHES)}")

    from bench.env import Unavailable, bench_env_start

    try:
        env = bench_env_start()
    except Unavailable as reason:
        print(f"bench: SKIPPED, {reason}", file=sys.stderr)
        return 0
    try:
        # Imported after django.setup(): both import models.
        from bench import attendance_list, checkin_throughput

        runners = {"checkin_throughput": checkin_throughput.run, "attendance_list": attendance_list.run}
        for name in names:
            note(f"--- {name}")
            try:
                runners[name](env)
            except Unavailable as reason:
                print(f"bench: {name} SKIPPED, {reason}", file=sys.stderr)
    finally:
        env.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
