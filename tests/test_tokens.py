"""API tokens die with the password they were issued under, and dead tokens are deleted."""
from datetime import timedelta

from sqlalchemy import func, select

from sampling.extensions import db
from sampling.kernel import tokens
from sampling.models import ApiToken, User
from sampling.models.base import utcnow
from tests.conftest import PASSWORD


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def rounds_status(client, headers) -> int:
    return client.get("/api/v1/rounds", headers=headers).status_code


def test_password_reset_revokes_the_old_tokens(app, client, make_user, token_for):
    user = make_user("lab", username="wang")
    phone, scanner = token_for(user), token_for(user)
    assert rounds_status(client, phone) == 200
    result = run(app, "create-user", "wang", "--role", "lab", "--password", "a-new-password", "--update")
    assert result.exit_code == 0, result.output
    assert rounds_status(client, phone) == 401 and rounds_status(client, scanner) == 401
    fresh = client.post("/api/v1/auth/token", json={"username": "wang", "password": "a-new-password"})
    assert fresh.status_code == 200
    assert rounds_status(client, {"Authorization": f"Bearer {fresh.get_json()['token']}"}) == 200


def test_import_users_update_revokes_tokens_of_the_reset_accounts_only(app, client, make_user, token_for, tmp_path):
    reset, untouched = make_user("lab", username="li"), make_user("lab", username="zhao")
    reset_headers, untouched_headers = token_for(reset), token_for(untouched)
    path = tmp_path / "u.csv"
    path.write_text("username,role,password\nli,lab,another-password\n", encoding="utf-8")
    assert run(app, "import-users", str(path), "--update").exit_code == 0
    assert rounds_status(client, reset_headers) == 401 and rounds_status(client, untouched_headers) == 200


def test_deactivation_revokes_tokens_for_good(app, client, make_user, token_for):
    user = make_user("lab", username="sun")
    headers = token_for(user)
    result = run(app, "deactivate-user", "sun")
    assert result.exit_code == 0 and "1" in result.output, result.output
    assert rounds_status(client, headers) == 401
    assert client.post("/api/v1/auth/token", json={"username": "sun", "password": PASSWORD}).status_code == 401
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == user.id)) is not None
    # activating again takes a new password; the old token stays dead
    assert run(app, "create-user", "sun", "--role", "lab", "--password", "brand-new-pw", "--update").exit_code == 0
    assert rounds_status(client, headers) == 401
    unknown = run(app, "deactivate-user", "nobody")
    assert unknown.exit_code == 1 and "nobody" in unknown.output and "Traceback" not in unknown.output


def test_login_deletes_the_users_dead_tokens_and_purge_deletes_everyones(app, client, make_user, token_for):
    zhou, wu = make_user("lab", username="zhou"), make_user("lab", username="wu")
    for user in (zhou, wu):
        for _ in range(2):
            token_for(user)
        token, _ = tokens.issue_token(user, 1)
        tokens.revoke_token(token)
    live = select(ApiToken).where(ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)
    expired = db.session.scalars(live).all()[0::2]
    for row in expired:  # one live token of each user expires
        row.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    def count(user) -> int:
        return db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id))

    assert (count(zhou), count(wu)) == (3, 3)
    token_for(zhou)  # zhou's expired and revoked tokens go; his live one and wu's stay
    assert (count(zhou), count(wu)) == (2, 3)
    result = run(app, "purge-tokens")
    assert result.exit_code == 0, result.output
    assert (count(zhou), count(wu)) == (2, 1)
    live = db.session.scalars(select(ApiToken).join(User).where(User.username == "wu")).one()
    assert live.revoked_at is None and live.expires_at > utcnow()


def test_password_reset_ends_the_web_sessions_too(app, demo_city, client, make_user):
    from tests.conftest import login
    make_user("coordinator", username="zhao", region="120101")
    assert login(client, "zhao").request.path != "/login"
    assert client.get("/rosters").status_code == 200  # a page only staff see
    result = run(app, "create-user", "zhao", "--role", "coordinator", "--region", "120101",
                 "--password", "a-new-password", "--update")
    assert result.exit_code == 0, result.output
    assert client.get("/rosters").status_code == 302  # the old session no longer counts: log in again
    assert login(client, "zhao", "a-new-password").request.path != "/login"
    assert client.get("/rosters").status_code == 200
