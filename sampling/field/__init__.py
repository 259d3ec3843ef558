"""The field: rounds, tubes, samples, admission rules, exactly-once, sync, backfill."""
