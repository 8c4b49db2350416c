"""Helpers for tests that start servers or workers in separate processes."""

from urllib.parse import quote

from django.db import connection

from attendance_site.embedded_redis import free_port

__all__ = ["free_port", "subprocess_database_env"]


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
