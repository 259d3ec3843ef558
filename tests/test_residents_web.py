"""Staff pages (ID card entry, list upload, print sheet) and the residents' pages, through the
real forms (CSRF included)."""
import base64
import re

from tests.conftest import csrf_from, login
from tests.test_code_sheets import ROWS, gb18030_csv, xlsx
from tests.test_codes import decode_png
from tests.test_identity import LEAP, VALID


def cards_in(html: str) -> list[str]:
    """The codes printed on a page, read back from its inline PNGs with zxing-cpp."""
    texts = []
    for data in re.findall(r'src="data:image/png;base64,([^"]+)"', html):
        texts.extend(decode_png(base64.b64decode(data)))
    return texts


def test_volunteer_types_id_card_details_and_gets_a_printable_slip(client, demo_city, make_user):
    user = make_user("sampler", sites=("S-HP-001",))
    login(client, user.username)
    page = client.get("/staff/residents/new").get_data(as_text=True)
    assert "录入身份证信息生成二维码" in page and "120101002001" not in page  # only the volunteer's community
    form = {"csrf_token": csrf_from(page), "name": "王大爷", "id_type": "resident_id_card",
            "id_number": VALID.lower(), "phone": "", "region_code": "120101001001", "address": ""}
    html = client.post("/staff/residents/new", data=form).get_data(as_text=True)
    assert "已生成新的二维码" in html and "王大爷" in html and VALID not in html
    assert VALID[:6] + "********" + VALID[-4:] in html
    [qr] = cards_in(html)
    again = client.post("/staff/residents/new", data=form).get_data(as_text=True)
    assert "此人已登记" in again and cards_in(again) == [qr]


def test_staff_entry_shows_field_errors_and_conflicts(client, demo_city, make_user):
    login(client, make_user("admin").username)
    page = client.get("/staff/residents/new").get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "name": "王大爷", "id_type": "resident_id_card",
            "id_number": LEAP[:-1] + ("0" if LEAP[-1] != "0" else "1"), "phone": "123", "region_code": "120101001001"}
    html = client.post("/staff/residents/new", data=form).get_data(as_text=True)
    assert "身份证号码校验位不符" in html and "手机号码为 11 位数字" in html and 'aria-invalid="true"' in html
    client.post("/staff/residents/new", data={**form, "id_number": LEAP, "phone": ""})
    conflict = client.post("/staff/residents/new", data={**form, "name": "李四", "id_number": LEAP, "phone": ""})
    assert "该证件号码已用其他姓名登记" in conflict.get_data(as_text=True)


def test_upload_report_and_one_print_sheet_for_the_whole_list(client, demo_city, make_user):
    login(client, make_user("coordinator", region="120101").username)
    page = client.get("/staff/code-sheets/new").get_data(as_text=True)
    response = client.post("/staff/code-sheets/new", data={
        "csrf_token": csrf_from(page), "file": (xlsx(ROWS), "养老院.xlsx"), "region_code": "120101001001",
        "title": "幸福养老院"}, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert "通过 4 行（新建 3，已登记 1）；未通过 4 行。" in html
    assert html.count('class="row-rejected"') == 4 and "身份证号码校验位不符" in html
    sheet_url = re.search(r'id="print-sheet" href="([^"]+)"', html).group(1)
    sheet = client.get(sheet_url)
    assert sheet.status_code == 200
    sheet_html = sheet.get_data(as_text=True)
    assert "幸福养老院" in sheet_html and sheet_html.count('class="code-card"') == 4
    assert "王大爷" in sheet_html and VALID not in sheet_html and "@page" not in sheet_html  # CSS file
    assert len(cards_in(sheet_html)) == 4
    again = client.get("/staff/code-sheets/new").get_data(as_text=True)
    assert 'id="recent-sheets"' in again and sheet_url in again and "幸福养老院" in again


def test_upload_errors_stay_on_the_page(client, demo_city, make_user):
    login(client, make_user("admin").username)
    token = csrf_from(client.get("/staff/code-sheets/new").get_data(as_text=True))
    html = client.post("/staff/code-sheets/new", data={
        "csrf_token": token, "file": (gb18030_csv([["x"]], ["名称"]), "bad.csv"), "region_code": "120101001001"},
        content_type="multipart/form-data").get_data(as_text=True)
    assert "flash-error" in html
    html = client.post("/staff/code-sheets/new", data={"csrf_token": token, "region_code": "120101001001"},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "请选择要上传的 CSV 或 Excel 文件" in html


def test_upload_without_community_or_rows_says_why(client, demo_city, make_user):
    login(client, make_user("coordinator", region="120101").username)
    token = csrf_from(client.get("/staff/code-sheets/new").get_data(as_text=True))
    html = client.post("/staff/code-sheets/new", data={
        "csrf_token": token, "file": (gb18030_csv(ROWS), "l.csv"), "region_code": ""},
        content_type="multipart/form-data").get_data(as_text=True)
    assert '<p class="field-error" id="region_code-error">请选择社区。</p>' in html and "未知区域" not in html
    html = client.post("/staff/code-sheets/new", data={
        "csrf_token": token, "file": (gb18030_csv([]), "l.csv"), "region_code": "120101001001"},
        content_type="multipart/form-data").get_data(as_text=True)
    assert "名单中表头下面没有数据行。" in html and 'id="report"' not in html


def test_sheet_is_private_to_its_creator(client, demo_city, make_user, app):
    from sqlalchemy import select

    from sampling.extensions import db
    from sampling.models import Region
    from sampling.residents import code_sheets
    owner = make_user("sampler", sites=("S-HP-001",))
    community = db.session.scalar(select(Region).where(Region.code == "120101001001"))
    sheet = code_sheets.import_list(owner, gb18030_csv(ROWS[:2]), "l.csv", community).sheet
    login(client, make_user("sampler", sites=("S-HP-001",)).username)
    assert client.get(f"/staff/code-sheets/{sheet.id}").status_code == 403


def test_staff_pages_need_a_staff_login(client, demo_city, make_user):
    assert client.get("/staff/residents/new").status_code == 302
    login(client, make_user("lab").username)
    assert client.get("/staff/residents/new").status_code == 403
    assert client.get("/staff/code-sheets/new").status_code == 403


def test_menus_offer_the_resident_and_staff_pages(client, demo_city, make_user):
    home = client.get("/").get_data(as_text=True)
    assert "/me/register" in home and "/me/recover" in home and "/me/" in home
    login(client, make_user("sampler", sites=("S-HP-001",)).username)
    home = client.get("/").get_data(as_text=True)
    assert "/staff/residents/new" in home and "/staff/code-sheets/new" in home


def test_resident_pages_and_service_worker(client):
    for path in ["/me/", "/me/register", "/me/recover"]:
        response = client.get(path)
        assert response.status_code == 200 and 'src="/static/js/me.js"' in response.get_data(as_text=True)
    english = client.get("/me/register?lang=en").get_data(as_text=True)
    assert "Register for your personal code" in english
    worker = client.get("/me/sw.js")
    assert worker.mimetype == "text/javascript" and "/api/v1/codes/" in worker.get_data(as_text=True)
    assert client.get("/me").status_code == 308 or client.get("/me").status_code == 302
