"""Real Chromium: a resident checks their records; a coordinator backfills a paper form and a file."""
import csv
import io

import pytest

from sampling.field import samples, tubes
from tests.conftest import PASSWORD
from tests.field import backdate_round, cid, current_round, id_number, make_residents, qr

pytestmark = pytest.mark.browser


def test_resident_checks_their_records(page, demo_city, make_user):
    sampler = make_user("sampler", sites=("S-HP-001",))
    person = make_residents(1)[0]
    tubes.open_tube(sampler, {"tube_code": "Q0001", "round_id": current_round().id, "site_code": "S-HP-001"})
    samples.add_sample(sampler, "Q0001", {"qr": qr(person), "client_id": cid()})
    page.goto("/")
    page.click("text=查询我的采样记录")
    page.fill("#id_number", person.id_number)
    page.fill("#name", "别人")
    page.click("button[type=submit]")
    assert "没有" in page.locator("#records").inner_text()
    page.fill("#id_number", person.id_number)
    page.fill("#name", person.name)
    page.click("button[type=submit]")
    table = page.locator("#records table").inner_text()
    assert "新华里社区广场采样点" in table and current_round().name in table and "等待检测结果" in table
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_coordinator_backfills_one_form_and_a_file(page, demo_city, make_user, tmp_path):
    backdate_round()
    coordinator = make_user("coordinator", region="120101")
    page.goto("/login")
    page.fill("#username", coordinator.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click("text=补录纸质登记")
    page.fill("#entry-tube_code", "P0001")
    page.select_option("#entry-site_code", "S-HP-001")
    page.fill("#entry-sampled_at", "2022-01-10T08:30")
    page.fill("#entry-name", "纸质甲")
    page.fill("#entry-id_number", id_number(1, "19700101"))
    page.click("#entry-form button[type=submit], #entry-form input[type=submit]")
    assert page.locator("#outcome").inner_text() == "已登记。"
    path = tmp_path / "纸质.csv"
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["管码", "采样点编码", "采样时间", "姓名", "证件号码"])
    writer.writerow(["P0001", "S-HP-001", "2022-01-10 08:31", "纸质乙", id_number(2, "19700101")])
    writer.writerow(["P0001", "S-HP-001", "2022-01-10 08:32", "纸质丙", "123"])
    path.write_bytes(text.getvalue().encode("gb18030"))
    page.set_input_files("#upload-file", str(path))
    page.click("#upload-form input[type=submit], #upload-form button[type=submit]")
    report = page.locator("#report").inner_text()
    assert "已登记 1 人" in report and "未通过 1 人" in report
    assert page.locator("tr.outcome-added").count() == 1 and page.locator("tr.outcome-failed").count() == 1


def test_resident_sees_their_individual_result_after_a_positive_pool(page, demo_city, make_user):
    from datetime import timedelta

    from sampling.extensions import db
    from sampling.lab import results
    from tests.lab_fixtures import T0, at_the_lab, resident, sealed_tube
    sampler, lab = make_user("sampler", sites=("S-HP-001",)), make_user("lab")
    people = [resident(i) for i in range(10)]
    sealed_tube("QRY-POOL", "S-HP-001", people, sampler=sampler)
    sealed_tube("QRY-SOLO", "S-HP-001", [people[0]], capacity=1, at=T0 + timedelta(hours=3))
    db.session.commit()
    at_the_lab(sampler, lab, "QRY-BOX", ["QRY-POOL", "QRY-SOLO"])
    results.post_results(lab, [results.make_row(None, "QRY-POOL", "positive"),
                               results.make_row(None, "QRY-SOLO", "negative")])

    page.goto("/query")
    page.fill("#id_number", people[0].id_number)
    page.fill("#name", people[0].name)
    with page.expect_navigation():
        page.click("button[type=submit]")
    cells = page.locator("#records tbody tr td:last-child")
    assert [cells.nth(i).inner_text() for i in range(cells.count())] == ["阴性。", "您的单采复核结果为阴性。"]
    assert page.locator("#records tbody tr").nth(1).locator("td.result-retest_negative").count() == 1
    page.fill("#id_number", people[1].id_number)
    page.fill("#name", people[1].name)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "请原地等待单独复采" in page.locator("#records tbody").inner_text()
