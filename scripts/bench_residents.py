"""Benchmark residents' codes: QR PNG renders per second on one core, and the time to import a
list and build its print sheet of code cards (one page load, the whole HTML streamed).

Each figure is a median over --rounds and is compared with a floor measured in the same run:
- PNG renders/s against computing the QR matrix alone (the unavoidable part of a render);
- the sheet against rendering its N card PNGs alone (what the sheet cannot do without).

    .venv/bin/python scripts/bench_residents.py                 # 1,000 cards, 3 rounds
    .venv/bin/python scripts/bench_residents.py --cards 5000 --rounds 5
    .venv/bin/python scripts/bench_residents.py --database postgresql+psycopg://.../scratch  # WIPED
"""
import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("RATELIMIT_ENABLED", "false")

AIM_RENDERS_PER_SECOND = 200
AIM_SHEET_SECONDS = 10.0


def rate(fn, seconds: float) -> float:
    """Calls per CPU second of fn (this process's CPU time: one core, whatever else the machine runs)."""
    n, start = 0, time.process_time()
    while (elapsed := time.process_time() - start) < seconds:
        fn(n)
        n += 1
    return n / elapsed


def bench_renders(app, seconds: float, rounds: int) -> dict:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    from sampling.residents import codes
    with app.app_context():
        tokens = [codes.token_for(i + 1) for i in range(5000)]

    def matrix(i):
        qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
        qr.add_data(tokens[i % len(tokens)], optimize=0)
        qr.make(fit=True)

    results = {"png (10 px/module, the phone page)": lambda i: codes.render_png(tokens[i % len(tokens)]),
               "png (4 px/module, a printed card)": lambda i: codes.render_png(tokens[i % len(tokens)], box_size=4),
               "floor: QR matrix only": matrix}
    return {name: statistics.median(rate(fn, seconds) for _ in range(rounds)) for name, fn in results.items()}


def make_list(n: int) -> bytes:
    """A GB18030 CSV of n people with valid ID numbers, as Excel saves it."""
    from stdnum.cn import ric
    lines = ["姓名,证件类型,证件号码,联系电话,住址"]
    for i in range(n):
        body = f"1201011950{(i % 12) + 1:02d}{(i % 28) + 1:02d}{i % 1000:03d}"
        body = f"12010{(i // 1000) % 10}" + body[6:]
        lines.append(f"居民{i},居民身份证,{body}{ric.calc_check_digit(body + '0')},,养老院{i % 50}号房")
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


def bench_sheet(app, cards: int, rounds: int) -> dict:
    from sqlalchemy import select

    from sampling.cli import load_demo
    from sampling.extensions import db
    from sampling.kernel.users import create_user
    from sampling.models import CodeSheet, Region
    from sampling.residents import code_sheets, codes

    with app.app_context():
        load_demo()
        admin = create_user("bench_admin", "admin", "bench-password-1", update=True)
        db.session.commit()
        community = db.session.scalar(select(Region).where(Region.code == "120101001001"))
        data = make_list(cards)
        start = time.perf_counter()
        report = code_sheets.import_list(admin, io.BytesIO(data), "bench.csv", community)
        import_seconds = time.perf_counter() - start
        assert report.accepted == cards, (report.accepted, report.rejected, report.rows[:3])
        sheet_id = report.sheet.id
        assert db.session.get(CodeSheet, sheet_id).card_count == cards
        tokens = [codes.token_for(i + 1) for i in range(cards)]

    client = app.test_client()
    client.post("/login", data={"username": "bench_admin", "password": "bench-password-1"})
    sheet_times, sheet_cpu, floor_times, size = [], [], [], 0
    for _ in range(rounds):
        start, cpu = time.perf_counter(), time.process_time()
        response = client.get(f"/staff/code-sheets/{sheet_id}")
        body = response.get_data()  # consumes the streamed page
        sheet_times.append(time.perf_counter() - start)
        sheet_cpu.append(time.process_time() - cpu)
        assert response.status_code == 200 and body.count(b'class="code-card"') == cards
        size = len(body)
        with app.app_context():
            start = time.process_time()
            for token in tokens:
                code_sheets.png_data_uri(token)
            floor_times.append(time.process_time() - start)
    return {"import": import_seconds, "sheet": statistics.median(sheet_times), "cpu": statistics.median(sheet_cpu),
            "floor": statistics.median(floor_times), "bytes": size}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=1000, help="cards on the print sheet (default 1000)")
    parser.add_argument("--seconds", type=float, default=1.5, help="seconds per render measurement (default 1.5)")
    parser.add_argument("--rounds", type=int, default=3, help="repeats; medians are reported (default 3)")
    parser.add_argument("--database", help="database URL to use (it is WIPED); default a temporary SQLite file")
    args = parser.parse_args(argv)

    from flask_migrate import upgrade
    from sqlalchemy import text

    from sampling import create_app
    from sampling.extensions import db
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.db"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                          "RATELIMIT_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
        with app.app_context():
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE"))
                    conn.execute(text("CREATE SCHEMA public"))
            upgrade()

        print(f"QR PNG renders per second, one core (median of {args.rounds} × {args.seconds}s):")
        renders = bench_renders(app, args.seconds, args.rounds)
        floor = renders["floor: QR matrix only"]
        for name, value in renders.items():
            print(f"  {name:38s} {value:8.0f}/s   ratio to floor {value / floor:5.2f}")
        phone = renders["png (10 px/module, the phone page)"]
        print(f"  aim ≥ {AIM_RENDERS_PER_SECOND}/s: {'met' if phone >= AIM_RENDERS_PER_SECOND else 'NOT met'}")

        result = bench_sheet(app, args.cards, args.rounds)
        print(f"\nPrint sheet of {args.cards} cards on {url.split(':', 1)[0]} (median of {args.rounds}):")
        print(f"  import the list (GB18030 CSV)          {result['import']:8.2f} s "
              f"({args.cards / result['import']:.0f} rows/s)")
        print(f"  build the sheet (one page, streamed)   {result['sheet']:8.2f} s wall, {result['cpu']:.2f} s CPU, "
              f"{result['bytes'] / 1e6:.1f} MB HTML")
        print(f"  floor: {args.cards} card PNGs alone          {result['floor']:8.2f} s CPU   "
              f"ratio sheet/floor (CPU) {result['cpu'] / result['floor']:.2f}")
        wall, cpu = (result[k] * 1000 / args.cards for k in ("sheet", "cpu"))
        print(f"  aim 1,000 cards < {AIM_SHEET_SECONDS:.0f} s: {'met' if wall < AIM_SHEET_SECONDS else 'NOT met'}"
              f" ({wall:.2f} s wall, {cpu:.2f} s CPU per 1,000; wall includes other load on the machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
