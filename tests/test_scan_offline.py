"""The scanning page without network (issue 5), in a real Chromium with its service worker:
the server is switched off (and the browser set offline) while the sampler works, the page is
reloaded from the phone, and everything is sent once the network is back, exactly once."""
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from sampling.extensions import db
from sampling.models import ClientOperation, Sample
from tests.failing_servers import answering_502, never_answering
from tests.field import cid, current_round, make_residents, qr
from tests.scan_helpers import (
    SLOW,
    SwitchableServer,
    open_scan_page,
    pending,
    tube_contents,
    wait_all_sent,
    wait_worker,
    wedge,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def crew(demo_city, make_user):
    make_user("sampler", username="li_sampler", sites=("S-HP-001",))
    people = make_residents(20)
    return {"round": current_round(), "people": people, "codes": [qr(p) for p in people]}


@pytest.fixture
def switchable(server):
    http = SwitchableServer(server)
    http.start()
    yield http
    http.stop()


@pytest.fixture
def phone(browser, switchable):
    """A fresh browser context (no service worker yet) on the switchable server; dialogs are
    accepted and recorded."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, base_url=switchable.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.dialogs = []
    page.decline = False

    def accept(dialog):
        page.dialogs.append(dialog.type)
        dialog.dismiss() if page.decline else dialog.accept()

    page.on("dialog", accept)
    yield page
    context.close()


def network(page, switchable, on: bool) -> None:
    if on:
        switchable.start()
        page.context.set_offline(False)
    else:
        page.context.set_offline(True)
        switchable.stop()
        page.wait_for_function("navigator.onLine === false")


def test_offline_two_tubes_fifteen_scans_and_a_reload_are_sent_once_back_online(phone, switchable, crew):
    page, people, codes = phone, crew["people"], crew["codes"]
    open_scan_page(page, "li_sampler")
    wait_worker(page)
    network(page, switchable, on=False)

    wedge(page, "T-OFF-0001")  # capacity: the round's pool size, 10
    for code in codes[:10]:
        wedge(page, code)
    page.wait_for_selector("#recent li[data-code='T-OFF-0001'].recent-sealed")
    expect(page.locator("#net-status")).to_have_text("离线")
    wedge(page, "T-OFF-0002")
    for code in codes[10:13] + [codes[19]]:
        wedge(page, code)
    expect(page.locator("#counter")).to_have_text("4/10")
    undone = page.evaluate("window.scanApp.field.liveScans('T-OFF-0002').at(-1).client_id")
    page.click("#undo")  # the last scan was a mistake: taken out, offline too
    expect(page.locator("#counter")).to_have_text("3/10")
    assert pending(page) == 1 + 10 + 1 + 1 + 3 + 1 + 1  # the undone scan and its undo are both sent
    assert "18 条待发送" in page.locator("#pending").inner_text()
    # scans are shown at once, names only once the server has answered
    assert page.locator("#tube-list li.scan-queued").count() == 3
    assert page.locator(f"#tube-list li.scan-undone[data-client-id='{undone}']").count() == 1

    page.reload()  # from the phone's cache: the server is off
    page.wait_for_selector("body[data-scan-ready='1']")
    assert "beforeunload" in page.dialogs  # the sampler was warned before leaving unsent work
    expect(page.locator("#tube-code")).to_have_text("T-OFF-0002")
    expect(page.locator("#counter")).to_have_text("3/10")  # the undo holds after the reload
    expect(page.locator("#pending")).to_have_attribute("data-count", "18")
    assert page.locator(f"#tube-list li.scan-undone[data-client-id='{undone}']").count() == 1
    wedge(page, codes[12])  # still caught as a duplicate after the reload
    expect(page.locator("#message")).to_have_class("message message-error")
    for code in codes[13:15]:
        wedge(page, code)
    page.click("#seal")
    page.wait_for_function("document.querySelector('#tube-code').textContent === ''")
    expect(page.locator("#pending")).to_have_attribute("data-count", "21")
    page.decline = True  # logging out with unsent work asks first; the sampler stays
    page.click("text=退出登录")
    assert page.dialogs[-1] == "confirm" and page.url.endswith("/scan/")
    page.decline = False
    assert tube_contents("T-OFF-0001") == (None, [])  # nothing reached the server yet

    network(page, switchable, on=True)
    wait_all_sent(page)
    first, in_first = tube_contents("T-OFF-0001")
    second, in_second = tube_contents("T-OFF-0002")
    assert in_first == [p.id for p in people[:10]] and in_second == [p.id for p in people[10:15]]
    assert (first.status, first.sample_count, second.status, second.sample_count) == ("sealed", 10, "sealed", 5)
    ids = list(db.session.scalars(select(Sample.resident_id)))
    assert sorted(ids) == sorted(p.id for p in people[:15])  # each once, nobody else
    # the undone scan reached the server and was taken out again: gone, its add answered for good
    assert db.session.scalar(select(Sample.id).where(Sample.client_id == undone)) is None
    assert db.session.get(ClientOperation, undone).op == "add_sample"
    # names appear once the server has answered
    page.wait_for_selector("#tube-list li.scan-done >> nth=4")
    assert "居**1" in page.locator("#tube-list").inner_text()


def test_conflicts_are_listed_and_fixed_in_the_page(phone, switchable, crew, client, make_user, token_for):
    page, people, codes = phone, crew["people"], crew["codes"]
    other_phone = token_for(make_user("sampler", username="wang_sampler", sites=("S-HP-001",)))
    open_scan_page(page, "li_sampler")
    wait_worker(page)
    page.click("label.cap:has(input[value='5'])")
    wedge(page, "T-CON-0001")
    wait_all_sent(page)

    network(page, switchable, on=False)
    for code in codes[:3]:
        wedge(page, code)
    forged = "S1" + "A" * 24  # well formed, so the phone takes it; only the server can tell
    wedge(page, forged)
    expect(page.locator("#counter")).to_have_text("4/5")
    # meanwhile another phone fills the same tube
    for code in codes[3:8]:
        response = client.post("/api/v1/tubes/T-CON-0001/samples", json={"qr": code, "client_id": cid()},
                               headers=other_phone)
        assert response.status_code == 201
    network(page, switchable, on=True)
    wait_all_sent(page)

    page.wait_for_function("document.querySelectorAll('#problem-list li.problem').length === 4")
    problems = page.locator("#problem-list li.problem")
    reasons = [problems.nth(i).get_attribute("data-code") for i in range(4)]
    assert reasons == ["tube_sealed"] * 3 + ["invalid_code"]
    assert page.locator("#problem-list .problem-reason").first.inner_text()  # the reason, in words
    # the tube is closed on the server: the page asks for the next tube
    expect(page.locator("#tube-code")).to_have_text("")
    page.locator("#problem-list .fix-move").first.click()
    expect(page.locator("#message")).to_contain_text("有空位")  # no tube to move to yet

    wedge(page, "T-CON-0002")
    page.wait_for_function("document.querySelector('#tube-code').textContent === 'T-CON-0002'")
    page.locator("#problem-list .fix-move").first.click()  # one tap for one scan
    expect(page.locator("#problem-list .fix-move")).to_have_count(2)
    page.click("#move-all")  # or all at once
    expect(page.locator("#message")).to_contain_text("T-CON-0002")
    wait_all_sent(page)
    # the forged code was refused as invalid: it can only be dismissed
    page.wait_for_function("document.querySelectorAll('#problem-list li.problem').length === 1")
    forged_problem = page.locator("#problem-list li.problem")
    assert forged_problem.get_attribute("data-code") == "invalid_code"
    assert forged_problem.locator(".fix-move").count() == 0
    forged_problem.locator(".fix-dismiss").click()
    page.wait_for_selector("#problems", state="hidden")

    # someone sampled earlier in the round: flagged, and sampled again only when asked
    wedge(page, codes[3])
    page.wait_for_function("document.querySelector('#problem-list li.problem')?.dataset.code"
                           " === 'already_sampled_this_round'", timeout=SLOW)
    page.locator("#problem-list .fix-resample").click()
    # the problem leaves the list once the resample is queued: only then can "all sent" mean it
    page.wait_for_selector("#problems", state="hidden")
    wait_all_sent(page)

    _, in_first = tube_contents("T-CON-0001")
    second, in_second = tube_contents("T-CON-0002")
    assert in_first == [p.id for p in people[3:8]]
    assert in_second == [p.id for p in people[:3]] + [people[3].id]
    resample = db.session.scalar(select(Sample.resample).where(Sample.tube_id == second.id,
                                                               Sample.resident_id == people[3].id))
    assert resample is True and second.sample_count == 4
    assert "confirm" in page.dialogs  # dismissing was deliberate


def test_a_failing_server_is_no_worse_than_no_network(phone, switchable, crew):
    """A load balancer answering 502 while the servers restart, then a server that accepts and
    never answers: the page opens from the phone's copy each time and the sampler works on."""
    page, people, codes = phone, crew["people"], crew["codes"]
    open_scan_page(page, "li_sampler")
    wait_worker(page)
    switchable.stop()
    with answering_502(switchable.port):
        page.reload()
        page.wait_for_selector("body[data-scan-ready='1']")
        wedge(page, "T-502-0001")
        wedge(page, codes[0])
        expect(page.locator("#counter")).to_have_text("1/10")
        expect(page.locator("#round option:checked")).not_to_have_text("—")  # rounds and sites: the kept copies
    with never_answering(switchable.port):
        started = time.monotonic()
        page.reload()
        page.wait_for_selector("body[data-scan-ready='1']", timeout=SLOW)
        ready_after = time.monotonic() - started
        expect(page.locator("#tube-code")).to_have_text("T-502-0001")
        wedge(page, codes[1])
        expect(page.locator("#counter")).to_have_text("2/10")
    # the page waits 4 s for the server, then answers from the phone; the page's own reads that
    # follow do not wait again
    assert 3.5 < ready_after < 7.5, ready_after
    switchable.start()
    page.evaluate("window.scanApp.outbox.flush()")
    wait_all_sent(page)
    tube, members = tube_contents("T-502-0001")
    assert members == [people[0].id, people[1].id] and tube.status == "open"
