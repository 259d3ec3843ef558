"""Statistics: aggregates kept by triggers, overview, downloads, completion, providers."""
