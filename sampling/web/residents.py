"""Residents' pages: their own pages under /me/ (my codes, registration, code recovery; covered by
the service worker /me/sw.js), and staff pages for people without phones (录入身份证信息生成二维码:
one code slip, or a sheet of code cards from a list)."""
from flask import Response, flash, redirect, render_template, request, stream_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField

from sampling.errors import DomainError, ValidationFailed
from sampling.extensions import db
from sampling.field import tubes
from sampling.residents import code_sheets, communities, identity, rebind, registration
from sampling.web.blueprint import bp
from sampling.web.guards import role_required

SW_VERSION = "me-v2"  # bump when the shell changes; the worker then drops its old cache


@bp.get("/me")
def my_codes_redirect():
    return redirect(url_for("web.my_codes"))


@bp.get("/me/")
def my_codes():
    """The codes kept on this phone (one's own and family members'); works offline."""
    return render_template("residents/my_codes.html", me_cache=SW_VERSION)


@bp.get("/me/register")
def register():
    return render_template("residents/register.html", id_types=identity.ID_TYPE_LABELS, me_cache=SW_VERSION)


@bp.get("/me/recover")
def recover():
    return render_template("residents/recover.html", me_cache=SW_VERSION)


@bp.get("/me/sw.js")
def service_worker():
    """The residents' service worker; served from /me/ so its scope is /me/ (not the staff pages)."""
    shell = [url_for("web.my_codes"), url_for("static", filename="css/app.css"),
             url_for("static", filename="css/me.css"), url_for("static", filename="js/me.js"),
             url_for("static", filename="js/page.js")]
    body = render_template("residents/sw.js", version=SW_VERSION, shell=shell)
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


class EntryForm(FlaskForm):
    """ID card details typed by a volunteer; the service validates them (same rules as residents)."""

    name = StringField(_l("Name"))
    id_type = SelectField(_l("Document type"), choices=[])
    id_number = StringField(_l("Document number"))
    phone = StringField(_l("Mobile phone (optional)"))
    region_code = SelectField(_l("Community"), choices=[], validate_choice=False)
    address = StringField(_l("Address (building, unit, room)"))


class RebindForm(FlaskForm):
    """The ID card shown at the site and the holder's phone: the record gets them and a new code."""

    site_code = SelectField(_l("Sampling site where you checked the card"), choices=[], validate_choice=False)
    name = StringField(_l("Name (as on the ID card)"))
    id_type = SelectField(_l("Document type"), choices=[])
    id_number = StringField(_l("Document number"))
    phone = StringField(_l("The holder's mobile phone (optional)"))


class UploadForm(FlaskForm):
    file = FileField(_l("List (CSV or Excel)"))
    region_code = SelectField(_l("Community"), choices=[], validate_choice=False)
    title = StringField(_l("Title of the sheet (e.g. the nursing home)"))


def _staff():
    return current_user._get_current_object()


def _community_choices(user):
    return [(c.code, f"{c.name} ({c.code})") for c in communities.for_staff(user)]


def _apply_field_errors(form, exc: ValidationFailed) -> None:
    if not exc.fields:
        flash(str(exc.message), "error")
    for name, message in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [str(message)]
        else:
            flash(str(message), "error")


def _entry_form(user, **kwargs) -> EntryForm:
    form = EntryForm(**kwargs)
    form.id_type.choices = [(k, str(v)) for k, v in identity.ID_TYPE_LABELS.items()]
    form.region_code.choices = _community_choices(user)
    return form


def _slip(resident) -> dict:
    """The printable code slip of a resident (the code of the record's current version)."""
    return code_sheets.print_card(resident.id, resident.name, resident.id_number,
                                  resident.community.name if resident.community else None, resident.code_version)


def _refused(form, exc: DomainError) -> None:
    db.session.rollback()
    if isinstance(exc, ValidationFailed):
        _apply_field_errors(form, exc)
    else:
        flash(str(exc.message), "error")


def _data(form) -> dict:
    return {f.name: f.data for f in form if f.name != "csrf_token"}


@bp.route("/staff/residents/new", methods=["GET", "POST"])
@role_required(*registration.STAFF_ROLES)
def staff_resident_entry():
    user = _staff()
    form = _entry_form(user)
    card, created = None, False
    if form.validate_on_submit():
        try:
            resident, created = registration.register_by_staff(user, _data(form))
            db.session.commit()
            card = _slip(resident)
            # a blank form for the next person, keeping the community
            form = _entry_form(user, formdata=None, region_code=form.region_code.data)
        except DomainError as exc:
            _refused(form, exc)
    return render_template("staff/resident_entry.html", form=form, card=card, created=created)


def _rebind_form(user, **kwargs) -> RebindForm:
    form = RebindForm(**kwargs)
    form.id_type.choices = [(k, str(v)) for k, v in identity.ID_TYPE_LABELS.items()]
    form.site_code.choices = [(s["code"], f"{s['name']} ({s['code']})") for s in tubes.sites_for(user)]
    return form


@bp.route("/staff/residents/rebind", methods=["GET", "POST"])
@role_required(*registration.STAFF_ROLES)
def staff_resident_rebind():
    """Re-bind a record to the person who shows the ID card: a new code, the earlier ones stop scanning."""
    user = _staff()
    form = _rebind_form(user)
    card = None
    if form.validate_on_submit():
        try:
            card = _slip(rebind.rebind(user, _data(form)))
            form = _rebind_form(user, formdata=None, site_code=form.site_code.data)  # blank, same site
        except DomainError as exc:
            _refused(form, exc)
    return render_template("staff/resident_rebind.html", form=form, card=card)


@bp.route("/staff/code-sheets/new", methods=["GET", "POST"])
@role_required(*registration.STAFF_ROLES)
def staff_code_sheet_upload():
    user = _staff()
    form = UploadForm()
    form.region_code.choices = _community_choices(user)
    report = None
    if form.validate_on_submit():
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            form.file.errors = [_("Choose a CSV or Excel file to upload.")]
        else:
            try:
                community = code_sheets.upload_community(form.region_code.data)
                report = code_sheets.import_list(user, upload.stream, upload.filename, community, form.title.data)
            except ValidationFailed as exc:
                _apply_field_errors(form, exc)
            except DomainError as exc:  # unreadable file, missing columns, not your community
                flash(str(exc.message), "error")
            else:
                flash(_("%(n)s cards are ready to print.", n=report.accepted), "success")
    return render_template("staff/code_sheet_upload.html", form=form, report=report,
                           recent=code_sheets.recent_sheets(user))


@bp.get("/staff/code-sheets/<int:sheet_id>")
@role_required(*registration.STAFF_ROLES)
def code_sheet(sheet_id):
    """The print-ready sheet: every card of the list on A4 pages, streamed as it renders."""
    sheet = code_sheets.get_sheet(_staff(), sheet_id)
    return stream_template("staff/code_sheet.html", sheet=sheet, cards=code_sheets.sheet_cards(sheet))
