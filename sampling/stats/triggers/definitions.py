"""The SQL of the statistics triggers, for PostgreSQL and SQLite (used by migrations 0006/0007/0012).

Every counter is a sum of per-row *contributions* (e.g. a tube adds 1 to ``tubes`` and 1 to
``tubes_sealed`` while its status is 'sealed'). A trigger subtracts the OLD row's contribution and
adds the NEW row's, so inserts, deletes and any UPDATE keep the counters exact; ``rebuild-stats``
sums the very same expressions with GROUP BY. Decrements only UPDATE existing rows (a delete never
creates a counter row); increments upsert.

People: a resident counts once per round, at the site and hour of their first sample (lowest id),
recorded in ``stats_person``. After every change the person is *reconciled*: the counted sample is
compared with the current first sample and the people counters move accordingly; on PostgreSQL the
``stats_person`` row lock (or its unique key) serializes concurrent scans of the same resident.
"""

# (column, expression over a tubes row aliased {r}) — status part, maintained from migration 0006
TUBE_STATUS = [("tubes", "1")] + [
    (f"tubes_{s}", f"CASE WHEN {{r}}.status = '{s}' THEN 1 ELSE 0 END")
    for s in ("open", "sealed", "boxed", "received", "resulted")
]


def tube_result_parts(dialect: str, individuals: bool = True) -> list[tuple[str, str]]:
    """Contributions that need the lab's columns (result, resulted_at). Pools are tubes of more
    than one person; a 1-in-1 tube (单采, retests) is an individual result and counts in
    ``positive_individuals`` / ``invalid_individuals`` (migration 0012). ``individuals=False``:
    migration 0007's contributions, before that split (every tube counted as a pool)."""
    if dialect == "postgresql":
        seconds = "CAST(EXTRACT(EPOCH FROM ({r}.resulted_at - {r}.sealed_at)) AS BIGINT)"
    else:
        seconds = "CAST(ROUND((julianday({r}.resulted_at) - julianday({r}.sealed_at)) * 86400) AS INTEGER)"
    both = "{r}.resulted_at IS NOT NULL AND {r}.sealed_at IS NOT NULL"
    pool = " AND {r}.capacity > 1" if individuals else ""

    def when(result: str, then: str, extra: str = pool) -> str:
        return f"CASE WHEN {{r}}.result = '{result}'{extra} THEN {then} ELSE 0 END"

    parts = [
        ("pools_negative", when("negative", "1")),
        ("pools_positive", when("positive", "1")),
        ("pools_invalid", when("invalid", "1")),
        ("positive_members", when("positive", "{r}.sample_count")),
        ("invalid_members", when("invalid", "{r}.sample_count")),
        ("turnaround_count", f"CASE WHEN {both} THEN 1 ELSE 0 END"),
        ("turnaround_seconds", f"CASE WHEN {both} THEN {seconds} ELSE 0 END"),
    ]
    if individuals:
        parts += [("positive_individuals", when("positive", "{r}.sample_count", " AND {r}.capacity = 1")),
                  ("invalid_individuals", when("invalid", "{r}.sample_count", " AND {r}.capacity = 1"))]
    return parts


def tube_parts(dialect: str, revision: str = "0012") -> list[tuple[str, str]]:
    """Every contribution of a tubes row as of a migration: '0006' (status), '0007' (lab results,
    every tube a pool), '0012' (pools of more than one, 1-in-1 tubes as individuals: current)."""
    if revision == "0006":
        return list(TUBE_STATUS)
    return TUBE_STATUS + tube_result_parts(dialect, individuals=revision != "0007")


# the tubes columns whose change moves a tube's contributions (migration 0012); a scan's
# sample_count update fires the trigger only for a resulted tube
TUBE_WATCHED = ["status", "round_id", "site_id", "capacity", "result", "sealed_at", "resulted_at"]
TUBE_EXTRA = "(NEW.result IS NOT NULL AND OLD.sample_count <> NEW.sample_count)"


