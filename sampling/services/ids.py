"""Ids that callers send (JSON numbers, form fields, URL parts) checked against what the columns
can hold, so an id that cannot exist is answered like any unknown id — never a database error."""
import re

INTEGER_MAX = 2**31 - 1  # Integer primary keys (rounds, sites, users ...)
BIGINT_MAX = 2**63 - 1  # BigInteger primary keys (residents, tubes, samples ...)
_DIGITS = re.compile(r"[0-9]{1,19}")


def db_id(raw, *, big: bool = False, text: bool = False) -> int | None:
    """``raw`` as an id the column can hold (1 .. 2**31-1, or 2**63-1 with ``big``), else None.
    With ``text``, a string of ASCII digits (a form field) is read as a number too."""
    if text and isinstance(raw, str) and _DIGITS.fullmatch(raw.strip()):
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int):
        return None
    return raw if 1 <= raw <= (BIGINT_MAX if big else INTEGER_MAX) else None
