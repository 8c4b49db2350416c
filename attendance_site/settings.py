"""Django settings, read from the environment (see .env.example for every key).

With nothing set, the project runs on embedded defaults: SQLite in ``var/`` and the
Redis server that ``make run`` (or the test plugin) starts and exports as REDIS_URL.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from attendance_site import __version__
from attendance_site.plugins.loading import plugins_install

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# One switch selects the production defaults below (HTTPS only, secure cookies, HSTS)
# and makes the settings a deployment cannot do without required.
DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in ("development", "production"):
    raise ImproperlyConfigured(f"DJANGO_ENV must be development or production, not {DJANGO_ENV!r}.")
PRODUCTION = DJANGO_ENV == "production"


def _production_requires(name: str, problem: str) -> None:
    raise ImproperlyConfigured(f"{name} {problem} (DJANGO_ENV=production; see .env.example).")


DEBUG = env.bool("DEBUG", default=False)
if PRODUCTION and DEBUG:
    _production_requires("DEBUG", "must be false: it shows settings and code to anyone who causes an error")


def _local_secret_key() -> str:
    """A random key kept in var/, so an install without SECRET_KEY still has its own.

    A key written in the repository would let anyone forge sessions and QR check-ins.
    """
    import secrets

    path = VAR_DIR / "secret-key"
    if not path.exists():
        VAR_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
if PRODUCTION:
    # Django's own bar for a real key (check --deploy, security.W009).
    if not SECRET_KEY:
        _production_requires("SECRET_KEY", "is not set")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-"):
        _production_requires("SECRET_KEY", "is too weak: use 50 or more random characters")
elif not SECRET_KEY:
    SECRET_KEY = _local_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    _production_requires("ALLOWED_HOSTS", "is not set: list the host names this site is served under")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "guardian",
    "channels",
    "django_celery_beat",
    "attendance_site.events",
    "accounts",
    "employees",
    "attendance",
    "dashboard",
    "biometrics",
    "environment",
    "simulations",
    "streaming",
    "demo",
]

# --- Plugins (docs/plugins.md) ---------------------------------------------------
# PLUGINS=plugins.badges,other.plugin enables plugins; PLUGINS_CONFIG is a JSON object of
# their settings keyed by plugin, e.g. {"plugins.badges": {"uid_length": 8}}. Each is
# checked here (platform version, required settings), before any model is imported.
PLUGINS = env.list("PLUGINS", default=[])
PLUGINS_CONFIG = env.json("PLUGINS_CONFIG", default={})
INSTALLED_APPS += plugins_install(plugins=PLUGINS, plugins_config=PLUGINS_CONFIG, platform_version=__version__)
# Last: its ready() fills the registry from every app's extensions.py, then freezes it.
INSTALLED_APPS.append("attendance_site.plugins")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "attendance_site.csp.ContentSecurityPolicyMiddleware",
    "attendance_site.request_limits.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: it turns a login that axes refused into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "attendance_site.urls"
WSGI_APPLICATION = "attendance_site.wsgi.application"
ASGI_APPLICATION = "attendance_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.menu",
            ],
        },
    },
]

# --- HTTPS and browser security ------------------------------------------------
# Production defaults; each can be set on its own (.env.example).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
# Probes on the machine itself (load balancers, orchestrators) speak plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=PRODUCTION)
# Behind a proxy that terminates TLS: the header it sets and the value that means
# HTTPS, e.g. HTTP_X_FORWARDED_PROTO,https. Only with a proxy that overwrites it.
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must be HEADER,value, e.g. HTTP_X_FORWARDED_PROTO,https.")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) or None
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PRODUCTION)

# No inline script without this response's nonce, no framing, nothing from other
# origins: the vendored hls.js plays from blob: URLs (MediaSource, its worker), and
# the live pages' WebSocket origin is added per request (attendance_site/csp.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "media-src": [SELF, "blob:"],
        "worker-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Database ---------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Under ASGI every request may run in its own thread, and persistent per-thread
        # connections pile up until PostgreSQL refuses more; a pool bounds them.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
            # How long a request waits for a connection before it is answered 503.
            "timeout": env.float("DATABASE_POOL_TIMEOUT_SECONDS", default=10.0),
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(VAR_DIR / "attendance.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the
                # busy timeout instead of failing with "database is locked" mid-transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file (not :memory:) so that a Celery worker in a test can share it; one per
            # test process, so that two test runs on one checkout do not collide.
            "TEST": {"NAME": str(VAR_DIR / f"test-attendance-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and results, Channels layer, cache -----------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

# A Redis that stops answering (paused, half-open connection) must not hang a request or
# a task: every client but the Channels consumer's blocking receive gives up after this.
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT_SECONDS", default=5.0)
# After a Redis failure, what can do without Redis (cache versions, sending a domain event's
# delivery task) skips it for this long in that process instead of waiting again.
REDIS_BREAKER_SECONDS = env.float("REDIS_BREAKER_SECONDS", default=10.0)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "attendance",
        "OPTIONS": {"socket_connect_timeout": REDIS_SOCKET_TIMEOUT, "socket_timeout": REDIS_SOCKET_TIMEOUT},
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # socket_timeout None: redis-py 8 defaults to 5 s, and the layer's blocking
        # receive on an idle channel would then raise and crash every quiet consumer.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}], "prefix": "attendance:channels"},
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
}
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_SOCKET_TIMEOUT
# Celery's default is 20 reconnection attempts a second apart, which kept a face check-in
# waiting 20 s for a result store that was down; a device is better served by a quick 503.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_DEFAULT_QUEUE = "default"
# Which queue a task runs on is routing, not part of the task.
CELERY_TASK_ROUTES = {
    "attendance.*": {"queue": "default"},
    "events.*": {"queue": "default"},
    "biometrics.*": {"queue": "biometrics"},
    # The supervisor is short; the streams queue is full of week-long pipelines.
    "streaming.supervise": {"queue": "default"},
    "streaming.*": {"queue": "streams"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_RESULT_EXPIRES = timedelta(hours=1)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Synced into django-celery-beat's tables at beat start; admins can retime them there.
CELERY_BEAT_SCHEDULE = {
    "biometrics-raw-images-purge": {"task": "biometrics.raw_images_purge", "schedule": 3600.0},
    "environment-readings-purge": {"task": "environment.readings_purge", "schedule": 3600.0},
    "streaming-supervise": {"task": "streaming.supervise", "schedule": 10.0},
    "events-sweep": {"task": "events.sweep", "schedule": env.float("DOMAIN_EVENT_SWEEP_SECONDS", default=10.0)},
    "events-prune": {"task": "events.prune", "schedule": 3600.0},
}
# `make run` sets this so the demo devices keep checking people in; 0 (the default) never.
DEMO_ACTIVITY_SECONDS = env.float("DEMO_ACTIVITY_SECONDS", default=0)
if DEMO_ACTIVITY_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["demo-activity"] = {"task": "demo.activity", "schedule": DEMO_ACTIVITY_SECONDS}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Auth, permissions ------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: it refuses a locked-out (username, address) before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous sees nothing
GUARDIAN_RAISE_403 = True
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login lockout (django-axes) on every login path: API token, admin, site (docs/access.md).
# Keyed by the (username, address) pair: someone guessing one person's password locks
# only that person at that address, never a whole office behind one address.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
# The audit log and LoginLockout keep what matters; a row per successful login does not.
AXES_DISABLE_ACCESS_LOG = True
# Reverse proxies in front of the web server that append to X-Forwarded-For. 0 (the
# default) ignores the header, which a client can forge; the throttles and the lockout
# both read the address this way.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# API tokens (django-rest-knox): only a SHA-512 digest is stored; each expires.
API_TOKEN_TTL = timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=24))
# Live tokens a person may hold; a new one beyond this ends the oldest.
API_TOKENS_PER_USER_MAX = env.int("API_TOKENS_PER_USER_MAX", default=10)
REST_KNOX = {"TOKEN_TTL": API_TOKEN_TTL, "AUTO_REFRESH": False, "AUTH_HEADER_PREFIX": "Token"}

# --- API --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header turns "not logged in" into 401.
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsStaffMemberWithRole"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "attendance_site.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Per address on the token endpoints, per person on rotate and revoke, per device on
    # the device endpoints. An empty rate turns a throttle off.
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("AUTH_THROTTLE_RATE", default="60/minute"),
        "device": env.str("DEVICE_THROTTLE_RATE", default="600/minute"),
    },
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}

DRF_STANDARDIZED_ERRORS = {
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "EXCEPTION_HANDLER_CLASS": "attendance_site.api.ApiExceptionHandler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Biometric attendance API",
    "DESCRIPTION": (
        "People authenticate with a session (browser) or `Authorization: Token <key>`; "
        "devices with `Authorization: Device <credential>`. Errors follow one format: "
        '`{"type": ..., "errors": [{"code", "detail", "attr"}]}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files ship in a package: the docs page works with no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        # Check-in or check-out, whether of an event or of a camera that records them.
        "DirectionEnum": "attendance.models.AttendanceEvent.Direction",
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
    ],
}

# --- Domain settings ----------------------------------------------------------
# How far ahead of the server's clock a device may stamp an event (clock skew).
ATTENDANCE_MAX_CLOCK_SKEW = timedelta(seconds=env.int("ATTENDANCE_MAX_CLOCK_SKEW_SECONDS", default=300))
# Device last_seen is written at most this often, so check-ins do not all update a row.
DEVICE_LAST_SEEN_RESOLUTION = timedelta(seconds=env.int("DEVICE_LAST_SEEN_RESOLUTION_SECONDS", default=60))

# --- Domain event log (attendance_site/events) -------------------------------------
# An event not delivered this long after it was written is delivered by the sweeper.
DOMAIN_EVENT_REDELIVER_AFTER = timedelta(seconds=env.int("DOMAIN_EVENT_REDELIVER_AFTER_SECONDS", default=30))
# A failing handler is retried after 5 s, 10 s, 20 s ... at most an hour apart, then given up.
DOMAIN_EVENT_RETRY_BASE = timedelta(seconds=env.int("DOMAIN_EVENT_RETRY_BASE_SECONDS", default=5))
DOMAIN_EVENT_RETRY_MAX = timedelta(seconds=env.int("DOMAIN_EVENT_RETRY_MAX_SECONDS", default=3600))
DOMAIN_EVENT_MAX_ATTEMPTS = env.int("DOMAIN_EVENT_MAX_ATTEMPTS", default=20)
# Delivered events are deleted after this many days.
DOMAIN_EVENT_RETENTION = timedelta(days=env.int("DOMAIN_EVENT_RETENTION_DAYS", default=30))

# --- Biometrics -----------------------------------------------------------------
# Fernet keys (urlsafe base64, 32 bytes), comma-separated: the first encrypts, all decrypt.
# Generate one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
BIOMETRIC_TEMPLATE_KEYS = env.list("BIOMETRIC_TEMPLATE_KEYS", default=[])
# Keep enrolment photos (encrypted) this many days for review; 0 keeps none.
BIOMETRIC_RAW_IMAGE_RETENTION_DAYS = env.int("BIOMETRIC_RAW_IMAGE_RETENTION_DAYS", default=0)
# Largest image accepted, in bytes and in pixels (decompression bombs are refused unread).
BIOMETRIC_MAX_IMAGE_BYTES = env.int("BIOMETRIC_MAX_IMAGE_BYTES", default=8 * 1024 * 1024)
BIOMETRIC_MAX_IMAGE_PIXELS = env.int("BIOMETRIC_MAX_IMAGE_PIXELS", default=24_000_000)
# How long a device waits for the recognition worker before it gets a 503.
BIOMETRIC_RECOGNITION_TIMEOUT_SECONDS = env.float("BIOMETRIC_RECOGNITION_TIMEOUT_SECONDS", default=15.0)
# Which registered biometric backend serves each kind (registry.biometric_backends, keyed
# by kind): a plugin's matcher is chosen here, and an unknown key stops start-up.
BIOMETRIC_BACKENDS = {
    "face_matcher": env.str("BIOMETRIC_FACE_MATCHER", default="face"),
    "voice_verifier": env.str("BIOMETRIC_VOICE_VERIFIER", default="voice"),
    "liveness": env.str("BIOMETRIC_LIVENESS", default="liveness"),
}
# QR check-in tokens rotate this often and are valid for one window (plus one for clock skew).
QR_TOKEN_WINDOW_SECONDS = env.int("QR_TOKEN_WINDOW_SECONDS", default=30)

# Condition readings older than this are deleted hourly.
ENVIRONMENT_READING_RETENTION_DAYS = env.int("ENVIRONMENT_READING_RETENTION_DAYS", default=90)

# Where the streaming workers write HLS playlists and segments (served with auth).
STREAMS_ROOT = env.str("STREAMS_ROOT", default=str(VAR_DIR / "streams"))
# Streams running at once; the streams worker runs this many processes. One 720p25
# stream with face boxes took 0.3 CPU s per s on the benchmark clip, and a 2-core
# machine kept 7 in real time (docs/benchmarks.md); real cameras cost more.
STREAMS_MAX_CONCURRENT = env.int("STREAMS_MAX_CONCURRENT", default=2)
# A running stream whose heartbeat is older than this is restarted by the supervisor.
STREAMS_HEARTBEAT_STALE_SECONDS = env.int("STREAMS_HEARTBEAT_STALE_SECONDS", default=30)
# No stream starts with less free disk than this; a running one fails below half of it.
STREAMS_MIN_FREE_DISK_MB = env.int("STREAMS_MIN_FREE_DISK_MB", default=500)

# Request bodies above this size are refused with 413 before anything parses them: a
# declared length at once, a chunked body as soon as it passes the limit.
MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=2_621_440)
# Multipart uploads (photos, frame bursts, voice clips) may be larger; each file is
# still held to the per-kind limits above.
MAX_UPLOAD_BODY_BYTES = env.int("MAX_UPLOAD_BODY_BYTES", default=20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
# A body or uploaded file larger than this goes to a temporary file, not memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
# Longer URLs (path and query) get 414; no endpoint needs more than a few hundred bytes.
MAX_URL_BYTES = env.int("MAX_URL_BYTES", default=8192)

# What a 503 during a Redis or database outage tells clients to wait before retrying.
OUTAGE_RETRY_AFTER_SECONDS = env.int("OUTAGE_RETRY_AFTER_SECONDS", default=10)

# --- I18N, static -----------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # QR page links are credentials in a path: masked in every line (log_redaction.py).
    "filters": {"bearer_paths": {"()": "attendance_site.log_redaction.BearerPathFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["bearer_paths"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # axes narrates every login at INFO; failures and lockouts are its warnings.
        "axes": {"level": "WARNING"},
    },
}
