"""The statistics dashboard: a round's figures for the coordinator's area, drilling down district →
street → community → site, refreshing itself, with CSV and Excel downloads."""
from datetime import UTC, datetime

from flask import current_app, render_template, request, url_for
from flask_login import current_user, login_required

from sampling.extensions import login_manager
from sampling.field import rounds
from sampling.kernel.access import can_access_region, require_role
from sampling.kernel.regions import get_region
from sampling.models import Role
from sampling.stats.aggregates import LEVELS, area_stats, breadcrumb, child_level, level_below, parse_round_id
from sampling.stats.downloads import LEVEL_NAMES, columns
from sampling.stats.overview import overview
from sampling.stats.sealing_to_result import sealing_to_result
from sampling.web import bp, stats_charts


def _default_level(user) -> str:
    if user.role == Role.COORDINATOR.value and user.region is not None:
        return child_level(user.region.level) or "site"
    return "district"


def _context() -> dict:
    user = current_user._get_current_object()
    require_role(user, (Role.ADMIN, Role.COORDINATOR))
    all_rounds = rounds.list_rounds(user)
    if not all_rounds:
        return {"rounds": [], "result": None, "level_names": {}}
    value = request.args.get("round_id", "")
    round_id = parse_round_id(value) if value else next(
        (r.id for r in all_rounds if r.status == "open"), all_rounds[0].id)
    parent = request.args.get("parent") or None
    level = request.args.get("level")
    if level not in LEVELS:
        level = level_below(parent) if parent else _default_level(user)
    result = area_stats(user, round_id, level, parent)
    progress = overview(user, round_id, parent)
    here = get_region(parent) if parent else (user.region if user.role == Role.COORDINATOR.value else None)
    local = stats_charts.local_zone()
    turnaround = sealing_to_result(round_id, here)
    crumbs = [dict(c, url=url_for("web.stats_dashboard", round_id=round_id, level=child_level(c["level"]),
                                  parent=c["code"]) if can_access_region(user, get_region(c["code"])) else None)
              for c in breadcrumb(here)]
    args = {"round_id": round_id, "level": level, **({"parent": parent} if parent else {})}
    return {
        "rounds": all_rounds, "round_id": round_id, "level": level, "parent": parent, "result": result,
        "progress": progress, "crumbs": crumbs, "is_admin": user.role == Role.ADMIN.value,
        "child_level": child_level(level), "args": args,
        "hourly_chart": stats_charts.hourly_chart(progress["hourly"]),
        "area_chart": stats_charts.area_chart(result["rows"]),
        "updated_at": datetime.now(UTC).astimezone(local).strftime("%H:%M:%S"),
        "turnaround": dict(turnaround, computed_at=turnaround["computed_at"].astimezone(local).strftime("%H:%M")),
        "refresh_seconds": current_app.config.get("STATS_REFRESH_SECONDS", 30),
        "level_names": {k: str(v) for k, v in LEVEL_NAMES.items()}, "columns": columns(result),
    }


@bp.get("/stats")
@login_required
def stats_dashboard():
    return render_template("stats/dashboard.html", **_context())


@bp.get("/stats/panel")
def stats_panel():
    """The figures alone, for the dashboard's periodic refresh. Without a session (it expired, or
    the user logged out in another tab) a script's request gets 401 and a one-line fragment, not
    a redirect to the login page that would be swapped into the dashboard."""
    if not current_user.is_authenticated:
        if request.headers.get("Sec-Fetch-Mode") == "navigate":
            return login_manager.unauthorized()
        login_url = url_for("web.login", next=url_for("web.stats_dashboard", **request.args))
        return render_template("stats/_signed_out.html", login_url=login_url), 401
    return render_template("stats/_panel.html", **_context())