def hour_sql(dialect: str, column: str) -> str:
    """The UTC hour a timestamp falls in, as stored in the ``hour`` columns."""
    if dialect == "postgresql":
        return f"stats_hour({column})"
    return f"strftime('%Y-%m-%d %H:00:00.000000', {column})"


def _bool_int(dialect: str, expr: str) -> str:
    return f"CAST({expr} AS INTEGER)" if dialect == "postgresql" else expr


# --- tubes -------------------------------------------------------------------------------------

def _tube_change(parts, row: str, sign: str) -> str:
    sets = ", ".join(f"{c} = {c} {sign} ({e.format(r=row)})" for c, e in parts)
    return f"UPDATE stats_site SET {sets} WHERE round_id = {row}.round_id AND site_id = {row}.site_id;"


def _tube_add(parts, row: str, target: str) -> str:
    cols = ", ".join(c for c, _ in parts)
    vals = ", ".join(f"({e.format(r=row)})" for _, e in parts)
    sets = ", ".join(f"{c} = {target}.{c} + excluded.{c}" for c, _ in parts)
    return (f"INSERT INTO stats_site (round_id, site_id, {cols}) VALUES ({row}.round_id, {row}.site_id, {vals}) "
            f"ON CONFLICT (round_id, site_id) DO UPDATE SET {sets};")


def tube_triggers(dialect: str, parts, watched: list[str], extra: str | None = None) -> list[str]:
    """CREATE statements for the tubes triggers; a change of a ``watched`` column (or the ``extra``
    condition) fires the UPDATE trigger, so the scans' sample_count updates cost nothing."""
    changed = " OR ".join([f"OLD.{c} IS NOT NEW.{c}" if dialect == "sqlite" else
                           f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched] + ([extra] if extra else []))
    if dialect == "postgresql":
        body = (f"BEGIN IF TG_OP <> 'INSERT' THEN {_tube_change(parts, 'OLD', '-')} END IF; "
                f"IF TG_OP <> 'DELETE' THEN {_tube_add(parts, 'NEW', 'stats_site')} END IF; RETURN NULL; END")
        return [
            f"CREATE OR REPLACE FUNCTION stats_tubes_trg() RETURNS trigger LANGUAGE plpgsql AS $$ {body} $$",
            "CREATE TRIGGER stats_tubes AFTER INSERT OR DELETE ON tubes FOR EACH ROW "
            "EXECUTE FUNCTION stats_tubes_trg()",
            f"CREATE TRIGGER stats_tubes_upd AFTER UPDATE ON tubes FOR EACH ROW WHEN ({changed}) "
            "EXECUTE FUNCTION stats_tubes_trg()",
        ]
    return [
        f"CREATE TRIGGER stats_tubes_ins AFTER INSERT ON tubes BEGIN {_tube_add(parts, 'NEW', 'stats_site')} END",
        f"CREATE TRIGGER stats_tubes_del AFTER DELETE ON tubes BEGIN {_tube_change(parts, 'OLD', '-')} END",
        f"CREATE TRIGGER stats_tubes_upd AFTER UPDATE ON tubes WHEN {changed} BEGIN "
        f"{_tube_change(parts, 'OLD', '-')} {_tube_add(parts, 'NEW', 'stats_site')} END",
    ]


