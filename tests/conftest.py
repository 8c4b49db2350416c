"""The API fuzz test's figures at the end of a run: requests per role and their answers."""

from tests.fuzzing import fuzz_statistics


def pytest_terminal_summary(terminalreporter):
    if not fuzz_statistics:
        return
    terminalreporter.section("API fuzzing")
    for role in sorted({role for role, _ in fuzz_statistics}):
        by_status = {status: count for (who, status), count in sorted(fuzz_statistics.items()) if who == role}
        answers = ", ".join(f"{status}: {count}" for status, count in by_status.items())
        terminalreporter.write_line(f"{role}: {sum(by_status.values())} requests ({answers})")
