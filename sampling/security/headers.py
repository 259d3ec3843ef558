"""Security headers on every answer.

- Content-Security-Policy: scripts, styles, fonts, frames and connections from this site only; no
  inline script or handler (page behaviours live in static/js, data for scripts in
  ``<script type="application/json">`` blocks, which never run); ``'wasm-unsafe-eval'`` lets the
  vendored barcode decoder compile its WebAssembly, nothing else; images also from ``data:`` (the
  printed code cards) and ``blob:``; no plug-ins, no ``<base>``, forms post here only, and no site
  may frame a page (``frame-ancestors 'none'``, and X-Frame-Options for old browsers).
- X-Content-Type-Options: nosniff; Referrer-Policy: same-origin (CSRF checks over HTTPS need the
  referrer on our own posts; other sites learn nothing); the camera for this site only.
- Strict-Transport-Security when APP_ENV=production.
- Cache-Control: no-store on every answer but static files, scripts (the service workers) and
  those that declare themselves ``public`` (the code images, the region list: no personal data). Pages, API answers and
  downloads carry names, ID numbers, phones, positive lists: no browser, proxy or shared computer
  keeps a copy."""
from flask import current_app, request

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"


def add_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    if (request.endpoint != "static" and "public" not in headers.get("Cache-Control", "")
            and "javascript" not in response.mimetype):  # the service workers revalidate (no-cache)
        headers["Cache-Control"] = "no-store"  # send_file's no-cache (downloads) would still keep a copy
    return response


def register(app) -> None:
    app.after_request(add_headers)
