"""A real Chromium: the admin reads the audit trail, filters it and downloads it; a coordinator
sees only the events of their district."""
import csv
import io
import re

import pytest
from sqlalchemy import select

from sampling import audit
from sampling.extensions import db
from sampling.kernel.regions import get_region
from sampling.models import AuditEvent
from tests.test_browser_lab import log_in

pytestmark = pytest.mark.browser


def test_admin_filters_and_downloads_the_trail_coordinator_sees_their_district(page, demo_city, make_user):
    admin = make_user("admin", username="zhao_admin")
    hp = make_user("coordinator", username="qian_hp", region="120101")
    hd = make_user("coordinator", username="sun_hd", region="120102")
    audit.record("positives.export", user=hp, region=get_region("120101001001"), people=12,
                 detail={"format": "xlsx"})
    audit.record("collision.download", user=hd, region=get_region("120102001001"), people=340,
                 object_type="collision", object_id=5)
    db.session.commit()

    log_in(page, admin.username)
    page.click("text=审计日志")
    page.wait_for_selector("#audit-events")
    table = page.locator("#audit-events")
    assert "下载了待查找人员名单" in table.inner_text() and "下载了碰撞名单" in table.inner_text()
    page.select_option("#action", "collision.download")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_url(re.compile(r".*action=collision\.download.*"))
    rows = page.locator("#audit-events tbody tr")
    assert rows.count() == 1
    assert "sun_hd" in rows.first.inner_text() and "340" in rows.first.inner_text()
    with page.expect_download() as download:
        page.click("#download-csv")
    with open(download.value.path(), encoding="utf-8-sig") as handle:
        lines = list(csv.reader(io.StringIO(handle.read())))
    assert lines[0][0] == "时间" and [row[4] for row in lines[1:]] == ["collision.download"]
    db.session.expire_all()
    exported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.export")).all()
    assert [(e.username, e.people) for e in exported] == [("zhao_admin", 1)]
    page.click("text=退出登录")

    log_in(page, hp.username)
    page.goto("/admin/audit")
    text = page.locator("#audit-events").inner_text()
    assert "qian_hp" in text and "sun_hd" not in text and "zhao_admin" not in text
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
