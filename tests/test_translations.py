"""Every user-visible string in the code and templates has a Simplified Chinese translation."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "sampling" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def test_every_extracted_string_is_translated_to_chinese(tmp_path):
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "lazy_gettext", "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with PO.open("rb") as f:
        catalog = {m.id: m for m in read_po(f, locale="zh") if m.id}
    missing = sorted(str(i) for i in wanted if i not in catalog or not catalog[i].string
                     or "fuzzy" in catalog[i].flags)
    assert not missing, "untranslated (run scripts/translations update, then translate): " + "; ".join(missing)
