"""Pages: the public collection query (采集信息查询) and the coordinators' backfill (补录)."""
from flask import current_app, render_template
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
from sampling.residents import identity
from sampling.web import bp
from sampling.web.guards import role_required

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
