"""Settings for the workflow monitor (seed / reference implementation)."""
import os

env = os.environ.get

SECRET_KEY = env("DJANGO_SECRET_KEY", "bench-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
INSTALLED_APPS = ["alerts"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _db(name):
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "HOST": env("PGHOST", "127.0.0.1"),
        "PORT": env("PGPORT", "5432"),
        "USER": env("PGUSER", "bench"),
        "PASSWORD": env("PGPASSWORD", "bench"),
    }


DATABASES = {
    "default": _db(env("MONITOR_DB", "wfmonitor")),  # the monitor's own tables (ORM)
    "lendx": _db(env("LENDX_DB", "lendx")),          # the application DB (read via raw cursor)
}

# Escalation SLAs in seconds since the failure occurred.
MONITOR_SLA = {
    "p2": float(env("MONITOR_SLA_P2", 300)),
    "p1": float(env("MONITOR_SLA_P1", 900)),
    "p0": float(env("MONITOR_SLA_P0", 1800)),
}

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379")
CELERY_BROKER_URL = REDIS_URL + "/0"
CELERY_RESULT_BACKEND = REDIS_URL + "/1"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SERIALIZER = "json"
CELERY_BEAT_SCHEDULE = {
    name: {"task": f"alerts.tasks.{name}", "schedule": 1.0}
    for name in ("watcher", "validator", "resolver")
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# --- added for the API benchmark (bench/api): the JSON views and a WSGI entry point ---
ROOT_URLCONF = "monitor.urls"
WSGI_APPLICATION = "monitor.wsgi.application"
# Persistent connections, as a production deployment would configure them (the default, 0,
# opens a new PostgreSQL connection per request).
for _alias in DATABASES.values():
    _alias["CONN_MAX_AGE"] = int(env("CONN_MAX_AGE", 600))
