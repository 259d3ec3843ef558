"""Configuration, read from environment variables.

Every setting can be overridden with an environment variable of the same name, or by the
mapping given to :func:`sampling.create_app`.
"""
import os
import secrets
from pathlib import Path

INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", Path(__file__).resolve().parent.parent / "instance"))


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _development_secret() -> str:
    """A secret kept under instance/ so sessions and codes survive restarts in development."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    """Settings for one deployment, taken from the environment at start-up."""

    def __init__(self) -> None:
        self.ENV = os.environ.get("APP_ENV", "development")
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or None
        # Keys the residents' QR codes; set it apart from SECRET_KEY so that rotating the session
        # key does not void codes already printed (defaults to SECRET_KEY).
        self.CODE_SECRET = os.environ.get("CODE_SECRET") or None
        self.LOCAL_TIMEZONE = os.environ.get("LOCAL_TIMEZONE", "Asia/Shanghai")
        self.STATS_TIMEZONE = os.environ.get("STATS_TIMEZONE", self.LOCAL_TIMEZONE)
        self.STATS_REFRESH_SECONDS = int(os.environ.get("STATS_REFRESH_SECONDS", "30"))
        # how long the dashboard's median / 90th percentile turnaround is reused (per area and process)
        self.STATS_TURNAROUND_SECONDS = int(os.environ.get("STATS_TURNAROUND_SECONDS", "300"))
        self.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'sampling.db'}"
        )
        # hide_parameters: a database error's message never carries the statement's values
        # (names, ID numbers, phones) into the logs.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
        self.BABEL_DEFAULT_LOCALE = "zh"
        self.BABEL_TRANSLATION_DIRECTORIES = "translations"
        self.LANGUAGES = ("zh", "en")
        self.API_TOKEN_TTL_HOURS = int(os.environ.get("API_TOKEN_TTL_HOURS", "12"))
        # a web session ends this long after its log-in (a shift and a half), or at log-out
        self.WEB_SESSION_HOURS = int(os.environ.get("WEB_SESSION_HOURS", "18"))
        # account lockout: this many wrong passwords in a row lock the account for LOGIN_LOCK_MINUTES
        # (for every device except those the account logged in on before: TRUSTED_DEVICE_DAYS)
        self.LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "10"))
        self.LOGIN_LOCK_MINUTES = int(os.environ.get("LOGIN_LOCK_MINUTES", "15"))
        self.TRUSTED_DEVICE_DAYS = int(os.environ.get("TRUSTED_DEVICE_DAYS", "30"))
        self.MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "64")) * 1024 * 1024
        self.ROSTER_RETENTION_DAYS = int(os.environ.get("ROSTER_RETENTION_DAYS", "30"))
        self.ROSTER_MAX_UPLOAD_MB = int(os.environ.get("ROSTER_MAX_UPLOAD_MB", "256"))
        # Expired rosters are purged at most this often, by whichever app server handles a roster,
        # collision or dashboard request first once it is due (and by `flask purge-rosters`).
        self.ROSTER_PURGE_MINUTES = int(os.environ.get("ROSTER_PURGE_MINUTES", "10"))
        self.RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
        # Where the limits count. A limit holds across workers and app servers only in a shared store:
        # redis://host:port/db (production; scripts/serve starts a local Redis when it can). The
        # in-process default memory:// counts per process, so gunicorn.conf.py then runs one worker.
        self.RATELIMIT_STORAGE_URI_SET = "RATELIMIT_STORAGE_URI" in os.environ
        self.RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
        # a moving window: "30 per minute" lets at most 30 through in any 60 seconds (a fixed window
        # would let 60 through across a minute's boundary)
        self.RATELIMIT_STRATEGY = os.environ.get("RATELIMIT_STRATEGY", "moving-window")
        # Redis unreachable: count in the process meanwhile rather than fail every request
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.RATELIMIT_HEADERS_ENABLED = True
        self.RATELIMIT_PUBLIC = os.environ.get("RATELIMIT_PUBLIC", "30 per minute;300 per hour")
        self.RATELIMIT_PUBLIC_READ = os.environ.get("RATELIMIT_PUBLIC_READ", "600 per minute")
        self.RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "20 per minute")
        self.RATELIMIT_LOGIN_ADDRESS = os.environ.get("RATELIMIT_LOGIN_ADDRESS", "300 per minute")
        # How many proxies (load balancer, nginx) stand in front of the app and set
        # X-Forwarded-For / X-Forwarded-Proto; 0 trusts none (the app faces clients directly).
        self.PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))
        self.PROXY_FIX_X_PROTO = int(os.environ.get("PROXY_FIX_X_PROTO", "0"))
        self.PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", self.ENV == "production")
        self.WTF_CSRF_TIME_LIMIT = None

    def finalize(self) -> None:
        """Fill in what depends on other settings; refuse an unsafe production set-up."""
        if not self.SECRET_KEY:
            if self.ENV == "production":
                raise RuntimeError("SECRET_KEY must be set when APP_ENV=production")
            self.SECRET_KEY = _development_secret()
        if (self.ENV == "production" and self.RATELIMIT_ENABLED and not self.RATELIMIT_STORAGE_URI_SET
                and self.RATELIMIT_STORAGE_URI == "memory://"):
            raise RuntimeError("RATELIMIT_STORAGE_URI must be set when APP_ENV=production: redis://host:6379/0 "
                               "(shared by every worker and app server), or memory:// for one process only")
        uri = self.SQLALCHEMY_DATABASE_URI
        if uri.startswith("postgres://"):
            uri = "postgresql+psycopg://" + uri[len("postgres://"):]
        elif uri.startswith("postgresql://"):
            uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
        self.SQLALCHEMY_DATABASE_URI = uri
        if uri.startswith("sqlite:///"):
            Path(uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
            self.SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"timeout": 30}, "hide_parameters": True}
