"""Pages for rosters and collisions: upload (mapping step, progress, report), run, summaries,
downloads and the print-ready untested list."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError
from wtforms import DateTimeLocalField, SelectField, SubmitField
from wtforms.validators import Optional

from sampling.errors import DomainError
from sampling.extensions import db
from sampling.field.rounds import list_rounds
from sampling.kernel import exports
from sampling.rosters import collisions, lists, register, retention, uploads
from sampling.rosters.entries import FIELD_LABELS, FIELDS, REQUIRED
from sampling.web.blueprint import bp

PRINT_LIMIT = 5000


class CollideForm(FlaskForm):
    round_id = SelectField(_l("Round"), coerce=int)
    sampled_from = DateTimeLocalField(_l("Sampled from (optional)"), validators=[Optional()])
    sampled_to = DateTimeLocalField(_l("Sampled until (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Compare with who was sampled"))


class RegisterForm(CollideForm):
    region_code = SelectField(_l("Region"))
    submit = SubmitField(_l("Compare the registered residents with who was sampled"))


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("Confirm"))


def _user():
    return current_user._get_current_object()


# Requests that purge expired rosters when a purge is due: rosters, collisions and the dashboard
# (which refreshes itself), on every app server; a cheap check, see retention.purge_if_due.
_PURGING_MODULES = ("sampling.api.rosters", "sampling.web.rosters", "sampling.web.stats", "sampling.api.stats")


@bp.before_app_request
def _purge_rosters_when_due():
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or view.__module__ not in _PURGING_MODULES:
        return
    try:
        retention.purge_if_due()
    except SQLAlchemyError:  # a chore: a busy database must not fail the user's request
        db.session.rollback()
        current_app.logger.warning("roster purge skipped", exc_info=True)


def _confirmed() -> None:
    """A button's POST form: 400 unless it validates (its CSRF token)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.get("/rosters")
@login_required
def rosters_page():
    return _rosters_page(_user(), _register_form(_user()))


def _register_form(user) -> RegisterForm:
    form = RegisterForm()
    form.round_id.choices = [(r.id, r.name) for r in list_rounds(user)]
    form.region_code.choices = [(r.code, f"{r.code} {r.name}") for r in uploads.upload_regions(user)]
    if not form.is_submitted() and user.region is not None:
        form.region_code.data = user.region.code
    return form


def _rosters_page(user, register_form: RegisterForm, status: int = 200):
    regions = uploads.upload_regions(user)
    return render_template("rosters/list.html", rosters=uploads.list_rosters(user), regions=regions,
                           register_form=register_form, expires_at=uploads.expires_at,
                           fields=[(f, str(FIELD_LABELS[f]), f in REQUIRED) for f in FIELDS],
                           default_region=user.region.code if user.region else "",
                           max_upload_bytes=current_app.config["ROSTER_MAX_UPLOAD_MB"] * 1024 * 1024), status


@bp.post("/rosters/register")
@login_required
def register_collision_page():
    """The residents registered in this system (a region) against a round: a stored collision."""
    user = _user()
    form = _register_form(user)
    collision, status = _compare(form, lambda round_id, start, end: register.run_register_collision(
        user, form.region_code.data, round_id, start, end))
    if collision is not None:
        return redirect(url_for("web.collision_page", collision_id=collision.id))
    return _rosters_page(user, form, status)


@bp.route("/rosters/<int:roster_id>", methods=["GET", "POST"])
@login_required
def roster_page(roster_id):
    user = _user()
    roster = uploads.get_roster(user, roster_id)
    form = CollideForm()
    form.round_id.choices = [(r.id, r.name) for r in list_rounds(user)]
    status = 200
    if request.method == "POST":
        collision, status = _compare(form, lambda round_id, start, end: collisions.run_collision(
            user, roster.id, round_id, start, end))
        if collision is not None:
            return redirect(url_for("web.collision_page", collision_id=collision.id))
    return render_template("rosters/detail.html", roster=roster, form=form, confirm_form=ConfirmForm(),
                           errors=uploads.roster_errors(roster, 100), expires_at=uploads.expires_at(roster),
                           past=collisions.collisions_of(roster)), status


