"""Benchmark residents' codes: QR PNG renders per second on one core, and the time to import a
list and build its print sheet of code cards (one page load, the whole HTML streamed).

Each figure is a median over --rounds interleaved rounds (order rotated each round) and is
compared with a floor measured in the same rounds:
- PNG renders/s against computing the QR matrix alone (the unavoidable part of a render);
- the sheet against rendering its N card PNGs alone (what the sheet cannot do without).
Every round checks its output: one PNG of each kind is decoded with a real QR reader (zxing-cpp)
and must give back its token; the sheet must answer 200 with exactly N code cards. Aims: ≥ 200
phone PNGs per second on one core; a 1,000-card sheet in < 10 s. Exit 1 on a failed check, 3 when
only an aim was missed.

    .venv/bin/python scripts/bench_residents.py                 # 1,000 cards, 3 rounds
    .venv/bin/python scripts/bench_residents.py --cards 5000 --rounds 5
    .venv/bin/python scripts/bench_residents.py --database postgresql+psycopg://.../scratch  # WIPED
"""
import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib  # noqa: E402

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


def decoded(png: bytes) -> str | None:
    """The text a real QR reader finds in a PNG."""
    import zxingcpp
    from PIL import Image
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found[0].text if found else None


def bench_renders(app, seconds: float, rounds: int, report) -> dict:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    from sampling.residents import codes
    with app.app_context():
        tokens = [codes.token_for(i + 1) for i in range(5000)]

    def matrix(i):
        qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
        qr.add_data(tokens[i % len(tokens)], optimize=0)
        qr.make(fit=True)

    def png(box_size):
        def measure(n):
            token = tokens[n]
            report.check(decoded(codes.render_png(token, box_size=box_size)) == token,
                         f"a {box_size} px/module PNG does not decode to its token")
            return rate(lambda i: codes.render_png(tokens[i % len(tokens)], box_size=box_size), seconds)
        return measure

    results = benchlib.interleaved(rounds, {"png (10 px/module, the phone page)": png(10),
                                            "png (4 px/module, a printed card)": png(4),
                                            "floor: QR matrix only": lambda _n: rate(matrix, seconds)})
    return {name: benchlib.median(values) for name, values in results.items()}


def make_list(n: int) -> bytes:
    """A GB18030 CSV of n people with valid ID numbers, as Excel saves it."""
    from stdnum.cn import ric
    lines = ["姓名,证件类型,证件号码,联系电话,住址"]
    for i in range(n):
        body = f"1201011950{(i % 12) + 1:02d}{(i % 28) + 1:02d}{i % 1000:03d}"
        body = f"12010{(i // 1000) % 10}" + body[6:]
        lines.append(f"居民{i},居民身份证,{body}{ric.calc_check_digit(body + '0')},,养老院{i % 50}号房")
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


def bench_sheet(app, cards: int, rounds: int, report) -> dict:
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
        imported = code_sheets.import_list(admin, io.BytesIO(data), "bench.csv", community)
        import_seconds = time.perf_counter() - start
        sheet_id = imported.sheet.id
        report.check(imported.accepted == cards and db.session.get(CodeSheet, sheet_id).card_count == cards,
                     f"list import accepted {imported.accepted} of {cards}: {imported.rows[:3]}")
        tokens = [codes.token_for(i + 1) for i in range(cards)]

    client = app.test_client()
    client.post("/login", data={"username": "bench_admin", "password": "bench-password-1"})
    size = 0

    def sheet(_n):
        nonlocal size
        start, cpu = time.perf_counter(), time.process_time()
        response = client.get(f"/staff/code-sheets/{sheet_id}")
        body = response.get_data()  # consumes the streamed page
        wall, used = time.perf_counter() - start, time.process_time() - cpu
        found = body.count(b'class="code-card"')
        report.check(response.status_code == 200 and found == cards,
                     f"sheet: status {response.status_code}, {found} code cards, expected 200 and {cards}")
        size = len(body)
        return wall, used

    def floor(_n):
        with app.app_context():
            start = time.process_time()
            for token in tokens:
                code_sheets.png_data_uri(token)
            return time.process_time() - start

    runs = benchlib.interleaved(rounds, {"sheet": sheet, "floor": floor})
    return {"import": import_seconds, "sheet": benchlib.median(w for w, _c in runs["sheet"]),
            "cpu": benchlib.median(c for _w, c in runs["sheet"]), "floor": benchlib.median(runs["floor"]),
            "bytes": size}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=1000, help="cards on the print sheet (default 1000)")
    parser.add_argument("--seconds", type=float, default=1.5, help="seconds per render measurement (default 1.5)")
    parser.add_argument("--rounds", type=int, default=3, help="repeats; medians are reported (default 3)")
    parser.add_argument("--database", help="database URL to use (it is WIPED); default a temporary SQLite file")
    benchlib.add_arguments(parser)
    args = parser.parse_args(argv)
    report = benchlib.Report("bench_residents", args)

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

        print(f"QR PNG renders per second, one core ({args.rounds} interleaved rounds × {args.seconds}s):")
        renders = bench_renders(app, args.seconds, args.rounds, report)
        floor = report.figure("matrix_rate", renders["floor: QR matrix only"], "/s",
                              "floor: the QR matrix alone, per CPU second")
        phone = report.figure("phone_png_rate", renders["png (10 px/module, the phone page)"], "/s",
                              "QR PNG for the phone page (10 px/module), per CPU second")
        card = report.figure("card_png_rate", renders["png (4 px/module, a printed card)"], "/s",
                             "QR PNG for a printed card (4 px/module), per CPU second")
        report.ratio("phone_png_share", phone, floor, "phone PNG rate ÷ matrix floor rate")
        report.ratio("card_png_share", card, floor, "card PNG rate ÷ matrix floor rate")
        report.aim("png_rate", f"≥ {AIM_RENDERS_PER_SECOND} phone PNGs per second on one core",
                   phone >= AIM_RENDERS_PER_SECOND, f"{phone:.0f}/s")

        result = bench_sheet(app, args.cards, args.rounds, report)
        kind = url.split(":", 1)[0].split("+")[0]
        report.figure("import_s", result["import"], "s", f"import a {args.cards:,}-row GB18030 list", kind)
        sheet = report.figure("sheet_s", result["sheet"], "s",
                              f"build the {args.cards:,}-card print sheet (one page, streamed), wall", kind)
        report.figure("sheet_cpu_s", result["cpu"], "s", "the sheet, CPU", kind)
        report.figure("sheet_floor_cpu_s", result["floor"], "s", f"floor: its {args.cards:,} card PNGs alone, CPU",
                      kind)
        report.ratio("sheet_times_floor", result["cpu"], result["floor"], "sheet CPU ÷ PNG floor CPU", kind)
        report.figure("sheet_mb", result["bytes"] / 1e6, "MB", "the sheet's HTML", kind)
        per_thousand = sheet * 1000 / args.cards
        report.aim("sheet", f"1,000-card sheet < {AIM_SHEET_SECONDS:.0f} s (wall)", per_thousand < AIM_SHEET_SECONDS,
                   f"{per_thousand:.2f} s per 1,000 cards", kind)
        report.note(f"{args.rounds} interleaved rounds of {args.seconds:g} s per render measurement; a {args.cards:,}-"
                    f"card sheet on {kind}")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
