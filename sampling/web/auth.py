"""Log in and out of the web pages (Flask-Login sessions kept on the server, CSRF-protected forms), and
the administrator's page of staff accounts (find one, unlock it, end all its sessions)."""
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from sampling.extensions import db, login_limits, login_manager
from sampling.kernel import sessions, users
from sampling.kernel.lockout import AccountLocked
from sampling.security import devices
from sampling.web.blueprint import bp
from sampling.web.guards import role_required


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Log in"))


def safe_next(target) -> str:
    """``next`` when it is a path on this site, else the home page. Browsers drop tabs and line
    breaks and read a backslash as a slash, so ``/\\t/evil.example`` would be ``//evil.example``:
    any whitespace, control character or backslash refuses it, as does anything with a host."""
    if (isinstance(target, str) and target.startswith("/") and len(target) <= 2000
            and not any(c.isspace() or c == "\\" or ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 for c in target)):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and not target.startswith("//"):
            return target
    return url_for("web.index")


@bp.route("/login", methods=["GET", "POST"])
@login_limits
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = users.authenticate(form.username.data, form.password.data, devices.trusted())
        except AccountLocked as exc:
            flash(str(exc.message), "error")
            return render_template("login.html", form=form), 403
        if user is not None:
            sessions.begin(user)
            login_user(user)
            response = redirect(safe_next(request.args.get("next")))
            devices.remember(response, user)
            return response
        flash(_("Wrong user name or password."), "error")
    return render_template("login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    sessions.end(current_user._get_current_object())
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("web.login"))


@bp.get("/admin/users")
@role_required("admin")
def admin_users():
    query = request.args.get("q", "")
    locked_only = request.args.get("locked") == "1"
    return render_template("admin/users.html", accounts=users.find_accounts(query, locked_only), q=query,
                           locked_only=locked_only)


@bp.post("/admin/users/<username>/unlock")
@role_required("admin")
def admin_unlock_user(username):
    users.unlock_user(username)
    db.session.commit()
    flash(_("User %(name)s unlocked.", name=username), "success")
    return redirect(url_for("web.admin_users", q=request.args.get("q", "")), code=303)


@bp.post("/admin/users/<username>/end-sessions")
@role_required("admin")
def admin_end_sessions(username):
    ended = users.end_sessions(username)
    db.session.commit()
    flash(_("User %(name)s: %(n)s sessions and tokens ended.", name=username, n=ended), "success")
    return redirect(url_for("web.admin_users", q=request.args.get("q", "")), code=303)


login_manager.login_view = "web.login"
login_manager.login_message = _l("Please log in to see this page.")
