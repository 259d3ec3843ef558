"""The one role guard of the staff pages: who opens which page, and what the others see."""
import pytest

from tests.conftest import login

ROLES = ("admin", "coordinator", "sampler", "lab")
PAGES = {
    "/scan/": {"admin", "coordinator", "sampler"},
    "/backfill": {"admin", "coordinator"},
    "/lab/boxes": {"admin", "sampler"},
    "/lab/receive": {"admin", "lab"},
    "/lab/results/upload": {"admin", "lab"},
    "/positives": {"admin", "coordinator"},
    "/staff/residents/new": {"admin", "coordinator", "sampler"},
    "/staff/code-sheets/new": {"admin", "coordinator", "sampler"},
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_its_pages_and_gets_a_friendly_403_elsewhere(client, demo_city, make_user, role):
    user = make_user(role, region="120101" if role == "coordinator" else None,
                     sites=("S-HP-001",) if role == "sampler" else ())
    login(client, user.username)
    for path, allowed in PAGES.items():
        response = client.get(path)
        if role in allowed:
            assert response.status_code == 200, (role, path)
        else:
            assert response.status_code == 403, (role, path)
            page = response.get_data(as_text=True)
            assert "<html" in page and "您无权" in page, (role, path)


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/login?next=" in response.headers["Location"], path


def test_pages_check_roles_only_through_the_shared_guard():
    """No page module re-implements the rule (web/guards.py, on kernel.access.require_role)."""
    from pathlib import Path

    import sampling.web
    for module in Path(sampling.web.__file__).parent.glob("*.py"):
        source = module.read_text(encoding="utf-8")
        for own_check in ("abort(403)", ".role not in", "Forbidden(", "def role_required"):
            assert own_check not in source or module.name == "guards.py", (module.name, own_check)
