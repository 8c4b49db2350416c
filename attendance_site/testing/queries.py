"""Exact database query counts on hot paths, as Zulip asserts them.

A count that drifts (an N+1 creeping in, a lookup added to a check-in) fails the test
with every statement numbered, so the change is found by reading, not by bisecting.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext


@contextmanager
def assert_database_query_count(count: int, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[CaptureQueriesContext]:
    """Fail unless the block runs exactly ``count`` queries on the ``using`` database."""
    with CaptureQueriesContext(connections[using]) as captured:
        yield captured
    if len(captured) != count:
        raise AssertionError(query_count_report(expected=count, queries=captured.captured_queries))


def query_count_report(*, expected: int, queries: list[dict[str, str]]) -> str:
    """The failure message: the counts, then every statement numbered."""
    lines = [f"{len(queries)} database queries, {expected} expected:"]
    lines += [f"{number}. {query['sql']}" for number, query in enumerate(queries, start=1)]
    return "\n".join(lines)
