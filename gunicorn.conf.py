"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.
Every value can be overridden with an environment variable of the same name."""
import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
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
