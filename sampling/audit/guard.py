"""The trail is append-only for the application: the database itself refuses to change it.

On PostgreSQL a statement-level trigger refuses every UPDATE, DELETE and TRUNCATE of
``audit_events`` (even one that matches no row) with SQLSTATE 42501, whoever sends it. A trigger,
not privileges, because the application connects as the role that owns the tables (its migrations
create them), and an owner is not bound by REVOKE; a trigger binds the owner too. What remains is
DDL (``ALTER TABLE ... DISABLE TRIGGER``, ``DROP``), which the application never sends; a deployment
that separates the migration role from the application role closes that as well (docs/privacy.md).
On SQLite (one file, a single machine) two triggers refuse UPDATE and DELETE the same way, which
also keeps an application bug from touching the trail.
"""

MESSAGE = "audit_events is append-only"


def install_sql(dialect: str) -> list[str]:
    """The statements that make ``audit_events`` append-only (migration 0014)."""
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION audit_events_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION USING MESSAGE = '{MESSAGE}: ' || TG_OP || ' refused', ERRCODE = '42501'; END $$",
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse()",
        ]
    return [f"CREATE TRIGGER audit_events_no_{op.lower()} BEFORE {op} ON audit_events "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END" for op in ("UPDATE", "DELETE")]


def remove_sql(dialect: str) -> list[str]:
    """The statements that undo :func:`install_sql` (the migration's downgrade)."""
    if dialect == "postgresql":
        return ["DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
                "DROP FUNCTION IF EXISTS audit_events_refuse()"]
    return [f"DROP TRIGGER IF EXISTS audit_events_no_{op}" for op in ("update", "delete")]
