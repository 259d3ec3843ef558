"""Waiting on states, never on the clock: until a condition holds (a thread blocked, sessions
queued on a lock), with a deadline that only turns a hang into a failure."""
import time

from sqlalchemy import create_engine, text

DEADLINE = 60.0  # seconds: generous, so that a busy machine never fails a test that is right

WAITERS = """SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'
AND (CAST(:event AS text) IS NULL OR wait_event = :event)"""


def until(condition, what: str, deadline: float = DEADLINE) -> None:
    """Poll ``condition()`` until it is true; fail naming ``what`` if it is not by the deadline."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.005)


def lock_waiters(database_url: str, count: int, event: str | None = None, alive=None) -> None:
    """Until ``count`` other sessions of the test database wait for a lock (pg_stat_activity:
    wait_event_type 'Lock'; ``event`` narrows it: 'tuple', 'transactionid', 'advisory', ...).
    ``alive``: threads that must not finish meanwhile (they were meant to block)."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            def waiting() -> bool:
                for thread in alive or ():
                    assert thread.is_alive(), f"{thread.name} finished instead of waiting for the lock"
                return conn.execute(text(WAITERS), {"event": event}).scalar() >= count
            until(waiting, f"{count} session(s) waiting for a {event or ''} lock")
    finally:
        engine.dispose()
