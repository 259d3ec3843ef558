"""PostgreSQL: the samples triggers as of migration 0009: one set-based pass per INSERT statement,
and every statistics trigger taking the site's counter row first.

The row trigger of :mod:`sampling.stats.triggers.definitions` ran about eight statements per inserted sample;
a sync batch inserts a hundred samples in one statement, so an INSERT's counters are kept here with
a transition table instead: the people first counted by the statement are inserted into
``stats_person`` in key order (their unique key queues two batches holding the same resident), the
rare samples of people counted already (resamples, or another phone's scan of the same person) are
reconciled one by one with the row trigger's own function, and every counter row of the statement
is upserted once, in key order. A statement of one row (a single scan) takes a plain path, cheaper
for one row. DELETE and UPDATE (undo, corrections) keep the row trigger.

Lock order: every writer of the counters takes the ``stats_site`` row of its (round, site) first,
as the tubes trigger does when a scan seals its tube, then persons, then the hourly rows. Scans,
undos and batches at one site therefore queue on that row instead of deadlocking on each other's
person and hour rows. The contributions are the row trigger's, so ``rebuild-stats`` still
recomputes exactly these counters.
"""
from sampling.stats.triggers import definitions as st

_SITE_FIRST = """
  IF TG_OP = 'DELETE' THEN
    PERFORM 1 FROM stats_site WHERE round_id = OLD.round_id AND site_id = OLD.site_id FOR UPDATE;
  ELSE
    PERFORM 1 FROM stats_site WHERE (round_id = OLD.round_id AND site_id = OLD.site_id)
       OR (round_id = NEW.round_id AND site_id = NEW.site_id) ORDER BY round_id, site_id FOR UPDATE;
  END IF;
"""

