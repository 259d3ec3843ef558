"""The role guard of every staff page, on the rule the API uses (kernel.access.require_role)."""
from functools import wraps

from flask_login import current_user, login_required

from sampling.kernel.access import require_role


def role_required(*roles):
    """Log-in required (the login page otherwise), then one of ``roles`` (a friendly, localized
    403 page otherwise)."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            require_role(current_user, roles)
            return view(*args, **kwargs)
        return wrapped
    return decorator
