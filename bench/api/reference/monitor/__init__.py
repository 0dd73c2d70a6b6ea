# bench copy: the web process serves the API only and does not need Celery (the benchmark
# host may not have it); the workers import it as before.
try:
    from .celery import app as celery_app
except ImportError:  # pragma: no cover
    celery_app = None

__all__ = ("celery_app",)