# The service's field names → the form's; the form's own messages replaced by ours (WTForms' say
# "Invalid Choice: could not coerce", which tells a coordinator nothing).
_FORM_FIELDS = {"round_id": "round_id", "from": "sampled_from", "to": "sampled_to", "region_code": "region_code"}
_FIELD_MESSAGES = {"round_id": _l("Choose a round."), "region_code": _l("Choose a region."),
                   "sampled_from": _l("Give a date and time such as 2022-01-10T08:00."),
                   "sampled_to": _l("Give a date and time such as 2022-01-10T08:00.")}


def _compare(form: CollideForm, run):
    """Run a compare form with ``run(round_id, start, end)``: (collision, 302) or (None, status)
    with the errors on the form."""
    if not form.validate_on_submit():
        for name, message in _FIELD_MESSAGES.items():
            if name in form and form[name].errors:
                form[name].errors = [str(message)]
        return None, 422
    try:
        collision = run(form.round_id.data, _local(form.sampled_from.data), _local(form.sampled_to.data))
    except DomainError as exc:
        for key, message in exc.fields.items():
            form[_FORM_FIELDS.get(key, "round_id")].errors = [str(message)]
        if not exc.fields:
            flash(str(exc.message), "error")
        return None, exc.status
    return collision, 302


def _local(moment):
    return moment.isoformat() if moment else None


@bp.post("/rosters/<int:roster_id>/delete")
@login_required
def delete_roster_page(roster_id):
    _confirmed()
    discarded = uploads.delete_roster(_user(), roster_id)
    flash(_("The roster was discarded.") if discarded else _("The roster was deleted."), "info")
    return redirect(url_for("web.rosters_page"))


@bp.post("/rosters/<int:roster_id>/accept")
@login_required
def accept_roster_page(roster_id):
    _confirmed()
    roster = uploads.accept_roster(_user(), roster_id)
    flash(_("The roster was accepted: compare it with a round."), "info")
    return redirect(url_for("web.roster_page", roster_id=roster.id))


@bp.get("/rosters/<int:roster_id>/errors.csv")
@login_required
def roster_errors_csv(roster_id):
    roster = uploads.get_roster(_user(), roster_id)
    return exports.download("csv", lists.header("invalid"), lists.invalid_rows(roster.id),
                            f"roster-{roster.id}-errors.csv", "")


@bp.get("/collisions/<int:collision_id>")
@login_required
def collision_page(collision_id):
    collision = collisions.get_collision(_user(), collision_id)
    return render_template("rosters/collision.html", collision=collision, rerun_form=ConfirmForm(),
                           by_community=lists.summary(collision),
                           by_building=lists.summary(collision, by_building=True),
                           categories=lists.categories(collision))


@bp.post("/collisions/<int:collision_id>/rerun")
@login_required
def rerun_collision_page(collision_id):
    _confirmed()
    new = register.run_again(_user(), collisions.get_collision(_user(), collision_id))
    return redirect(url_for("web.collision_page", collision_id=new.id))


@bp.get("/collisions/<int:collision_id>/print")
@login_required
def collision_print_page(collision_id):
    collision = collisions.get_collision(_user(), collision_id)
    community, building = request.args.get("community"), request.args.get("building")
    groups, truncated = lists.print_groups(collision, community, building, PRINT_LIMIT)
    return render_template("rosters/print.html", collision=collision, groups=groups, truncated=truncated,
                           community=community, building=building, limit=PRINT_LIMIT,
                           count=lists.untested_count(collision, community, building))


@bp.app_template_filter("field_time")
def field_time(moment) -> str:
    """A UTC time shown in China Standard Time, to the minute."""
    return moment.astimezone(collisions.FIELD_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


@bp.get("/register/untested")
@login_required
def live_untested_page():
    """Live, while the round runs: a community's registered residents not yet sampled, for door
    knocking (nothing is stored; the dashboard links here)."""
    live = register.live_untested(_user(), request.args.get("community", ""), request.args.get("round_id"),
                                  request.args.get("building"), PRINT_LIMIT)
    return render_template("rosters/live.html", limit=PRINT_LIMIT, **live)
