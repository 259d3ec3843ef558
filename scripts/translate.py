"""Fill Simplified Chinese translations into the catalog from a JSON object {msgid: msgstr},
and list what is still untranslated.

    scripts/translations update                       # re-extract strings first
    .venv/bin/python scripts/translate.py new.json    # fill, print what is missing
    .venv/bin/python scripts/translate.py             # only print what is missing
"""
import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "sampling/translations/zh/LC_MESSAGES/messages.po"


def main(argv: list[str]) -> int:
    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh")
    for path in argv:
        for msgid, msgstr in json.loads(Path(path).read_text(encoding="utf-8")).items():
            message = catalog.get(msgid)
            if message is not None:
                message.string = msgstr
                message.flags.discard("fuzzy")
    catalog.fuzzy = False
    with PO.open("wb") as f:
        write_po(f, catalog, no_location=True, sort_output=True, width=0)
    missing = [m.id for m in catalog if m.id and (not m.string or "fuzzy" in m.flags)]
    for msgid in missing:
        print(json.dumps(msgid, ensure_ascii=False))
    print(f"{len(missing)} untranslated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