_INSERT_BODY = """
DECLARE
  p_rounds int[]; p_residents bigint[]; p_sites int[]; p_hours timestamptz[];
  person record; one record; n int;
BEGIN
  SELECT count(*) INTO n FROM (SELECT 1 FROM new_rows LIMIT 2) c;
  IF n = 0 THEN RETURN NULL; END IF;
  IF n = 1 THEN
    SELECT * INTO one FROM new_rows;
    INSERT INTO stats_site AS t (round_id, site_id, samples, supplementary)
      VALUES (one.round_id, one.site_id, 1, CAST(one.supplementary AS INTEGER))
      ON CONFLICT (round_id, site_id) DO UPDATE SET samples = t.samples + 1,
         supplementary = t.supplementary + excluded.supplementary;
    PERFORM stats_reconcile_person(one.round_id, one.resident_id, true);
    INSERT INTO stats_site_hour AS t (round_id, site_id, hour, samples, supplementary)
      VALUES (one.round_id, one.site_id, stats_hour(one.sampled_at), 1, CAST(one.supplementary AS INTEGER))
      ON CONFLICT (round_id, site_id, hour) DO UPDATE SET samples = t.samples + 1,
         supplementary = t.supplementary + excluded.supplementary;
    IF one.sampler_id IS NOT NULL THEN
      INSERT INTO stats_sampler_hour AS t (round_id, sampler_id, site_id, hour, samples)
        VALUES (one.round_id, one.sampler_id, one.site_id, stats_hour(one.sampled_at), 1)
        ON CONFLICT (round_id, sampler_id, site_id, hour) DO UPDATE SET samples = t.samples + 1;
    END IF;
    RETURN NULL;
  END IF;

  INSERT INTO stats_site AS t (round_id, site_id, samples, supplementary)
  SELECT round_id, site_id, count(*), sum(CAST(supplementary AS INTEGER)) FROM new_rows
   GROUP BY round_id, site_id ORDER BY round_id, site_id
  ON CONFLICT (round_id, site_id) DO UPDATE SET samples = t.samples + excluded.samples,
     supplementary = t.supplementary + excluded.supplementary;

  WITH counted AS (
    INSERT INTO stats_person (round_id, resident_id, sample_id, site_id, hour)
    SELECT DISTINCT ON (round_id, resident_id) round_id, resident_id, id, site_id, stats_hour(sampled_at)
      FROM new_rows ORDER BY round_id, resident_id, id
    ON CONFLICT DO NOTHING
    RETURNING round_id, resident_id, site_id, hour)
  SELECT array_agg(round_id), array_agg(resident_id), array_agg(site_id), array_agg(hour)
    INTO p_rounds, p_residents, p_sites, p_hours FROM counted;

  FOR person IN
    SELECT DISTINCT n.round_id, n.resident_id FROM new_rows n
     WHERE NOT EXISTS (SELECT 1 FROM unnest(p_rounds, p_residents) AS c(round_id, resident_id)
                        WHERE c.round_id = n.round_id AND c.resident_id = n.resident_id)
     ORDER BY 1, 2
  LOOP
    PERFORM stats_reconcile_person(person.round_id, person.resident_id, true);
  END LOOP;

  INSERT INTO stats_site_hour AS t (round_id, site_id, hour, samples, supplementary, people)
  SELECT round_id, site_id, hour, sum(samples), sum(supplementary), sum(people) FROM (
      SELECT round_id, site_id, stats_hour(sampled_at) AS hour, 1 AS samples,
             CAST(supplementary AS INTEGER) AS supplementary, 0 AS people FROM new_rows
      UNION ALL
      SELECT r, s, h, 0, 0, 1 FROM unnest(p_rounds, p_sites, p_hours) AS p(r, s, h)) c
   GROUP BY round_id, site_id, hour ORDER BY round_id, site_id, hour
  ON CONFLICT (round_id, site_id, hour) DO UPDATE SET samples = t.samples + excluded.samples,
     supplementary = t.supplementary + excluded.supplementary, people = t.people + excluded.people;

  UPDATE stats_site AS t SET people = t.people + c.n
    FROM (SELECT r, s, count(*) AS n FROM unnest(p_rounds, p_sites) AS p(r, s) GROUP BY r, s) c
   WHERE t.round_id = c.r AND t.site_id = c.s;

  INSERT INTO stats_sampler_hour AS t (round_id, sampler_id, site_id, hour, samples)
  SELECT round_id, sampler_id, site_id, stats_hour(sampled_at), count(*) FROM new_rows
   WHERE sampler_id IS NOT NULL
   GROUP BY round_id, sampler_id, site_id, stats_hour(sampled_at) ORDER BY 1, 2, 3, 4
  ON CONFLICT (round_id, sampler_id, site_id, hour) DO UPDATE SET samples = t.samples + excluded.samples;
  RETURN NULL;
END
"""


def _row_function(site_first: bool) -> str:
    """The row trigger's function (0006's, or with the site row locked first)."""
    create = next(s for s in st.sample_triggers("postgresql") if "FUNCTION stats_samples_trg()" in s)
    return create.replace("$$ BEGIN ", f"$$ BEGIN {_SITE_FIRST} ", 1) if site_first else create


def install() -> list[str]:
    """Statements that move the samples INSERT trigger from per row to per statement, and make the
    row trigger (DELETE, UPDATE) take the site's counter row first."""
    return [
        _row_function(site_first=True),
        f"CREATE OR REPLACE FUNCTION stats_samples_ins_trg() RETURNS trigger LANGUAGE plpgsql "
        f"AS $${_INSERT_BODY}$$",
        "DROP TRIGGER IF EXISTS stats_samples ON samples",
        "CREATE TRIGGER stats_samples AFTER DELETE ON samples FOR EACH ROW EXECUTE FUNCTION stats_samples_trg()",
        "CREATE TRIGGER stats_samples_ins AFTER INSERT ON samples REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION stats_samples_ins_trg()",
    ]


def uninstall() -> list[str]:
    """Statements that put migration 0006's samples triggers back (migration 0009's downgrade)."""
    return [
        "DROP TRIGGER IF EXISTS stats_samples_ins ON samples",
        "DROP TRIGGER IF EXISTS stats_samples ON samples",
        _row_function(site_first=False),
        "CREATE TRIGGER stats_samples AFTER INSERT OR DELETE ON samples FOR EACH ROW "
        "EXECUTE FUNCTION stats_samples_trg()",
        "DROP FUNCTION IF EXISTS stats_samples_ins_trg()",
    ]
