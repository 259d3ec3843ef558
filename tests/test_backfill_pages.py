"""The coordinators' backfill page (补录) through the test client: errors where the user looks."""
import re

import pytest
from sqlalchemy import func, select

from sampling.extensions import db
from sampling.models import Sample
from tests.conftest import login
from tests.field import backdate_round, current_round, id_number


@pytest.fixture
def coordinator(demo_city, make_user):
    backdate_round()
    return make_user("coordinator", region="120101")


def form_token(html: str, prefix: str) -> str:
    return re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def post_entry(client, **fields):
    page = client.get("/backfill").get_data(as_text=True)
    data = {"entry-csrf_token": form_token(page, "entry"), "entry-round_id": str(current_round().id),
            "entry-tube_code": "W0001", "entry-site_code": "S-HP-001", "entry-sampled_at": "2022-01-10T08:30",
            "entry-name": "网页一", "entry-id_type": "resident_id_card",
            "entry-id_number": id_number(1, "19700101"), "entry-submit": "1"}
    data.update({f"entry-{k}": v for k, v in fields.items()})
    response = client.post("/backfill", data=data)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def errors_under(html: str, field_id: str) -> list[str]:
    """The field-error paragraphs right after the input or select with this id."""
    match = re.search(rf'id="{field_id}"[^>]*>(?:</select>)?\s*((?:<p class="field-error">[^<]*</p>\s*)*)', html,
                      re.S)
    return re.findall(r'<p class="field-error">([^<]*)</p>', match.group(1)) if match else []


def test_entry_errors_stand_under_their_fields_in_the_users_language(client, coordinator):
    login(client, coordinator.username)
    html = post_entry(client, id_number="120101197001010000")
    assert errors_under(html, "entry-id_number") == ["身份证号码校验位不符，请核对。"]
    assert "id_number" not in re.sub(r'(id|name|for)="[^"]*"', "", html)
    assert db.session.scalar(select(func.count()).select_from(Sample)) == 0
    ok = post_entry(client)
    assert "已登记。" in ok and errors_under(ok, "entry-id_number") == []


def test_the_page_offers_the_rounds_and_sites_of_the_coordinators_region(client, coordinator, make_user):
    from sampling.field.rounds import create_round
    admin = make_user("admin")
    hedong = create_round(admin, "河东区加测", 10, "120102")
    heping = create_round(admin, "和平区加测", 10, "120101")
    street = create_round(admin, "劝业场街道加测", 10, "120101001")
    login(client, coordinator.username)
    html = client.get("/backfill").get_data(as_text=True)
    rounds = re.findall(r'<option value="(\d+)">', html.split('id="entry-round_id"')[1].split("</select>")[0])
    assert rounds == [str(street.id), str(heping.id), str(current_round().id)]  # newest first; not 河东区
    sites = re.findall(r'<option value="(S-[^"]+)">', html.split('id="entry-site_code"')[1].split("</select>")[0])
    assert sites == ["S-HP-001", "S-HP-002", "S-HP-003"]
    # the API refuses the round the page does not offer
    from sampling.errors import Forbidden
    from sampling.field import backfill
    with pytest.raises(Forbidden) as refused:
        backfill.backfill_one(coordinator, hedong.id, {"tube_code": "P0001", "site_code": "S-HP-001",
                                                       "sampled_at": "2022-01-10 08:30", "name": "纸质一",
                                                       "id_number": id_number(1, "19700101")})
    assert refused.value.code == "forbidden_region"


def test_the_page_is_for_coordinators_and_admins(client, coordinator, make_user):
    assert client.get("/backfill").status_code == 302  # to the log-in page
    login(client, make_user("sampler", sites=("S-HP-001",)).username)
    assert client.get("/backfill").status_code == 403
