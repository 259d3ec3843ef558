"""Language choice: ?lang= (remembered in a cookie), else the browser's Accept-Language,
else Simplified Chinese."""
from flask import current_app, g, has_request_context, request

LANG_COOKIE = "lang"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # command line, background work
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang")
    if chosen in languages:
        g.remember_lang = chosen
        return chosen
    remembered = request.cookies.get(LANG_COOKIE)
    if remembered in languages:
        return remembered
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def remember_choice(response):
    """Keep a ?lang= choice for a year."""
    lang = g.get("remember_lang")
    if lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
