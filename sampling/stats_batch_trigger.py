"""PostgreSQL: the samples INSERT trigger as one set-based pass per statement (migration 0008).

The row trigger of :mod:`sampling.stats_triggers` runs about eight statements per inserted sample;
a sync batch inserts a hundred samples in one statement, so the counters of that statement are
kept here with a transition table instead: the people first counted by the statement are inserted
into ``stats_person`` in key order (their unique key queues two batches holding the same resident),
the rare samples of people counted already (resamples, or another phone's scan of the same person)
are reconciled one by one with the row trigger's own function, and then every counter row of the
statement is upserted once, in key order. DELETE and UPDATE keep the row trigger: they are single
rows (undo, corrections). The contributions are the row trigger's, so ``rebuild-stats`` still
recomputes exactly these counters.
"""

from sampling.stats_triggers import sample_add_sql

# A statement of one row (a single scan) takes the row trigger's path: its plan is cheaper than
# the set-based one's for one row.
_BODY = """
DECLARE
  p_rounds int[]; p_residents bigint[]; p_sites int[]; p_hours timestamptz[];
  person record; one record; n int;
BEGIN
  SELECT count(*) INTO n FROM (SELECT 1 FROM new_rows LIMIT 2) c;
  IF n = 0 THEN RETURN NULL; END IF;
  IF n = 1 THEN
    SELECT * INTO one FROM new_rows;
    PERFORM stats_reconcile_person(one.round_id, one.resident_id, true);
    """ + sample_add_sql("postgresql", "one") + """
    RETURN NULL;
  END IF;
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

  INSERT INTO stats_site AS t (round_id, site_id, samples, supplementary, people)
  SELECT round_id, site_id, sum(samples), sum(supplementary), sum(people) FROM (
      SELECT round_id, site_id, 1 AS samples, CAST(supplementary AS INTEGER) AS supplementary, 0 AS people
        FROM new_rows
      UNION ALL
      SELECT r, s, 0, 0, 1 FROM unnest(p_rounds, p_sites) AS p(r, s)) c
   GROUP BY round_id, site_id ORDER BY round_id, site_id
  ON CONFLICT (round_id, site_id) DO UPDATE SET samples = t.samples + excluded.samples,
     supplementary = t.supplementary + excluded.supplementary, people = t.people + excluded.people;

  INSERT INTO stats_sampler_hour AS t (round_id, sampler_id, site_id, hour, samples)
  SELECT round_id, sampler_id, site_id, stats_hour(sampled_at), count(*) FROM new_rows
   WHERE sampler_id IS NOT NULL
   GROUP BY round_id, sampler_id, site_id, stats_hour(sampled_at) ORDER BY 1, 2, 3, 4
  ON CONFLICT (round_id, sampler_id, site_id, hour) DO UPDATE SET samples = t.samples + excluded.samples;
  RETURN NULL;
END
"""


def install() -> list[str]:
    """Statements that move the samples INSERT trigger from per row to per statement."""
    return [
        f"CREATE OR REPLACE FUNCTION stats_samples_ins_trg() RETURNS trigger LANGUAGE plpgsql AS $${_BODY}$$",
        "DROP TRIGGER IF EXISTS stats_samples ON samples",
        "CREATE TRIGGER stats_samples AFTER DELETE ON samples FOR EACH ROW EXECUTE FUNCTION stats_samples_trg()",
        "CREATE TRIGGER stats_samples_ins AFTER INSERT ON samples REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION stats_samples_ins_trg()",
    ]


def uninstall() -> list[str]:
    """Statements that put the per-row INSERT trigger back (migration 0008's downgrade)."""
    return [
        "DROP TRIGGER IF EXISTS stats_samples_ins ON samples",
        "DROP TRIGGER IF EXISTS stats_samples ON samples",
        "CREATE TRIGGER stats_samples AFTER INSERT OR DELETE ON samples FOR EACH ROW "
        "EXECUTE FUNCTION stats_samples_trg()",
        "DROP FUNCTION IF EXISTS stats_samples_ins_trg()",
    ]
