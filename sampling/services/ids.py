"""Record ids as callers send them (in a path, a query string, a form field or a JSON body),
checked against what the columns can hold, so an id that cannot exist is answered like any
unknown id (404 or the caller's field error) — never a database error."""
import re

MAX_ID = INTEGER_MAX = 2**31 - 1  # Integer primary keys (rounds, sites, users ...) on PostgreSQL
BIGINT_MAX = 2**63 - 1  # BigInteger primary keys (residents, tubes, samples ...)
_DIGITS = re.compile(r"[0-9]{1,19}")


def positive_id(value) -> int | None:
    """``value`` as an id (an int, or a string of plain ASCII digits) in 1..2**31-1, else None.
    Full-width or superscript digits ("１", "²"), signs, spaces, floats and booleans are not ids,
    and neither is a number no row can have, so callers answer "unknown" (404) instead of letting
    the database refuse the value."""
    if isinstance(value, str):
        digits = value.lstrip("0")
        if not (value.isascii() and value.isdigit()) or len(digits) > len(str(MAX_ID)):
            return None
        value = int(digits or "0")
    return db_id(value)


def db_id(raw, *, big: bool = False, text: bool = False) -> int | None:
    """``raw`` as an id the column can hold (1 .. 2**31-1, or 2**63-1 with ``big``), else None.
    With ``text``, a string of ASCII digits (a form field) is read as a number too."""
    if text and isinstance(raw, str) and _DIGITS.fullmatch(raw.strip()):
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int):
        return None
    return raw if 1 <= raw <= (BIGINT_MAX if big else INTEGER_MAX) else None
