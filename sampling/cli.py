"""Command-line tasks on ``flask --app wsgi``: setting up a city, its staff and the demo."""
from pathlib import Path

import click
from flask_babel import gettext as _
from sqlalchemy import func, select

from sampling.errors import DomainError, from_database_error
from sampling.extensions import db

DEMO_DIR = Path(__file__).with_name("demo")
DEMO_PASSWORD = "demo12345"
DEMO_ACCOUNTS = (
    ("admin", "admin", None, ()),
    ("coordinator", "coordinator", "120101", ()),
    ("sampler", "sampler", None, ("S-HP-001", "S-HP-002")),
    ("lab", "lab", None, ()),
)


def _fail(exc: DomainError):
    detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
    raise click.ClickException(f"{exc.message}{' ' + detail if detail else ''}")


def _guarded(work, *args, commit: bool = False):
    """``work(*args)`` (then commit, if asked); a refusal, or a value the database cannot hold, is a
    clear error (nothing written) instead of a traceback."""
    try:
        result = work(*args)
        if commit:
            db.session.commit()
        return result
    except Exception as exc:
        db.session.rollback()
        refusal = exc if isinstance(exc, DomainError) else from_database_error(exc)
        if refusal is None:
            raise
        _fail(refusal)


def _import(path: str, importer) -> dict:
    with open(path, "rb") as stream:
        return _guarded(importer, stream, path)


def register(app) -> None:
    """Attach the commands to the app's CLI."""
    register_stats(app)

    @app.cli.command("import-regions")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    def import_regions_cmd(file):
        """Import regions from a CSV file with the header code,name,level,parent_code
        (level: district, street or community; UTF-8 or GB18030). Re-importing updates names."""
        from sampling.kernel.regions import import_regions
        result = _import(file, import_regions)
        click.echo(_("Regions: %(created)s created, %(updated)s updated.", **result))

    @app.cli.command("import-sites")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    def import_sites_cmd(file):
        """Import sampling sites from a CSV file with the header code,name,community_code."""
        from sampling.kernel.regions import import_sites
        result = _import(file, import_sites)
        click.echo(_("Sites: %(created)s created, %(updated)s updated.", **result))

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", required=True, type=click.Choice(["admin", "coordinator", "sampler", "lab"]))
    @click.option("--region", "region_code", help="Region code (required for coordinators).")
    @click.option("--site", "site_codes", multiple=True, help="Site code; repeat for several (samplers).")
    @click.option("--name", "display_name", help="Display name.")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                  help="Password (prompted for when not given).")
    @click.option("--update", is_flag=True, help="Reset an existing account (its API tokens are revoked) instead "
                  "of refusing.")
    def create_user_cmd(username, role, region_code, site_codes, display_name, password, update):
        """Create a staff account."""
        from sampling.kernel.users import create_user
        user = _guarded(lambda: create_user(username, role, password, region_code, site_codes, display_name,
                                            update=update), commit=True)
        click.echo(_("User %(name)s (%(role)s) saved.", name=user.username, role=user.role))

    @app.cli.command("deactivate-user")
    @click.argument("username")
    def deactivate_user_cmd(username):
        """Deactivate a staff account and revoke its API tokens (create-user --update activates it
        again, with a new password)."""
        from sampling.kernel.users import deactivate_user
        revoked = _guarded(deactivate_user, username, commit=True)
        click.echo(_("User %(name)s deactivated; %(n)s tokens revoked.", name=username, n=revoked))

    @app.cli.command("unlock-user")
    @click.argument("username")
    def unlock_user_cmd(username):
        """Unlock a staff account locked after too many wrong passwords."""
        from sampling.kernel.users import unlock_user
        _guarded(unlock_user, username, commit=True)
        click.echo(_("User %(name)s unlocked.", name=username))

    @app.cli.command("end-sessions")
    @click.argument("username")
    def end_sessions_cmd(username):
        """End every web session and API token of a staff account (a lost or stolen phone)."""
        from sampling.kernel.users import end_sessions
        ended = _guarded(end_sessions, username, commit=True)
        click.echo(_("User %(name)s: %(n)s sessions and tokens ended.", name=username, n=ended))

    @app.cli.command("purge-tokens")
    def purge_tokens_cmd():
        """Delete expired and revoked API tokens (each login also deletes its user's)."""
        from sampling.kernel.tokens import purge_tokens
        deleted = _guarded(purge_tokens, commit=True)
        click.echo(_("Tokens deleted: %(n)s", n=deleted))

    @app.cli.command("import-users")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--update", is_flag=True, help="Reset accounts that already exist (their API tokens are revoked).")
    def import_users_cmd(file, update):
        """Create many staff accounts from a CSV or XLSX file with the header
        username,role,password,region_code,site_codes,display_name (site codes separated by ';')."""
        from sampling.kernel.users import import_users
        result = _import(file, lambda stream, name: import_users(stream, name, update=update))
        click.echo(_("Users: %(saved)s saved, %(rejected)s rejected.", saved=result["created"],
                     rejected=len(result["errors"])))
        for error in result["errors"]:
            click.echo("  " + _("Row %(row)s (%(name)s): %(message)s", row=error["row"], name=error["username"],
                                message=error["message"]), err=True)

    @app.cli.command("close-round")
    @click.argument("round_id")
    def close_round_cmd(round_id):
        """Close a round: no tube can be opened in it and its open tubes are sealed. Reopening is
        for admins, through PATCH /api/v1/rounds/<id>."""
        from sampling.field.rounds import close_round, get_round
        rnd = _guarded(get_round, round_id)
        sealed = _guarded(close_round, rnd)
        click.echo(_("Round %(id)s (%(name)s) is closed; %(n)s open tubes were sealed.", id=rnd.id,
                     name=rnd.name, n=sealed))

    @app.cli.command("purge-rosters")
    def purge_rosters_cmd():
        """Delete rosters (with their rows and collisions) older than ROSTER_RETENTION_DAYS."""
        from sampling.rosters.retention import purge_expired_rosters
        click.echo(_("Rosters deleted: %(n)s", n=purge_expired_rosters()))

    @app.cli.command("demo")
    @click.option("--if-empty", is_flag=True, help="Load only into a database with no regions yet.")
    def demo_cmd(if_empty):
        """Load a small demo city (districts, streets, communities, sites, an open round,
        one account per role) and print the demo logins. Safe to run again."""
        from sampling.models import Region
        if if_empty and db.session.scalar(select(func.count()).select_from(Region)):
            click.echo(_("The database already has data; demo not loaded."))
        else:
            load_demo()
            load_demo_field_work()
            click.echo(_("Demo city loaded."))
        working = demo_logins()
        if working:
            click.echo(_("Demo logins (user / password):"))
        for username, role, region in working:
            scope = _("%(role)s, region %(code)s", role=role, code=region) if region else role
            click.echo(f"  {username:<12} / {DEMO_PASSWORD}   ({scope})")


