"""Benchmarks run against a database of their own, created afresh by bench/run.py:
``var/bench.sqlite3`` by default, or ``<name>_bench`` on the PostgreSQL server of
``DATABASE_URL``. Settings are otherwise production-like (DEBUG off)."""

import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "b" * 40)
os.environ.setdefault("USE_TLS", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

from config.settings import *  # noqa: F403
from config.settings import DATABASES, IS_POSTGRES, VAR_DIR

if IS_POSTGRES:
    DATABASES["default"]["NAME"] = f"{DATABASES['default']['NAME']}_bench"
else:
    DATABASES["default"]["NAME"] = str(VAR_DIR / "bench.sqlite3")
