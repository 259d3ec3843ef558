"""Where in a building a resident lives, read from the address they registered, for door knocking:
the building (N号楼 / N栋 / N幢), the unit (N单元) and the room (N室, or N号 after the building or
unit, so that a street number such as 南京路100号 is not taken for a room). A part the usual patterns
do not give is None ("（未识别）" on the lists).

The same rules run in Python (here, and as the SQLite function ``address_part``) and in PostgreSQL
(the SQL function of the same name, created by a migration from :data:`POSTGRES_FUNCTION`), so
that lists are sorted and grouped by building in the database; tests hold the two to one table of
addresses."""
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func

UNRECOGNISED = _l("(not recognised)")
PARTS = ("building", "unit", "room")

# digits only (ASCII, after full-width digits are folded); spaces are dropped before matching
_PATTERNS = {
    "building": (r"([0-9]+)(?:号楼|栋|幢)",),
    "unit": (r"([0-9]+)单元",),
    "room": (r"([0-9]+)室", r"(?:号楼|栋|幢|单元)[^0-9]*?([0-9]+)号(?!楼)"),
}
_COMPILED = {part: tuple(re.compile(p) for p in patterns) for part, patterns in _PATTERNS.items()}
_FOLD = str.maketrans("０１２３４５６７８９", "0123456789", " \u3000")


def part(address: str | None, name: str) -> str | None:
    """One part (``building``, ``unit`` or ``room``) of an address, or None."""
    if not address or name not in _COMPILED:
        return None
    text = address.translate(_FOLD)
    for pattern in _COMPILED[name]:
        found = pattern.search(text)
        if found:
            return found.group(1)
    return None


def parse(address: str | None) -> tuple[str | None, str | None, str | None]:
    """(building, unit, room) of an address; None for each part not recognised."""
    return part(address, "building"), part(address, "unit"), part(address, "room")


def shown(value: str | None) -> str:
    """A part as lists show it."""
    return value if value else str(UNRECOGNISED)


def sql_part(column, name: str):
    """The part of an address column, computed by the database (SQLite and PostgreSQL alike)."""
    return func.address_part(column, name)


def register_sqlite_function(dbapi_connection) -> None:
    """Make ``address_part(address, part)`` available on an SQLite connection."""
    dbapi_connection.create_function("address_part", 2, part, deterministic=True)


def _pg_substring(pattern: str) -> str:
    return f"substring(a FROM '{pattern}')"


POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION address_part(address text, part text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE part
    WHEN 'building' THEN {_pg_substring(_PATTERNS["building"][0])}
    WHEN 'unit' THEN {_pg_substring(_PATTERNS["unit"][0])}
    WHEN 'room' THEN coalesce({_pg_substring(_PATTERNS["room"][0])}, {_pg_substring(_PATTERNS["room"][1])})
  END
  FROM (SELECT replace(replace(translate(address, '０１２３４５６７８９', '0123456789'), ' ', ''),
                       chr(12288), '') AS a) AS folded
$$"""
DROP_POSTGRES_FUNCTION = "DROP FUNCTION IF EXISTS address_part(text, text)"
