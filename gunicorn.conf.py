"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.
Every value can be overridden with an environment variable of the same name."""
import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# Rate limits counted in each process (RATELIMIT_STORAGE_URI unset or memory://) would multiply by
# the number of workers; one process with more threads keeps every limit whole. With a shared store
# (redis://, which scripts/serve starts when it can) every worker counts in the same place.
_limits_on = os.environ.get("RATELIMIT_ENABLED", "true").strip().lower() in {"1", "true", "yes", "on"}
_per_process = _limits_on and os.environ.get("RATELIMIT_STORAGE_URI", "memory://").startswith("memory://")


def on_starting(server):
    """One worker while limits count per process, whatever -w / WEB_CONCURRENCY asked for."""
    if _per_process and server.num_workers > 1:
        server.log.warning("RATELIMIT_STORAGE_URI is not a shared store (redis://...): serving with 1 worker "
                           "instead of %s so that every rate limit holds", server.num_workers)
        server.num_workers = 1
        server.cfg.set("workers", 1)
        server.cfg.set("threads", max(server.cfg.threads, int(os.environ.get("GUNICORN_SINGLE_THREADS", "8"))))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
max_requests = 10000
max_requests_jitter = 1000
accesslog = os.environ.get("ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
access_log_format = '%(t)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms'
# Create the app in each worker (not the master) so no database connection crosses a fork.
preload_app = False