def drop_tube_triggers(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return ["DROP TRIGGER IF EXISTS stats_tubes ON tubes", "DROP TRIGGER IF EXISTS stats_tubes_upd ON tubes",
                "DROP FUNCTION IF EXISTS stats_tubes_trg()"]
    return [f"DROP TRIGGER IF EXISTS stats_tubes_{s}" for s in ("ins", "del", "upd")]


# --- samples -----------------------------------------------------------------------------------

def _sample_remove(d: str) -> str:
    h, sup = hour_sql(d, "OLD.sampled_at"), _bool_int(d, "OLD.supplementary")
    return (
        f"UPDATE stats_site_hour SET samples = samples - 1, supplementary = supplementary - {sup} "
        f"WHERE round_id = OLD.round_id AND site_id = OLD.site_id AND hour = {h}; "
        f"UPDATE stats_site SET samples = samples - 1, supplementary = supplementary - {sup} "
        "WHERE round_id = OLD.round_id AND site_id = OLD.site_id; "
        "UPDATE stats_sampler_hour SET samples = samples - 1 WHERE round_id = OLD.round_id "
        f"AND sampler_id = OLD.sampler_id AND site_id = OLD.site_id AND hour = {h};"
    )


def _sample_add(d: str) -> str:
    h, sup = hour_sql(d, "NEW.sampled_at"), _bool_int(d, "NEW.supplementary")
    return (
        "INSERT INTO stats_site_hour (round_id, site_id, hour, samples, supplementary) "
        f"VALUES (NEW.round_id, NEW.site_id, {h}, 1, {sup}) ON CONFLICT (round_id, site_id, hour) DO UPDATE "
        "SET samples = stats_site_hour.samples + 1, "
        "supplementary = stats_site_hour.supplementary + excluded.supplementary; "
        "INSERT INTO stats_site (round_id, site_id, samples, supplementary) "
        f"VALUES (NEW.round_id, NEW.site_id, 1, {sup}) "
        "ON CONFLICT (round_id, site_id) DO UPDATE SET samples = stats_site.samples + 1, "
        "supplementary = stats_site.supplementary + excluded.supplementary; "
        "INSERT INTO stats_sampler_hour (round_id, sampler_id, site_id, hour, samples) "
        f"SELECT NEW.round_id, NEW.sampler_id, NEW.site_id, {h}, 1 WHERE NEW.sampler_id IS NOT NULL "
        "ON CONFLICT (round_id, sampler_id, site_id, hour) DO UPDATE SET samples = stats_sampler_hour.samples + 1;"
    )


_PG_FUNCTIONS = [
    "CREATE OR REPLACE FUNCTION stats_hour(ts timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE "
    "PARALLEL SAFE AS $$ SELECT date_trunc('hour', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' $$",
    """CREATE OR REPLACE FUNCTION stats_people_add(p_round int, p_site int, p_hour timestamptz, p_delta int)
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF p_delta > 0 THEN
        INSERT INTO stats_site_hour (round_id, site_id, hour, people) VALUES (p_round, p_site, p_hour, p_delta)
          ON CONFLICT (round_id, site_id, hour) DO UPDATE SET people = stats_site_hour.people + excluded.people;
        INSERT INTO stats_site (round_id, site_id, people) VALUES (p_round, p_site, p_delta)
          ON CONFLICT (round_id, site_id) DO UPDATE SET people = stats_site.people + excluded.people;
      ELSE
        UPDATE stats_site_hour SET people = people + p_delta
          WHERE round_id = p_round AND site_id = p_site AND hour = p_hour;
        UPDATE stats_site SET people = people + p_delta WHERE round_id = p_round AND site_id = p_site;
      END IF;
    END $$""",
    """CREATE OR REPLACE FUNCTION stats_reconcile_person(p_round int, p_resident bigint, p_may_create boolean)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE cur record; want record;
    BEGIN
      LOOP
        SELECT * INTO cur FROM stats_person WHERE round_id = p_round AND resident_id = p_resident FOR UPDATE;
        EXIT WHEN FOUND;
        IF NOT p_may_create THEN RETURN; END IF;
        SELECT id, site_id, stats_hour(sampled_at) AS hour INTO want FROM samples
          WHERE round_id = p_round AND resident_id = p_resident ORDER BY id LIMIT 1;
        IF NOT FOUND THEN RETURN; END IF;
        INSERT INTO stats_person (round_id, resident_id, sample_id, site_id, hour)
          VALUES (p_round, p_resident, want.id, want.site_id, want.hour) ON CONFLICT DO NOTHING;
        IF FOUND THEN
          PERFORM stats_people_add(p_round, want.site_id, want.hour, 1);
          RETURN;
        END IF;
        -- another transaction counted this person meanwhile: lock its row and reconcile
      END LOOP;
      SELECT id, site_id, stats_hour(sampled_at) AS hour INTO want FROM samples
        WHERE round_id = p_round AND resident_id = p_resident ORDER BY id LIMIT 1;
      IF NOT FOUND THEN
        DELETE FROM stats_person WHERE round_id = p_round AND resident_id = p_resident;
        PERFORM stats_people_add(p_round, cur.site_id, cur.hour, -1);
      ELSIF want.id <> cur.sample_id OR want.site_id <> cur.site_id OR want.hour <> cur.hour THEN
        UPDATE stats_person SET sample_id = want.id, site_id = want.site_id, hour = want.hour
          WHERE round_id = p_round AND resident_id = p_resident;
        PERFORM stats_people_add(p_round, cur.site_id, cur.hour, -1);
        PERFORM stats_people_add(p_round, want.site_id, want.hour, 1);
      END IF;
    END $$""",
]

_SAMPLE_COLUMNS = ("round_id", "resident_id", "site_id", "sampler_id", "supplementary", "sampled_at")


def _sqlite_reconcile(key: str, may_create: bool) -> str:
    """Move the person's count from the stored first sample to the current first sample."""
    where = f"round_id = {key}.round_id AND resident_id = {key}.resident_id"
    person = f"SELECT round_id, site_id, hour FROM stats_person WHERE {where}"
    first = (f"SELECT id, site_id, {hour_sql('sqlite', 'sampled_at')} FROM samples WHERE {where} "
             "ORDER BY id LIMIT 1")
    people = (f"UPDATE stats_site_hour SET people = people {{s}} 1 WHERE (round_id, site_id, hour) IN ({person}); "
              f"UPDATE stats_site SET people = people {{s}} 1 WHERE (round_id, site_id) IN "
              f"(SELECT round_id, site_id FROM stats_person WHERE {where});")
    if may_create:
        store = (f"INSERT OR REPLACE INTO stats_person (round_id, resident_id, sample_id, site_id, hour) "
                 f"SELECT round_id, resident_id, id, site_id, {hour_sql('sqlite', 'sampled_at')} FROM samples "
                 f"WHERE {where} ORDER BY id LIMIT 1;")
    else:
        store = (f"UPDATE stats_person SET (sample_id, site_id, hour) = ({first}) WHERE {where} "
                 f"AND EXISTS (SELECT 1 FROM samples WHERE {where}); "
                 f"DELETE FROM stats_person WHERE {where} AND NOT EXISTS (SELECT 1 FROM samples WHERE {where});")
    return f"{people.format(s='-')} {store} {people.format(s='+')}"


def sample_triggers(dialect: str) -> list[str]:
    """CREATE statements for the samples triggers."""
    if dialect == "postgresql":
        changed = "(" + ", ".join(f"OLD.{c}" for c in _SAMPLE_COLUMNS) + ") IS DISTINCT FROM (" + \
            ", ".join(f"NEW.{c}" for c in _SAMPLE_COLUMNS) + ")"
        body = (
            # the person's lock first, then site counters: two phones scanning one resident queue
            # on the person and never hold site rows in opposite orders
            "BEGIN IF TG_OP = 'INSERT' THEN PERFORM stats_reconcile_person(NEW.round_id, NEW.resident_id, true); "
            "ELSE PERFORM stats_reconcile_person(OLD.round_id, OLD.resident_id, false); END IF; "
            "IF TG_OP = 'UPDATE' THEN PERFORM stats_reconcile_person(NEW.round_id, NEW.resident_id, true); END IF; "
            f"IF TG_OP <> 'INSERT' THEN {_sample_remove(dialect)} END IF; "
            f"IF TG_OP <> 'DELETE' THEN {_sample_add(dialect)} END IF; "
            "RETURN NULL; END"
        )
        return _PG_FUNCTIONS + [
            f"CREATE OR REPLACE FUNCTION stats_samples_trg() RETURNS trigger LANGUAGE plpgsql AS $$ {body} $$",
            "CREATE TRIGGER stats_samples AFTER INSERT OR DELETE ON samples FOR EACH ROW "
            "EXECUTE FUNCTION stats_samples_trg()",
            f"CREATE TRIGGER stats_samples_upd AFTER UPDATE ON samples FOR EACH ROW WHEN ({changed}) "
            "EXECUTE FUNCTION stats_samples_trg()",
        ]
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _SAMPLE_COLUMNS)
    return [
        f"CREATE TRIGGER stats_samples_ins AFTER INSERT ON samples BEGIN {_sample_add(dialect)} "
        f"{_sqlite_reconcile('NEW', True)} END",
        f"CREATE TRIGGER stats_samples_del AFTER DELETE ON samples BEGIN {_sample_remove(dialect)} "
        f"{_sqlite_reconcile('OLD', False)} END",
        f"CREATE TRIGGER stats_samples_upd AFTER UPDATE ON samples WHEN {changed} BEGIN {_sample_remove(dialect)} "
        f"{_sample_add(dialect)} {_sqlite_reconcile('OLD', False)} {_sqlite_reconcile('NEW', True)} END",
    ]


