"""The statistics dashboard: a round's figures for the coordinator's area, drilling down district →
street → community → site, refreshing itself, with CSV and Excel downloads. Its charts are drawn
on the server as SVG (templates/stats/_charts.html): no JavaScript chart library."""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request, url_for
from flask_login import current_user, login_required

from sampling.extensions import login_manager
from sampling.field import rounds
from sampling.kernel.access import can_access_region, require_role
from sampling.kernel.regions import get_region
from sampling.models import Role
from sampling.rosters import register
from sampling.stats.aggregates import LEVELS, area_stats, breadcrumb, child_level, level_below, parse_round_id
from sampling.stats.downloads import LEVEL_NAMES, columns
from sampling.stats.overview import overview
from sampling.stats.sealing_to_result import sealing_to_result
from sampling.web.blueprint import bp


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
    local = local_zone()
    turnaround = sealing_to_result(round_id, here)
    crumbs = [dict(c, url=url_for("web.stats_dashboard", round_id=round_id, level=child_level(c["level"]),
                                  parent=c["code"]) if can_access_region(user, get_region(c["code"])) else None)
              for c in breadcrumb(here)]
    args = {"round_id": round_id, "level": level, **({"parent": parent} if parent else {})}
    return {
        "rounds": all_rounds, "round_id": round_id, "level": level, "parent": parent, "result": result,
        "progress": progress, "crumbs": crumbs, "is_admin": user.role == Role.ADMIN.value,
        "child_level": child_level(level), "args": args,
        "hourly_chart": hourly_chart(progress["hourly"]),
        "area_chart": area_chart(result["rows"]),
        "updated_at": datetime.now(UTC).astimezone(local).strftime("%H:%M:%S"),
        "turnaround": dict(turnaround, computed_at=turnaround["computed_at"].astimezone(local).strftime("%H:%M")),
        "refresh_seconds": current_app.config.get("STATS_REFRESH_SECONDS", 30),
        "level_names": {k: str(v) for k, v in LEVEL_NAMES.items()}, "columns": columns(result),
        "unsampled": _unsampled(round_id, level, result, here),
    }


def _unsampled(round_id: int, level: str, result: dict, here) -> dict | None:
    """Live, for the communities on screen: registered residents not yet sampled in the round."""
    if level == "community":
        codes = [row["code"] for row in result["rows"]]
    elif here is not None and here.level == "community":
        codes = [here.code]
    else:
        return None
    names = {row["code"]: row["name"] for row in result["rows"]} if level == "community" else {here.code: here.name}
    return {"rows": [{"code": code, "name": names[code], "count": count}
                     for code, count in register.unsampled_by_community(round_id, codes).items()]}


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


WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 480, 220, 44, 28, 16


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("STATS_TIMEZONE", "Asia/Shanghai"))


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5 × 10^n)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if value <= step * factor:
                return step * factor
        step *= 10


def hourly_chart(points: list[dict]) -> dict:
    """Vertical bars of samples per hour (local time), with people first sampled as a darker part;
    one slot per hour of the series (hours without samples are empty slots), none before any sample."""
    if not any(p["samples"] for p in points):
        points = []
    zone = local_zone()
    top = _nice_max(max((p["samples"] for p in points), default=0) or 1)
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(points), 1)
    bars = []
    for index, point in enumerate(points):
        h, hp = plot_h * point["samples"] / top, plot_h * point["people"] / top
        local = point["hour"].astimezone(zone)
        bars.append({"x": round(LEFT + index * step + step * 0.1, 1), "w": round(step * 0.8, 1),
                     "y": round(TOP + plot_h - h, 1), "h": round(h, 1), "yp": round(TOP + plot_h - hp, 1),
                     "hp": round(hp, 1), "label": local.strftime("%H"), "day": local.strftime("%m-%d"),
                     "samples": point["samples"], "people": point["people"],
                     "show_label": len(points) <= 12 or index % max(len(points) // 12, 1) == 0})
    steps = (0, 0.5, 1) if top % 2 == 0 else (0, 1)
    ticks = [{"y": round(TOP + plot_h - plot_h * f, 1), "value": int(top * f)} for f in steps]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "base": TOP + plot_h, "bars": bars, "ticks": ticks}


def area_chart(rows: list[dict], limit: int = 30) -> dict:
    """Horizontal bars per area: completion against the roster when known (laggards first),
    otherwise people sampled (largest first)."""
    with_roster = [r for r in rows if r.get("completion") is not None]
    if with_roster:
        chosen = sorted(with_roster, key=lambda r: (r["completion"], r["code"]))[:limit]
        items = [(r["name"], r["completion"], f"{r['completion'] * 100:.1f}%") for r in chosen]
        top = 1.0
    else:
        chosen = sorted(rows, key=lambda r: (-r["sampled"], r["code"]))[:limit]
        items = [(r["name"], r["sampled"], str(r["sampled"])) for r in chosen]
        top = max((v for _n, v, _t in items), default=0) or 1
    row_h, label_w = 30, 130
    bars = [{"y": i * row_h + 4, "w": round((WIDTH - label_w - 60) * value / top, 1), "name": name, "text": text}
            for i, (name, value, text) in enumerate(items)]
    return {"completion": bool(with_roster), "width": WIDTH, "height": max(len(bars), 1) * row_h + 8,
            "label_w": label_w, "bars": bars, "more": max(len(with_roster or rows) - limit, 0)}
