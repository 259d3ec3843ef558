"""Flask extensions, created once and attached to the app in create_app()."""
from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def _login_key() -> str:
    """Login attempts count per client address *and* user name, so that one site's staff behind
    one NAT address at shift start do not share a single budget."""
    data = request.get_json(silent=True) if request.is_json else request.form
    username = data.get("username") if isinstance(data, dict) else None  # a MultiDict is a dict
    username = username.strip()[:64] if isinstance(username, str) else ""
    return f"{get_remote_address()}|{username}"


def login_limits(view):
    """The login limits on a view's POSTs, one budget shared by every login view (the web form and
    the API's token endpoint): RATELIMIT_LOGIN per address and user name, and the looser
    RATELIMIT_LOGIN_ADDRESS per address (against guessing many user names)."""
    view = limiter.shared_limit(lambda: current_app.config["RATELIMIT_LOGIN"], key_func=_login_key,
                                methods=["POST"], scope="login")(view)
    return limiter.shared_limit(lambda: current_app.config["RATELIMIT_LOGIN_ADDRESS"], methods=["POST"],
                                scope="login-address")(view)