# --- residents ---------------------------------------------------------------------------------

_RES_ADD = ("INSERT INTO stats_community (community_id, registered) SELECT NEW.community_id, 1 "
            "WHERE NEW.community_id IS NOT NULL ON CONFLICT (community_id) "
            "DO UPDATE SET registered = stats_community.registered + 1;")
_RES_REMOVE = "UPDATE stats_community SET registered = registered - 1 WHERE community_id = OLD.community_id;"


def resident_triggers(dialect: str) -> list[str]:
    """CREATE statements for the residents triggers (registered residents per community)."""
    if dialect == "postgresql":
        body = (f"BEGIN IF TG_OP <> 'INSERT' THEN {_RES_REMOVE} END IF; "
                f"IF TG_OP <> 'DELETE' THEN {_RES_ADD} END IF; RETURN NULL; END")
        return [
            f"CREATE OR REPLACE FUNCTION stats_residents_trg() RETURNS trigger LANGUAGE plpgsql AS $$ {body} $$",
            "CREATE TRIGGER stats_residents AFTER INSERT OR DELETE ON residents FOR EACH ROW "
            "EXECUTE FUNCTION stats_residents_trg()",
            "CREATE TRIGGER stats_residents_upd AFTER UPDATE ON residents FOR EACH ROW "
            "WHEN (OLD.community_id IS DISTINCT FROM NEW.community_id) EXECUTE FUNCTION stats_residents_trg()",
        ]
    return [
        f"CREATE TRIGGER stats_residents_ins AFTER INSERT ON residents BEGIN {_RES_ADD} END",
        f"CREATE TRIGGER stats_residents_del AFTER DELETE ON residents BEGIN {_RES_REMOVE} END",
        "CREATE TRIGGER stats_residents_upd AFTER UPDATE ON residents WHEN OLD.community_id IS NOT NEW.community_id "
        f"BEGIN {_RES_REMOVE} {_RES_ADD} END",
    ]


def drop_all(dialect: str) -> list[str]:
    """DROP statements for every statistics trigger and function."""
    if dialect == "postgresql":
        return drop_tube_triggers(dialect) + [
            "DROP TRIGGER IF EXISTS stats_samples ON samples", "DROP TRIGGER IF EXISTS stats_samples_upd ON samples",
            "DROP TRIGGER IF EXISTS stats_residents ON residents",
            "DROP TRIGGER IF EXISTS stats_residents_upd ON residents",
            "DROP FUNCTION IF EXISTS stats_samples_trg()", "DROP FUNCTION IF EXISTS stats_residents_trg()",
            "DROP FUNCTION IF EXISTS stats_reconcile_person(int, bigint, boolean)",
            "DROP FUNCTION IF EXISTS stats_people_add(int, int, timestamptz, int)",
            "DROP FUNCTION IF EXISTS stats_hour(timestamptz)",
        ]
    return drop_tube_triggers(dialect) + [f"DROP TRIGGER IF EXISTS stats_{t}_{s}" for t in ("samples", "residents")
                                          for s in ("ins", "del", "upd")]
