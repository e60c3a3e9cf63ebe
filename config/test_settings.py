"""Settings for the test suite: the real settings, made deterministic and fast."""

import os
import tempfile

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("USE_TLS", "0")
os.environ.setdefault("LOG_JSON", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from config.settings import *  # noqa: F403
from config.settings import DATABASES, VAR_DIR

TESTING = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Worker processes started by tests get the test's media folder through MEDIA_ROOT.
MEDIA_ROOT = os.environ.get("MEDIA_ROOT") or tempfile.mkdtemp(prefix="steward-test-media-")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: worker and server processes started by integration tests share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-steward.sqlite3")}

from config.settings import CELERY_BROKER_URL  # noqa: E402

if CELERY_BROKER_URL.startswith("filesystem://"):
    # Apart from a development instance's queue, so a running `make run` worker never
    # takes the tests' tasks.
    _test_broker = VAR_DIR / "test-broker"
    for _sub in ("queue", "processed", "control"):
        (_test_broker / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_test_broker / "queue"),
        "data_folder_out": str(_test_broker / "queue"),
        "processed_folder": str(_test_broker / "processed"),
        "control_folder": str(_test_broker / "control"),
        "store_processed": False,
        "max_retries": 1,
    }

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
