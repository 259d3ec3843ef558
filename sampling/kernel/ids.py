"""Record ids as callers send them (in a path, a query string, a form field or a JSON body),
checked against what the columns can hold, so an id that cannot exist is answered like any
unknown id (404 or the caller's field error) — never a database error."""

INTEGER_MAX = 2**31 - 1  # Integer primary keys (rounds, sites, users, rosters ...) on PostgreSQL
BIGINT_MAX = 2**63 - 1  # BigInteger primary keys (residents, tubes, samples ...)


def db_id(raw, *, big: bool = False, text: bool = False) -> int | None:
    """``raw`` as an id the column can hold (1 .. 2**31-1, or 2**63-1 with ``big``), else None.
    With ``text``, a string of plain ASCII digits (a path, a query string, a form field) is read as
    a number too; full-width or superscript digits ("１", "²"), signs and spaces are not ids.
    Booleans and floats never are."""
    if text and isinstance(raw, str):
        digits = raw.lstrip("0")
        if not (raw.isascii() and raw.isdigit()) or len(digits) > len(str(BIGINT_MAX)):
            return None
        raw = int(digits or "0")
    if isinstance(raw, bool) or not isinstance(raw, int):
        return None
    return raw if 1 <= raw <= (BIGINT_MAX if big else INTEGER_MAX) else None
