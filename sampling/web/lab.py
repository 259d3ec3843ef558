"""Pages of the lab flow: boxing tubes at the site, receiving and resulting at the lab, and the
positive-pool list (阳性信息) for coordinators, with its download and print versions."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SubmitField

from sampling.errors import DomainError
from sampling.field import rounds
from sampling.kernel.exports import download
from sampling.lab import positives, results
from sampling.web.blueprint import bp
from sampling.web.guards import role_required


@bp.app_template_filter("local_time")
def local_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An aware datetime or ISO string as the city's wall-clock time."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(ZoneInfo(current_app.config.get("LOCAL_TIMEZONE", "Asia/Shanghai"))).strftime(fmt)


@bp.get("/lab/boxes")
@role_required("sampler", "admin")
def lab_boxes():
    return render_template("lab/boxes.html")


@bp.get("/lab/receive")
@role_required("lab", "admin")
def lab_receive():
    return render_template("lab/receive.html")


class UploadForm(FlaskForm):
    file = FileField(_l("Results file (CSV or XLSX)"), validators=[
        FileRequired(_l("Choose a file.")), FileAllowed(["csv", "xlsx"], _l("Upload a .csv or .xlsx file."))])
    correct = BooleanField(_l("Correct results already posted (audited)"))
    submit = SubmitField(_l("Upload results"))


@bp.route("/lab/results/upload", methods=["GET", "POST"])
@role_required("lab", "admin")
def lab_upload():
    form, report = UploadForm(), None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = results.post_results(current_user, results.rows_from_file(upload.stream, upload.filename),
                                          correct=form.correct.data)
        except DomainError as exc:
            flash(str(exc.message), "error")
    return render_template("lab/upload.html", form=form, report=report, labels=results.RESULT_LABELS)


def _filters():
    round_id = request.args.get("round_id", "")
    status = request.args.get("status", "")
    round_id = int(round_id) if round_id.isascii() and round_id.isdigit() else None
    return round_id, (status if status in ("open", "closed") else None)


@bp.get("/positives")
@role_required("coordinator", "admin")
def positives_page():
    round_id, status = _filters()
    pools = positives.list_pools(current_user, round_id, status, mark_seen=True)
    return render_template("lab/positives.html", pools=pools, rounds=rounds.list_rounds(current_user),
                           round_id=round_id, status=status, states=positives.STATE_LABELS,
                           labels=results.RESULT_LABELS)


@bp.get("/positives/print")
@role_required("coordinator", "admin")
def positives_print():
    round_id, status = _filters()
    pools = positives.list_pools(current_user, round_id, status)
    return render_template("lab/positives_print.html", pools=pools, states=positives.STATE_LABELS,
                           labels=results.RESULT_LABELS, printed_at=datetime.now(ZoneInfo("UTC")))


@bp.get("/positives/export.<any(csv, xlsx):fmt>")
@role_required("coordinator", "admin")
def positives_export(fmt):
    round_id, status = _filters()
    pools = positives.list_pools(current_user, round_id, status)
    stamp = datetime.now(ZoneInfo("UTC")).strftime("%Y%m%d-%H%M")
    return download(fmt, positives.export_header(), positives.export_rows(pools), f"positives-{stamp}.{fmt}",
                    _("Positive pools"))
