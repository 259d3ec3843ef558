"""Figures other features plug into the statistics (wired by the lead at merge):

- roster provider (data collision): ``fn(round_id) -> {region_code: (roster_total, tested)}``,
  the latest whole-round collision of a roster uploaded for each region (community, street or
  district); completion decides which of them an area shows (its own, else the sum of the areas
  below it). It gives the ``roster_total``, ``roster_tested`` and ``completion`` columns.
- follow-up provider (lab, positive/invalid pools):
  ``fn(round_id) -> {site_code: (positive, positive_closed, invalid, invalid_closed)}``: members of
  positive pools to retest alone and how many have an individual result; people of invalid tubes
  to resample and how many have an individual result. It gives ``followup_positive_total``,
  ``followup_positive_closed``, ``followup_invalid_total``, ``followup_invalid_closed`` (0 where
  nothing is to follow up) and their sums ``followup_total`` / ``followup_closed``.

Until a provider is registered those columns are null. Providers must answer with bounded,
indexed queries (they run on every dashboard refresh)."""
from collections.abc import Callable

Provider = Callable[[int], dict[str, tuple[int, ...]]]
_providers: dict[str, Provider | None] = {"roster": None, "followup": None}


def set_roster_provider(provider: Provider | None) -> None:
    """Register (or with None remove) the per-region roster collision figures."""
    _providers["roster"] = provider


def set_followup_provider(provider: Provider | None) -> None:
    """Register (or with None remove) the per-site pool follow-up figures."""
    _providers["followup"] = provider


def roster_provider() -> Provider | None:
    return _providers["roster"]


def followup_provider() -> Provider | None:
    return _providers["followup"]
