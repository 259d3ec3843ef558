"""Text bound for a column, from a file row or the command line: checked before it is written, so
a bad value is the row's clear error and not the database's refusal halfway through a file."""
import re

# control characters (NUL, tab, line breaks, ...) and broken (lone surrogate) characters: nothing a
# name or a code carries, and PostgreSQL cannot store NUL at all
_UNFIT = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def clean(value: str) -> bool:
    """True when ``value`` holds no control and no broken character."""
    return _UNFIT.search(value) is None


def fits(value: str, column) -> bool:
    """True when ``value`` is 1 to the String length of ``column`` (a model attribute such as
    ``Region.name``) characters long and :func:`clean`."""
    return 0 < len(value) <= column.type.length and clean(value)


def shown(value: str, limit: int = 40) -> str:
    """``value`` as an error message may quote it: control characters escaped, long values cut."""
    text = _UNFIT.sub(lambda m: repr(m.group())[1:-1], value)
    return text if len(text) <= limit else text[:limit] + "…"