def demo_logins() -> list[tuple[str, str, str | None]]:
    """The demo accounts that exist and still take the demo password (a database that never had
    the demo, or whose demo passwords were changed, has none to print)."""
    from sampling.kernel.users import authenticate
    return [(username, role, region) for username, role, region, _sites in DEMO_ACCOUNTS
            if authenticate(username, DEMO_PASSWORD) is not None]


def load_demo() -> None:
    """The demo city: regions, sites, one account per role and an open round."""
    from sampling.kernel.regions import import_regions, import_sites
    from sampling.kernel.users import create_user
    from sampling.models import Round
    _import(str(DEMO_DIR / "regions.csv"), import_regions)
    _import(str(DEMO_DIR / "sites.csv"), import_sites)
    for username, role, region, sites in DEMO_ACCOUNTS:
        create_user(username, role, DEMO_PASSWORD, region, sites, update=True)
    if not db.session.scalar(select(func.count()).select_from(Round)):
        db.session.add(Round(name="第二轮全员核酸检测", pool_size=10))
    db.session.commit()


DEMO_NAMES = "张伟 王芳 李娜 刘洋 陈静 杨磊 赵敏 黄强 周杰 吴霞 徐涛 孙丽 胡军 朱琳 高翔 林悦 何平 郭婷".split()


def load_demo_field_work() -> None:
    """Eighteen residents of 新华里社区; twelve sampled by the demo sampler into two tubes."""
    import uuid

    from stdnum.cn import ric

    from sampling.field import samples, tubes
    from sampling.models import Resident, Round, User
    from sampling.residents import codes, registration
    if db.session.scalar(select(func.count()).select_from(Resident)):
        return
    people = []
    for i, name in enumerate(DEMO_NAMES):
        body = f"120101{1950 + 3 * i}{1 + i % 12:02d}{1 + i:02d}{100 + i:03d}"
        person, _new = registration.register({
            "name": name, "id_type": "resident_id_card", "id_number": body + ric.calc_check_digit(body + "0"),
            "phone": f"1380000{i:04d}", "region_code": "120101001001", "address": f"{1 + i % 3}号楼{1 + i % 2}单元"})
        people.append(person)
    db.session.commit()
    sampler = db.session.scalar(select(User).where(User.username == "sampler"))
    round_id = db.session.scalar(select(Round.id).order_by(Round.id))
    for tube_code, group in (("DEMO-TUBE-0001", people[:10]), ("DEMO-TUBE-0002", people[10:12])):
        tubes.open_tube(sampler, {"tube_code": tube_code, "round_id": round_id, "site_code": "S-HP-001",
                                  "capacity": 10})
        for person in group:
            samples.add_sample(sampler, tube_code, {"qr": codes.token_for(person.id), "client_id": str(uuid.uuid4())})


def register_stats(app) -> None:
    """The statistics maintenance command."""

    @app.cli.command("rebuild-stats")
    @click.option("--round", "round_id", type=int, help="Only this round (default: every round and the "
                  "registered residents).")
    def rebuild_stats_cmd(round_id):
        """Recompute the statistics aggregates from scratch with set-based SQL (after bulk loads that
        bypassed the triggers, or to check them). Scans wait while it runs on PostgreSQL."""
        from sampling.stats.triggers.rebuild import rebuild_stats
        rebuild_stats(round_id)
        click.echo(_("Statistics rebuilt for round %(id)s.", id=round_id) if round_id else
                   _("Statistics rebuilt for every round."))
