"""The characters of text that people type, paste or send, in one place: what no database can
store (refused at the door, sampling.input_guard), what text bound for a column must not hold
(checked before it is written, so a bad value is a file row's clear error and not the database's
refusal halfway through a file), and the cleaning of free text residents type."""
import re
import unicodedata

# NUL and broken (lone surrogate) characters: PostgreSQL cannot store NUL, no encoding a surrogate
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# control characters (NUL, tab, line breaks, ...) and broken characters: nothing a name or a code carries
_UNFIT = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
# for cleaning: C0 and C1 control characters, DEL and lone surrogates dropped; line breaks and tabs
# first become spaces
_CONTROL_SPACES = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(raw) -> str:
    """Text people type or paste (names, addresses, codes): control characters dropped (tabs
    and line breaks become spaces; such characters break spreadsheets and displays), NFKC,
    trimmed. Not for scanned barcodes, whose control characters may mean something."""
    if not isinstance(raw, str):
        return ""
    return _CONTROLS.sub("", unicodedata.normalize("NFKC", _CONTROL_SPACES.sub(" ", raw))).strip()


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
