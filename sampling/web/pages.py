"""The home page, the language switch and the health check."""
from flask import jsonify, render_template
from flask_login import current_user
from sqlalchemy import text

from sampling.extensions import db
from sampling.web import bp


@bp.get("/")
def index():
    return render_template("index.html", user=current_user)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy", never a stack trace
        db.session.rollback()
        return jsonify(status="unavailable", database=db.engine.dialect.name), 503
    return jsonify(status="ok", database=db.engine.dialect.name)
