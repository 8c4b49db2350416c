"""The benchmark environment: a PostgreSQL database, Redis, and Django set up on them."""

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bench.report import note

if TYPE_CHECKING:  # imported at run time only where an embedded Redis is started
    from attendance_site.embedded_redis import EmbeddedRedis

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_attendance"


class Unavailable(Exception):
    """Something the benchmarks need is missing: they are skipped, not failed."""


@dataclass
class BenchEnv:
    database_url: str
    redis_url: str
    # Stopped at the end of the run; only what this run started.
    _embedded_redis: "EmbeddedRedis | None" = field(default=None, repr=False)

    def child_env(self) -> dict[str, str]:
        """The environment of a subprocess that must use the same database and Redis."""
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "DJANGO_SETTINGS_MODULE": "attendance_site.settings",
        }

    def close(self) -> None:
        if self._embedded_redis is not None:
            self._embedded_redis.stop()
            self._embedded_redis = None


def _database_ensure(database_url: str) -> None:
    """Create the bench database if it does not exist; Unavailable if the server is down."""
    dbname = conninfo_to_dict(database_url).get("dbname")
    if not isinstance(dbname, str):
        raise Unavailable("the database URL names no database")
    maintenance = make_conninfo(database_url, dbname="postgres", connect_timeout=3)
    try:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
            if not exists:
                note(f"creating database {dbname}")
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except psycopg.OperationalError as error:
        raise Unavailable(f"PostgreSQL unreachable ({error})".strip()) from error


def bench_env_start() -> BenchEnv:
    # The benchmarks send from one device far faster than any kiosk does: at its real rate
    # the per-device throttle (docs/access.md) would answer most of it with 429. A rate no
    # bench reaches keeps its cost (a Redis read and write per request) in the figures.
    os.environ.setdefault("DEVICE_THROTTLE_RATE", "1000000/second")
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise Unavailable(f"DATABASE_URL is not PostgreSQL: {database_url.split('://')[0]}")
    _database_ensure(database_url)

    embedded = None
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        from attendance_site.embedded_redis import embedded_redis_start

        embedded = embedded_redis_start()
        redis_url = embedded.url
        note(f"embedded Redis on {redis_url} (pid {embedded.process.pid})")
    env = BenchEnv(database_url=database_url, redis_url=redis_url, _embedded_redis=embedded)
    try:
        note("migrating the bench database")
        subprocess.run(
            [sys.executable, str(BASE_DIR / "manage.py"), "migrate", "--noinput", "--verbosity", "0"],
            cwd=BASE_DIR,
            env=env.child_env(),
            check=True,
            timeout=300,
        )
        # Settings are read from the environment once, at setup: it must be final here.
        os.environ.update(
            DATABASE_URL=database_url, REDIS_URL=redis_url, DJANGO_SETTINGS_MODULE="attendance_site.settings"
        )
        import django

        django.setup()
    except BaseException:
        env.close()
        raise
    return env


def bench_admin():
    """An admin of every site: the actor of the services that build the bench data."""
    from django.contrib.auth import get_user_model

    from accounts.models import Role
    from accounts.services import user_create

    existing = get_user_model().objects.filter(username="bench-admin").first()
    return existing or user_create(username="bench-admin", password=None, role=Role.ADMIN, all_sites=True)
