"""The lab pages through the test client: menus by role, upload form with its report, the
positives list, its downloads (CSV, XLSX read back with openpyxl) and print view."""
import csv
import io

import pytest
from openpyxl import load_workbook

from sampling.extensions import db
from sampling.lab import boxes, results
from tests.conftest import csrf_from, login
from tests.lab_fixtures import at_the_lab, resident, sealed_tube


@pytest.fixture
def ready(demo_city, make_user):
    """A 10-in-1 tube at the lab, received, waiting for its result."""
    sampler, lab = make_user("sampler", sites=("S-HP-001",)), make_user("lab", username="lab_zhao")
    people = [resident(i, "120101001001" if i < 7 else "120102001001") for i in range(10)]
    sealed_tube("PAGE-POOL", "S-HP-001", people, sampler=sampler)
    db.session.commit()
    boxes.create_box(sampler, "PAGE-BOX")
    boxes.add_tube(sampler, "PAGE-BOX", "PAGE-POOL")
    boxes.hand_over(sampler, "PAGE-BOX")
    boxes.receive(lab, "PAGE-BOX")
    return lab


def test_menus_follow_roles(client, demo_city, make_user):
    make_user("sampler", username="s1", sites=("S-HP-001",))
    login(client, "s1")
    home = client.get("/").get_data(as_text=True)
    assert "/lab/boxes" in home and "/positives" not in home and "positives-notice.js" not in home
    assert client.get("/lab/boxes").status_code == 200
    assert client.get("/lab/receive").status_code == 403
    assert client.get("/positives").status_code == 403


def test_upload_page_reports_rows_and_coordinator_gets_the_list(client, ready, make_user):
    login(client, "lab_zhao")
    form = client.get("/lab/results/upload").get_data(as_text=True)
    csv_bytes = "管码,结果\r\nPAGE-POOL,阳性\r\nNOT-A-TUBE,阴性\r\nPAGE-POOL,阴性\r\n".encode("gb18030")
    page = client.post("/lab/results/upload", content_type="multipart/form-data", data={
        "csrf_token": csrf_from(form), "file": (io.BytesIO(csv_bytes), "今日结果.csv")}).get_data(as_text=True)
    assert 'id="count-updated">1<' in page and "NOT-A-TUBE" in page
    assert "该管在本批中已出现过" in page and "10 人已列入名单" in page
    wrong = client.post("/lab/results/upload", content_type="multipart/form-data", data={
        "csrf_token": csrf_from(form), "file": (io.BytesIO(b"x"), "results.txt")}).get_data(as_text=True)
    assert "请上传 .csv 或 .xlsx 文件" in wrong
    client.post("/logout", data={"csrf_token": csrf_from(form)})

    make_user("coordinator", username="hp_coord", region="120101")
    login(client, "hp_coord")
    listing = client.get("/positives").get_data(as_text=True)
    assert "PAGE-POOL" in listing and listing.count("<tr class=\"state-to_contact\">") == 7
    assert "13800000000" in listing and "待联系" in listing and "positives-notice.js" in listing
    exported = client.get("/positives/export.xlsx")
    sheet = load_workbook(io.BytesIO(exported.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("采样管", "混管结果", "姓名") and len(rows) == 8
    assert rows[1][0] == "PAGE-POOL" and rows[1][1] == "阳性" and rows[1][4] == "13800000000"
    text = client.get("/positives/export.csv").data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("采样管,混管结果,姓名") and len(text.splitlines()) == 8
    printed = client.get("/positives/print").get_data(as_text=True)
    assert "PAGE-POOL" in printed and "data-print" in printed
    assert client.get("/positives/export.pdf").status_code == 404


def test_downloads_neutralise_formulas_and_drop_control_characters(client, demo_city, make_user):
    sampler, lab = make_user("sampler", sites=("S-HP-001",)), make_user("lab")
    make_user("coordinator", username="safe_coord", region="120101")
    addresses = ['=HYPERLINK("http://evil.example","点此")', "+86 新华路", "-1 号楼", "@SUM(A1)", "3号楼\x01\x1f2单元"]
    people = [resident(i, address=a) for i, a in enumerate(addresses)]
    people.append(resident(9, name="=1+1"))
    sealed_tube("SAFE-POOL", "S-HP-001", people, capacity=10)
    db.session.commit()
    at_the_lab(sampler, lab, "SAFE-BOX", ["SAFE-POOL"])
    results.post_results(lab, [results.make_row(None, "SAFE-POOL", "positive")])
    login(client, "safe_coord")

    expected = ["'" + a for a in addresses[:4]] + ["3号楼2单元", "新华路9号"]
    text = client.get("/positives/export.csv")
    assert text.status_code == 200 and text.headers["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(text.data.decode("utf-8-sig"))))
    assert [row[5] for row in table[1:]] == expected and table[-1][2] == "'=1+1"
    book = client.get("/positives/export.xlsx")
    assert book.status_code == 200
    rows = list(load_workbook(io.BytesIO(book.data)).active.iter_rows(values_only=True))
    assert [row[5] for row in rows[1:]] == expected and rows[-1][2] == "'=1+1"
    assert rows[0][5] == "住址" and rows[1][0] == "SAFE-POOL"


def test_an_unknown_round_is_a_404_page(client, demo_city, make_user):
    make_user("coordinator", username="round_coord", region="120101")
    login(client, "round_coord")
    for url in ("/positives", "/positives/export.csv", "/positives/export.xlsx", "/positives/print"):
        assert client.get(f"{url}?round_id=99999999999999999999").status_code == 404
        assert client.get(f"{url}?round_id=999").status_code == 404
    assert client.get("/positives?round_id=abc").status_code == 200  # not a number: all rounds
