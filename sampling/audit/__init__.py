"""The audit trail (审计日志): every view, download and reveal of personal data, and every change of a
resident, a user or a result, on record (who, when, from where, what, in which region, how many
people). Use cases call :func:`record`; the trail is append-only (``guard``); ``query`` lists and
exports it within the caller's scope.

The layer: right above the models, below every other domain package (kernel.users records account
changes), so it imports only models, extensions and errors; the edges and every use case may call it."""
from sampling.audit.trail import bind_client, record, recorded_rows

__all__ = ["bind_client", "record", "recorded_rows"]
