"""Steward settings: one module, driven by the environment.

Defaults give a development instance that needs no server: an SQLite file and a
filesystem message broker under ``var/``. ``DATABASE_URL`` and ``CELERY_BROKER_URL``
switch to PostgreSQL and Redis/RabbitMQ. See README.md, "Configuration".
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("STEWARD_VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", default=False)
# Set only by config.test_settings; never read from the environment.
TESTING = False

DEV_SECRET_PREFIX = "django-insecure-"  # noqa: S105 - how dev secrets are recognised


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key and not key.startswith(DEV_SECRET_PREFIX):
        if len(key) < 50:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long.")
        return key
    if not DEBUG:
        reason = "is a development secret" if key else "is not set"
        raise ImproperlyConfigured(
            f"SECRET_KEY {reason} and DEBUG is off. Set SECRET_KEY (or SECRET_KEY_FILE) to a "
            "random string of 50+ characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(64))'; "
            "or set DEBUG=1 for local development."
        )
    if key:
        return key
    # Development: a random key kept under var/ (git-ignored), so sessions survive restarts.
    key_file = VAR_DIR / "dev-secret-key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = DEV_SECRET_PREFIX + secrets.token_urlsafe(50)
    key_file.write_text(key, encoding="utf-8")
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "accounts",
    "audit",
    "registry",
    "policy",
    "provenance",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    "config.middleware.NulInPathMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication (the 413 page shows who is signed in), before anything reads the body.
    "config.middleware.UploadLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    # Must be last: it turns axes' lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "config.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    _db = dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    if _db["ENGINE"] not in (
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    ):
        raise ImproperlyConfigured(
            f"DATABASE_URL must be postgres://... or sqlite://..., got engine {_db['ENGINE']}"
        )
    if _db["ENGINE"] == "django.db.backends.postgresql":
        _db.setdefault("OPTIONS", {})
        _db["OPTIONS"].setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
        _db["OPTIONS"].setdefault("application_name", "steward")
        # The statements every request or job runs (API token lookup, audit append, signing
        # claim) are prepared (config.db.prepared_cursor); Django's own queries stay unprepared.
        # DB_PREPARED_STATEMENTS=0 behind a transaction-pooling PgBouncer older than 1.21.
        if env_bool("DB_PREPARED_STATEMENTS", default=True):
            from config.db import EXPLICIT_ONLY

            _db["OPTIONS"].setdefault("prepare_threshold", EXPLICIT_ONLY)
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / "steward.sqlite3"),
        "OPTIONS": {
            # WAL lets the web server, the worker and beat share the file; IMMEDIATE
            # transactions take the write lock up front instead of failing mid-transaction.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

# Failed logins: lock the (username, ip) pair after 5 failures for 15 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

# --- Sessions, cookies, transport security ------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# TLS is on unless a developer turns it off; behind a proxy, it sets X-Forwarded-Proto.
USE_TLS = env_bool("USE_TLS", default=not DEBUG)
SESSION_COOKIE_SECURE = USE_TLS
CSRF_COOKIE_SECURE = USE_TLS
SECURE_SSL_REDIRECT = USE_TLS and env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000) if USE_TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = USE_TLS
SECURE_HSTS_PRELOAD = USE_TLS
if env_bool("BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# --- I18N, static, media -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or VAR_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = str(env_str("MEDIA_ROOT") or VAR_DIR / "media")
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Largest request body any endpoint accepts, and largest file for signing or verification
# (bytes); larger is a 413 (config.middleware.UploadLimitMiddleware).
STEWARD_MAX_UPLOAD_BYTES = env_int("STEWARD_MAX_UPLOAD_BYTES", 100 * 1024 * 1024)

# --- REST API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.TokenHasScope",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Steward API",
    "DESCRIPTION": (
        "Governance and compliance control plane for AI models. Authenticate with "
        "`Authorization: Bearer stw_...` (create a token under Settings → API tokens or with "
        "`manage.py create_api_token`). Errors share one shape: "
        '`{"error": {"code": ..., "message": ..., "fields": {...}}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Choice sets that share a field name across apps get distinct schema names.
    "ENUM_NAME_OVERRIDES": {
        "ModelVersionStatusEnum": "registry.models.VersionStatus",
        "DeploymentStatusEnum": "policy.models.DeploymentStatus",
        "WaiverStatusEnum": "policy.models.WaiverStatus",
        "JobStatusEnum": "audit.models.JobStatus",
        "ModelEuAiActClassEnum": "registry.models.EUAIActClass",
        "UseCaseAiActClassEnum": "policy.models.AIActClass",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.add_error_responses",
    ],
}

# --- Celery ------------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "filesystem://"
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Redis: a task not acknowledged within the visibility timeout is redelivered; it must be
    # longer than the longest task (see CELERY_TASK_TIME_LIMIT).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        # Workers look for expired unacknowledged messages every interval × throttle seconds.
        "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
        "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 4
# Publishing must not hang a web request when the broker is down: give up quickly, the
# job row stays queued and the periodic sweep enqueues it again.
CELERY_BROKER_TRANSPORT_OPTIONS.setdefault("max_retries", 1)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
CELERY_TASK_ALWAYS_EAGER = False

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL") or "INFO"
LOG_JSON = env_bool("LOG_JSON", default=not DEBUG)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.middleware.RequestIdLogFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_JSON else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --- Provenance (C2PA signing, watermark); see README "Provenance" ----------------------------
PROVENANCE_KEYS_DIR = Path(env_str("PROVENANCE_KEYS_DIR") or VAR_DIR / "keys")
# RFC 3161 time-stamp authority; off by default because an unreachable TSA fails the sign.
PROVENANCE_TSA_URL = env_str("PROVENANCE_TSA_URL") or None
# Extra PEM trust anchors for verification, besides the roots of registered credentials.
PROVENANCE_TRUST_ANCHORS_FILE = env_str("PROVENANCE_TRUST_ANCHORS_FILE") or None
PROVENANCE_MAX_IMAGE_PIXELS = env_int("PROVENANCE_MAX_IMAGE_PIXELS", 50_000_000)
# Verifying a file without its manifest searches the pixels for a watermark, once as they are
# and once per size Steward marked (a resized copy): about 1.5 s of CPU per megapixel each.
# A request decodes at most this many pixels in all, so no verify holds a server thread for
# minutes; a search it cut short says so.
PROVENANCE_VERIFY_DECODE_PIXELS = env_int("PROVENANCE_VERIFY_DECODE_PIXELS", 16_000_000)
# A running job whose worker died is taken over after this long (longer than the hard limit).
PROVENANCE_JOB_LEASE_SECONDS = env_int("PROVENANCE_JOB_LEASE_SECONDS", CELERY_TASK_TIME_LIMIT + 60)
# A job started this many times without finishing (its workers killed or out of time, or
# transient errors) is failed rather than started again: a file that crashes the signer must
# not take worker after worker down for ever.
PROVENANCE_JOB_MAX_ATTEMPTS = env_int("PROVENANCE_JOB_MAX_ATTEMPTS", 8)
# Watermark keys are RandomState seeds (< 2**32): obfuscation, not security. Never change them
# once media has been marked, or old watermarks become unreadable.
PROVENANCE_WATERMARK_PASSWORD_WM = env_int("PROVENANCE_WATERMARK_PASSWORD_WM", 0x5EED0001)
PROVENANCE_WATERMARK_PASSWORD_IMG = env_int("PROVENANCE_WATERMARK_PASSWORD_IMG", 0x5EED0002)

# --- Steward ---------------------------------------------------------------------------------
STEWARD_DEMO_PASSWORD = env_str("STEWARD_DEMO_PASSWORD") or "steward-demo-2026"
CSRF_FAILURE_VIEW = "config.views.csrf_failure"

# --- Audit trail (see README "Audit trail and reports") -------------------------------------
# Signed checkpoints are published here as JSON files, never overwritten; copy them off-host.
STEWARD_AUDIT_CHECKPOINT_DIR = Path(
    env_str("STEWARD_AUDIT_CHECKPOINT_DIR") or VAR_DIR / "checkpoints"
)
STEWARD_AUDIT_CHECKPOINT_INTERVAL = env_int("STEWARD_AUDIT_CHECKPOINT_INTERVAL", 600)
# Ed25519 private key, PEM (or STEWARD_AUDIT_SIGNING_KEY_FILE). Without it, DEBUG generates one
# under var/keys/; production refuses to sign.
STEWARD_AUDIT_SIGNING_KEY = env_str("STEWARD_AUDIT_SIGNING_KEY")
STEWARD_AUDIT_DEV_KEY_FILE = VAR_DIR / "keys" / "audit-signing-dev.pem"
# Public keys (<key id>.pem) kept for verification after a key rotation.
STEWARD_AUDIT_PUBLIC_KEYS_DIR = Path(
    env_str("STEWARD_AUDIT_PUBLIC_KEYS_DIR") or VAR_DIR / "keys" / "public"
)
STEWARD_AUDIT_EXPORT_DIR = Path(env_str("STEWARD_AUDIT_EXPORT_DIR") or VAR_DIR / "exports")
# Rows of the event table printed in a PDF report; the bundle always carries every event.
STEWARD_AUDIT_PDF_MAX_ROWS = env_int("STEWARD_AUDIT_PDF_MAX_ROWS", 2000)
