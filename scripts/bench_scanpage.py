#!/usr/bin/env python
"""Benchmark of a scan on the scanning page, in a real Chromium, against a ceiling measured in
the same run.

The page path: the scan is checked on the phone, written to IndexedDB (the outbox), drawn, and
sent to POST /api/v1/sync; we time (a) until the sampler sees it accepted (durable on the phone)
and (b) until the server's answer is on the page. The ceiling: the same page sending one bare
add_sample to /api/v1/sync with fetch (no outbox, no IndexedDB, no drawing). Scans alternate
between the two, so both see the same server and machine. Every answer is checked (the page's
scan ends "done", the bare one answers 201). Prints medians, p90 and the ratio. Aim: both well
under a second (p90 < 1 s). Exit 1 on an unexpected answer, 3 when only the aim was missed.

    .venv/bin/python scripts/bench_scanpage.py --scans 60
"""
import argparse
import logging
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import benchlib  # noqa: E402

PASSWORD = "bench-password-1"
CHROMIUM = "/usr/bin/chromium"
WARM_UP = 5  # scans on each path before measuring

PAGE_SCAN = """async (code) => {
    const { field } = window.scanApp;
    const t0 = performance.now();
    const result = await field.handleCode(code, 20);
    const local = performance.now() - t0;
    if (!result.ok || !result.action) return { error: result.error || 'not a scan' };
    const id = result.action.client_id;
    await new Promise((resolve) => {
        const check = () => (field.actions.get(id).state !== 'queued' ? resolve() : setTimeout(check, 1));
        check();
    });
    return { local, answered: performance.now() - t0, state: field.actions.get(id).state };
}"""

BARE_SCAN = """async ([code, tube]) => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const t0 = performance.now();
    const response = await fetch('/api/v1/sync', { method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf },
        body: JSON.stringify({ items: [{ client_id: crypto.randomUUID(), op: 'add_sample',
                                         tube_code: tube, qr: code }] }) });
    const body = await response.json();
    return { answered: performance.now() - t0, status: body.results[0].status };
}"""


def prepare(app, scans):
    """Demo city, a sampler, 2 x scans residents; their codes."""
    from flask_migrate import upgrade

    from sampling.cli import load_demo
    from sampling.extensions import db
    from sampling.kernel.users import create_user
    from tests.field import make_residents, qr
    with app.app_context():
        upgrade()
        load_demo()
        create_user("bench_sampler", "sampler", PASSWORD, None, ("S-HP-001",))
        db.session.commit()
        people = make_residents(2 * scans)
        return [qr(p) for p in people]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=40, help="scans on each path (default 40)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary folder")
    benchlib.add_arguments(parser)
    args = parser.parse_args(argv)
    report = benchlib.Report("bench_scanpage", args)

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from sampling import create_app
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        app = create_app({"SECRET_KEY": "bench-secret-key", "SQLALCHEMY_DATABASE_URI": url,
                          "RATELIMIT_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
        codes = prepare(app, args.scans + WARM_UP)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        http = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{http.server_port}"
        page_times, local_times, bare_times = [], [], []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(base_url=base, locale="zh-CN")
            page.goto("/login")
            page.fill("#username", "bench_sampler")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/")
            page.goto("/scan/")
            page.wait_for_selector("body[data-scan-ready='1']")
            tube_no = 0
            for i in range(args.scans + WARM_UP):
                if not page.evaluate("window.scanApp.field.currentTube() !== null"):
                    tube_no += 1
                    page.evaluate("([c]) => window.scanApp.field.handleCode(c, 20)", [f"BENCH-P-{tube_no:04d}"])
                    page.evaluate("window.scanApp.outbox.flush()")
                    page.evaluate("""async () => { const t = await fetch('/api/v1/tubes', { method: 'POST',
                        headers: { 'Content-Type': 'application/json',
                                   'X-CSRFToken': document.querySelector('meta[name="csrf-token"]').content },
                        body: JSON.stringify({ tube_code: 'BENCH-B-' + Math.random().toString(36).slice(2, 10),
                            round_id: window.scanApp.field.setup.round_id, site_code: 'S-HP-001', capacity: 20 }) });
                        window.benchTube = (await t.json()).tube_code; }""")
                on_page = page.evaluate(PAGE_SCAN, codes[2 * i])
                bare = page.evaluate(BARE_SCAN, [codes[2 * i + 1], page.evaluate("window.benchTube")])
                if i < WARM_UP:
                    continue
                if on_page.get("state") != "done" or bare.get("status") != 201:
                    report.problem(f"unexpected answer: page {on_page}, bare fetch {bare}")
                    break
                page_times.append(on_page["answered"])
                local_times.append(on_page["local"])
                bare_times.append(bare["answered"])
            browser.close()
        http.shutdown()

    kind = url.split(":", 1)[0].split("+")[0]
    if not page_times:
        return report.finish()
    med = benchlib.median
    for key, label, values in (("accepted", "page: scan accepted and stored on the phone (IndexedDB)", local_times),
                               ("answered", "page: server's answer shown", page_times),
                               ("bare", "ceiling: bare fetch of one add_sample to /api/v1/sync", bare_times)):
        report.figure(f"{key}_ms", med(values), "ms", f"{label}, median", kind)
        report.figure(f"{key}_p90_ms", benchlib.percentile(values, 90), "ms", f"{label}, p90", kind)
    report.ratio("answered_times_bare", med(page_times), med(bare_times), "page answer ÷ bare fetch (medians)", kind)
    for key, label, values in (("accepted", "scan accepted on the phone", local_times),
                               ("answered", "server answer shown", page_times)):
        p90 = benchlib.percentile(values, 90)
        report.aim(key, f"{label}: well under a second (p90 < 1 s)", p90 < 1000, f"p90 {p90:.1f} ms", kind)
    report.note(f"{args.scans} scans on each path, alternating; Chromium, werkzeug threaded server, {kind}")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
