"""Field pages: the scanning page for sampling staff (/scan/) and its service worker, the
coordinators' backfill of paper forms (补录) and the public collection query (采集信息查询)."""
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateTimeLocalField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from sampling.errors import DomainError
from sampling.extensions import limiter
from sampling.field import backfill, paper_forms
from sampling.field.backfill import BEIJING
from sampling.lab import query
from sampling.models import IdType
from sampling.residents import identity
from sampling.residents.identity import ID_TYPE_LABELS
from sampling.web.blueprint import bp
from sampling.web.guards import role_required

SCAN_ROLES = ("sampler", "admin", "coordinator")  # as the tubes API; the menu shows it to samplers and admins
DECODER_DIR = "vendor/zxing-wasm-3.1.4"
# Static files the page needs offline (paths under static/).
ASSETS = ("css/app.css", "js/page.js", "scan/scan.css", "scan/app.js", "scan/codes.js", "scan/store.js",
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


TUBE_STATUS_LABELS = {"open": _l("being filled"), "sealed": _l("sealed, on its way to the lab"),
                      "boxed": _l("on its way to the lab"), "received": _l("at the lab"),
                      "resulted": _l("tested")}


class QueryForm(FlaskForm):
    id_number = StringField(_l("Document number"), validators=[
        DataRequired(), Length(max=32, message=_l("The document number is not valid."))])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=50)])
    submit = SubmitField(_l("Look up"))


def local_time(iso: str) -> str:
    from datetime import datetime
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


@bp.route("/query", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_PUBLIC"], methods=["POST"])
def collection_query():
    form, records = QueryForm(), None
    if form.validate_on_submit():
        try:
            records = query.collections(form.id_number.data, form.name.data)
        except DomainError as exc:
            for field, message in exc.fields.items():
                getattr(form, field).errors.append(str(message))
    return render_template("query.html", form=form, records=records, local_time=local_time,
                           status_labels=TUBE_STATUS_LABELS)


class EntryForm(FlaskForm):
    round_id = SelectField(_l("Round"), coerce=int)
    tube_code = StringField(_l("Tube code"), validators=[DataRequired(), Length(max=64)])
    site_code = SelectField(_l("Site (for a new tube)"), validators=[Optional()])
    sampled_at = DateTimeLocalField(_l("Time of sampling"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=50)])
    id_type = SelectField(_l("Document type"), choices=list(identity.ID_TYPE_LABELS.items()))
    id_number = StringField(_l("Document number"), validators=[DataRequired(), Length(max=32)])
    phone = StringField(_l("Mobile number"), validators=[Optional(), Length(max=20)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Record"))


class UploadForm(FlaskForm):
    round_id = SelectField(_l("Round"), coerce=int)
    file = FileField(_l("CSV or Excel file"), validators=[
        FileRequired(), FileAllowed(["csv", "xlsx", "xlsm"], _l("Choose a .csv or .xlsx file."))])
    upload = SubmitField(_l("Upload"))


def _field_errors(form: FlaskForm, exc: DomainError) -> list[str]:
    """Put each field's message under its field; those the form has no field for, labelled, for the top."""
    left = []
    for name, message in exc.fields.items():
        if name in form:
            form[name].errors = [*form[name].errors, str(message)]
        else:
            left.append(backfill.labelled(name, message))
    return left


@bp.route("/backfill", methods=["GET", "POST"])
@role_required("admin", "coordinator")
def backfill_page():
    entry, upload = EntryForm(prefix="entry"), UploadForm(prefix="upload")
    choices = backfill.page_choices(current_user)
    entry.round_id.choices = upload.round_id.choices = choices["rounds"]
    entry.site_code.choices = [("", "—"), *choices["sites"]]
    outcome, report, errors = None, None, []
    if entry.submit.data and entry.validate_on_submit():
        data = {k: getattr(entry, k).data for k in ("tube_code", "site_code", "name", "id_type", "id_number",
                                                      "phone", "address")}
        data["sampled_at"] = entry.sampled_at.data.isoformat(timespec="minutes")
        try:
            outcome = backfill.backfill_one(current_user, entry.round_id.data, data)
            outcome["message"] = backfill.outcome_message(outcome)
        except DomainError as exc:
            errors = [str(exc.message)] + _field_errors(entry, exc)
    elif upload.upload.data and upload.validate_on_submit():
        try:
            report = paper_forms.backfill_file(current_user, upload.round_id.data, upload.file.data.stream,
                                                  upload.file.data.filename)
        except DomainError as exc:
            errors = [str(exc.message)] + _field_errors(upload, exc)
    return render_template("backfill.html", entry=entry, upload=upload, outcome=outcome, report=report,
                           errors=errors)
