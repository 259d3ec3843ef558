"""The administrator's page of staff accounts: find an account, unlock it, end all its sessions."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from sampling.extensions import db
from sampling.kernel import users
from sampling.web.blueprint import bp
from sampling.web.guards import role_required


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
