"""Helpers for tests that start servers or workers in separate processes."""

import os
from urllib.parse import quote

from django.db import connection

from attendance_site.embedded_redis import free_port

__all__ = ["child_process_env", "free_port", "subprocess_database_env"]


def subprocess_database_env() -> dict[str, str]:
    """Environment that points a separate process at this test run's database."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return {"SQLITE_PATH": str(db["NAME"])}
    if connection.vendor == "postgresql":
        credentials = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = db["HOST"] or "localhost"
        port = f":{db['PORT']}" if db["PORT"] else ""
        return {"DATABASE_URL": f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"}
    raise NotImplementedError(f"no environment for database vendor {connection.vendor!r}")


def child_process_env(**overrides: str) -> dict[str, str]:
    """The environment of a server or worker process on this test run's database and Redis.

    Tasks run in that process (eager) unless overridden, so a web server needs no worker.
    """
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "SQLITE_PATH")}
    env.update(subprocess_database_env())
    env.update(
        {
            "REDIS_URL": os.environ["REDIS_URL"],
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "attendance_site.settings",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env
