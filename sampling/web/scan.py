"""The scanning page for sampling staff (/scan/) and its service worker (/scan/sw.js).

The page is a shell that works offline: the worker precaches it with its scripts, styles and
the vendored decoder; every action goes through an on-device outbox sent to POST /api/v1/sync.
"""
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from sampling.models import IdType
from sampling.residents.identity import ID_TYPE_LABELS
from sampling.web import bp
from sampling.web.guards import role_required

SCAN_ROLES = ("sampler", "admin", "coordinator")  # as the tubes API; the menu shows it to samplers and admins
DECODER_DIR = "vendor/zxing-wasm-3.1.4"
# Static files the page needs offline (paths under static/).
ASSETS = ("css/app.css", "scan/scan.css", "scan/app.js", "scan/codes.js", "scan/store.js",
          "scan/outbox.js", "scan/field.js", "scan/camera.js", "scan/feedback.js", "scan/view.js",
          "scan/guards.js", "scan/net.js",
          f"{DECODER_DIR}/zxing-reader.iife.js", f"{DECODER_DIR}/zxing_reader.wasm")


@lru_cache(maxsize=4)
def _assets_version(static_folder: str, worker_mtime: float) -> str:
    """A digest of every precached file and the worker: a deploy changes the worker's bytes,
    so browsers install the new version and drop the old cache."""
    digest = hashlib.sha256()
    for name in (*ASSETS, "scan/sw.js"):
        digest.update((Path(static_folder) / name).read_bytes())
    return digest.hexdigest()[:16]


def assets_version() -> str:
    folder = current_app.static_folder
    return _assets_version(folder, (Path(folder) / "scan/sw.js").stat().st_mtime)


def client_messages() -> dict:
    """Every message the page's scripts show, translated for the current language."""
    return {
        "online": _("Online"), "offline": _("Offline"),
        "pending": _("%(n)s waiting to send"), "all_sent": _("All sent"),
        "scan_tube": _("Scan or type the tube barcode"),
        "scan_residents": _("Scan residents' codes"),
        "tube_full": _("Tube %(code)s is full and sealed. Scan the next tube."),
        "tube_sealed": _("Tube %(code)s sealed with %(n)s samples. Scan the next tube."),
        "tube_opened": _("Tube %(code)s opened (capacity %(n)s)."),
        "added": _("Added"),
        "not_resident_code": _("This is not a resident's code. Check the code and scan again."),
        "resident_not_tube": _("This is a resident's code. Scan the tube barcode first."),
        "bad_tube_code": _("This does not look like a tube barcode."),
        "tube_used": _("Tube %(code)s was already used on this phone. Take a new tube."),
        "dup_in_tube": _("This resident is already in this tube."),
        "choose_setup": _("Choose the round and the site first."),
        "nothing_to_undo": _("Nothing to undo in this tube."),
        "undone": _("Removed the last scan."),
        "confirm_seal": _("Seal tube %(code)s now with %(n)s samples?"),
        "confirm_logout": _("%(n)s actions have not been sent yet. If you log out now they are "
                            "sent after you log in again on this phone. Log out anyway?"),
        "leave_warning": _("Some actions have not been sent yet."),
        "login_again": _("Your login has expired. Log in again; waiting actions are kept on this phone."),
        "no_room": _("Open a tube with room first, then move the scan."),
        "moved": _("Moved to tube %(code)s."),
        "moved_n": _("Moved %(n)s scans to tube %(code)s."),
        "dismissed": _("Dismissed."),
        "confirm_dismiss": _("Dismiss this problem? The scan will not be recorded."),
        "camera_off": _("Camera off"), "camera_on": _("Camera on"),
        "camera_failed": _("The camera could not be started. Use a hand-held scanner or type the code."),
        "decoder_failed": _("The barcode decoder could not be loaded."),
        "problem_tube": _("Tube %(code)s"),
        "fix_move": _("Move to current tube"), "fix_dismiss": _("Dismiss"),
        "fix_edit": _("Correct and send again"), "fix_resample": _("Sample again"),
        "undo_failed": _("The scan could not be removed"),
        "state_queued": _("waiting"), "state_done": _("recorded"), "state_failed": _("problem"),
        "state_undone": _("removed"), "state_resolved": _("dismissed"), "state_moved": _("moved"),
        "no_code_person": _("Person without a code"),
        "form_invalid": _("Fill in the name and the document number."),
        "no_tube": _("Open a tube first."),
        "sealed_state": _("sealed"), "open_state": _("open"),
        "server_error": _("The server had a problem; the action is kept and sent again."),
        "set_aside": _("The server failed on this action every time it was sent, so it was set aside "
                       "and the actions after it were sent."),
    }


@bp.get("/scan/")
@role_required(*SCAN_ROLES)
def scan_page():
    id_types = [(t.value, str(ID_TYPE_LABELS[t.value])) for t in IdType]
    config = {
        "user_id": current_user.id,
        "api": "/api/v1",
        "decoder_js": url_for("static", filename=f"{DECODER_DIR}/zxing-reader.iife.js"),
        "decoder_wasm": url_for("static", filename=f"{DECODER_DIR}/zxing_reader.wasm"),
        "worker": url_for("web.scan_worker"), "scope": url_for("web.scan_page"),
        "page": url_for("web.scan_page"),
    }
    return render_template("scan.html", config=config, messages=client_messages(), id_types=id_types)


@bp.get("/scan/sw.js")
def scan_worker():
    """The service worker, with the list of files to precache and their version."""
    folder = Path(current_app.static_folder)
    precache = [url_for("web.scan_page")] + [url_for("static", filename=name) for name in ASSETS]
    source = (folder / "scan/sw.js").read_text(encoding="utf-8")
    source = source.replace("__VERSION__", json.dumps(assets_version())).replace(
        "__PRECACHE__", json.dumps(precache)).replace("__PAGE__", json.dumps(url_for("web.scan_page")))
    response = current_app.response_class(source, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = url_for("web.scan_page")
    response.headers["Cache-Control"] = "no-cache"
    return response
