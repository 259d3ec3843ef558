"""The migration history is one straight chain whose file order is its upgrade order, and the
renumbering that made it so (issue 15) strands no database: one built with the earlier chain
(revisions 0001 0002 0003 0007 0005 0006 0006b 0004 0008 0011 0010 0012, head 0012) upgrades with
today's chain and ends with exactly the schema of a database built fresh."""
import re
import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url, text

from sampling import MIGRATIONS_DIR, create_app
from sampling.extensions import db
from tests.conftest import _base_config

VERSIONS = Path(MIGRATIONS_DIR) / "versions"
# today's revision -> its id in the earlier chain (the same migration, renumbered)
EARLIER_ID = {"0001": "0001", "0002": "0002", "0003": "0003", "0004": "0007", "0005": "0005", "0006": "0006",
              "0007": "0006b", "0008": "0004", "0009": "0008", "0010": "0011", "0011": "0010", "0012": "0012"}


def _config(app, version_locations: Path | None = None):
    config = app.extensions["migrate"].migrate.get_config(MIGRATIONS_DIR)
    if version_locations is not None:
        config.set_main_option("version_locations", str(version_locations))
    return config


def test_file_order_is_upgrade_order(app):
    script = ScriptDirectory.from_config(_config(app))
    upgrade_order = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    files = sorted(p.name for p in VERSIONS.glob("*.py"))
    assert [name.split("_")[0] for name in files] == upgrade_order
    assert upgrade_order == [f"{n:04d}" for n in range(1, len(upgrade_order) + 1)]
    assert len(script.get_heads()) == 1


def _earlier_chain(tmp_path: Path) -> Path:
    """Today's first twelve migrations under the ids and down_revisions they had before."""
    folder = tmp_path / "earlier_versions"
    folder.mkdir()
    previous = None
    for path in sorted(VERSIONS.glob("*.py")):
        revision = path.name.split("_")[0]
        if revision not in EARLIER_ID:
            break
        source = path.read_text(encoding="utf-8")
        source = re.sub(r"^revision = .*$", f"revision = {EARLIER_ID[revision]!r}", source, count=1, flags=re.M)
        source = re.sub(r"^down_revision = .*$", f"down_revision = {previous!r}", source, count=1, flags=re.M)
        (folder / f"{EARLIER_ID[revision]}_{path.name.split('_', 1)[1]}").write_text(source, encoding="utf-8")
        previous = EARLIER_ID[revision]
    return folder


@pytest.fixture
def scratch_databases(database_url, tmp_path):
    """Two empty databases of the test database's kind: (earlier, fresh) URLs."""
    if not database_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'earlier.db'}", f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    base = make_url(database_url)
    names = [f"{base.database}_history_{kind}" for kind in ("earlier", "fresh")]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield tuple(base.set(database=name).render_as_string(hide_password=False) for name in names)
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _schema(connection) -> dict:
    """Everything the migrations create, as the database itself describes it."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                       "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"))
        # a table's clauses in the order of its definition, which batch mode (a table copy) may shuffle
        return {"objects": [(kind, name, table, sorted(sql.replace(",", "\n").split("\n")) if kind == "table" else sql)
                            for kind, name, table, sql in rows]}
    queries = {
        "columns": "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, "
                   "column_default FROM information_schema.columns WHERE table_schema = 'public' "
                   "ORDER BY table_name, column_name",
        "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
        "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2",
        "triggers": "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                    "WHERE NOT tgisinternal ORDER BY 1, 2",
        "functions": "SELECT proname, pg_get_functiondef(oid) FROM pg_proc "
                     "WHERE pronamespace = 'public'::regnamespace ORDER BY 1",
    }
    return {kind: [tuple(r) for r in connection.execute(text(sql))] for kind, sql in queries.items()}


def _built(url: str, *chains) -> tuple[dict, str]:
    app = create_app(_base_config(url))
    with app.app_context():
        for version_locations in chains:
            command.upgrade(_config(app, version_locations), "head")
        with db.engine.connect() as connection:
            schema = _schema(connection)
            head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        db.engine.dispose()
    return schema, head


def test_a_database_of_the_earlier_chain_upgrades_to_the_same_schema(scratch_databases, tmp_path):
    earlier_url, fresh_url = scratch_databases
    earlier_chain = _earlier_chain(tmp_path)
    upgraded, upgraded_head = _built(earlier_url, earlier_chain, None)
    fresh, fresh_head = _built(fresh_url, None)
    assert upgraded_head == fresh_head
    assert upgraded.keys() == fresh.keys() and all(fresh.values())
    for kind in fresh:
        assert upgraded[kind] == fresh[kind], kind
    shutil.rmtree(earlier_chain)
