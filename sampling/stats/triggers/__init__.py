"""The statistics triggers: their definitions, the statement-level trigger, rebuilds."""
