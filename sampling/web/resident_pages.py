"""The residents' own pages, under /me/ so that their service worker (/me/sw.js) covers exactly
them: my codes (the family list, kept on the phone), registration and code recovery."""
from flask import Response, redirect, render_template, url_for

from sampling.residents import identity
from sampling.web import bp

SW_VERSION = "me-v1"  # bump when the shell changes; the worker then drops its old cache


@bp.get("/me")
def my_codes_redirect():
    return redirect(url_for("web.my_codes"))


@bp.get("/me/")
def my_codes():
    """The codes kept on this phone (one's own and family members'); works offline."""
    return render_template("residents/my_codes.html")


@bp.get("/me/register")
def register():
    return render_template("residents/register.html", id_types=identity.ID_TYPE_LABELS)


@bp.get("/me/recover")
def recover():
    return render_template("residents/recover.html")


@bp.get("/me/sw.js")
def service_worker():
    """The residents' service worker; served from /me/ so its scope is /me/ (not the staff pages)."""
    shell = [url_for("web.my_codes"), url_for("static", filename="css/app.css"),
             url_for("static", filename="css/me.css"), url_for("static", filename="js/me.js")]
    body = render_template("residents/sw.js", version=SW_VERSION, shell=shell)
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response
