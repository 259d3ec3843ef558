"""Language choice: ?lang= (remembered in a cookie), else the browser's Accept-Language,
else Simplified Chinese."""
from urllib.parse import quote, urlencode

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
    return from_accept_language(request.accept_languages, languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def from_accept_language(accepted, languages) -> str | None:
    """The first supported language in the header's quality order, by primary subtag: zh-CN, zh-HK
    and zh-TW are all ``zh``, en-US is ``en`` (werkzeug's best_match would prefer a later exact
    ``en`` over ``zh-CN``). Languages with q=0 are refused; ``*`` leaves the choice to the default."""
    for tag, quality in accepted:  # LanguageAccept iterates best quality first
        primary = tag.replace("_", "-").split("-", 1)[0].strip().lower()
        if quality > 0 and primary in languages:
            return primary
    return None


def switch_url(lang: str) -> str:
    """This page in another language: the same path and query (``next`` and filters kept), with ``lang``."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", lang)]
    return quote(request.path) + "?" + urlencode(args)


def remember_choice(response):
    """Keep a ?lang= choice for a year."""
    lang = g.get("remember_lang")
    if lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
