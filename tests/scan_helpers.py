"""Helpers for the scanning page's browser tests: a server that can be switched off and on
on the same port, logging in, typing like a hand-held scanner, reading the database."""
import threading

from sqlalchemy import select

from sampling.extensions import db
from sampling.models import Sample, Tube
from tests.conftest import PASSWORD

SLOW = 30_000  # ms: a camera loop or a reconnect may take a while


class SwitchableServer:
    """The app on a fixed local port that can be stopped (no network at all) and started again."""

    def __init__(self, app):
        self.app, self.port, self.http, self.thread = app, 0, None, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from werkzeug.serving import make_server
        self.http = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.http.server_port
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
            self.thread.join(5)
            self.http = None


def open_scan_page(page, username: str) -> None:
    """Log in through the form and open the scanning page, ready to scan."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.goto("/scan/")
    page.wait_for_selector("body[data-scan-ready='1']")


def wedge(page, text: str) -> None:
    """A hand-held scanner in keyboard mode: the characters, then Enter (no field focused)."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.evaluate("window.scanApp.settled()")


def counter(page) -> str:
    return page.locator("#counter").inner_text()


def pending(page) -> int:
    return int(page.locator("#pending").get_attribute("data-count"))


def wait_all_sent(page, timeout: int = SLOW) -> None:
    page.wait_for_function("document.querySelector('#pending').dataset.count === '0' && "
                           "window.scanApp && window.scanApp.outbox.running === null", timeout=timeout)


def wait_worker(page) -> None:
    """The service worker is active and controls the page (so it works without network)."""
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    assert page.evaluate("window.scanApp.shellCached") is True


def tube_contents(code: str) -> tuple[Tube | None, list[int]]:
    """The tube as the server holds it, and its residents' ids (in scan order)."""
    db.session.expire_all()
    tube = db.session.scalar(select(Tube).where(Tube.code == code))
    if tube is None:
        return None, []
    rows = db.session.scalars(select(Sample.resident_id).where(Sample.tube_id == tube.id).order_by(Sample.id))
    return tube, list(rows)


def run_js(page, body: str):
    """Run an async JS function body in the page with the scanning page's modules imported as m.*"""
    return page.evaluate(f"""async () => {{
        const m = {{
            ...(await import('/static/scan/codes.js')), ...(await import('/static/scan/store.js')),
            ...(await import('/static/scan/outbox.js')), ...(await import('/static/scan/field.js')),
        }};
        {body}
    }}""")
