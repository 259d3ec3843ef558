"""Record ids as callers send them: in a path, a query string or a JSON body."""

MAX_ID = 2**31 - 1  # the largest id an INTEGER primary key holds on PostgreSQL


def positive_id(value) -> int | None:
    """``value`` as an id (an int, or a string of plain ASCII digits) in 1..2**31-1, else None.
    Full-width or superscript digits ("１", "²"), signs, spaces, floats and booleans are not ids,
    and neither is a number no row can have, so callers answer "unknown" (404) instead of letting
    the database refuse the value."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        digits = value.lstrip("0")
        if not (value.isascii() and value.isdigit()) or len(digits) > len(str(MAX_ID)):
            return None
        value = int(digits or "0")
    if not isinstance(value, int):
        return None
    return value if 1 <= value <= MAX_ID else None
