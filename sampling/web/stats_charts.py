"""Server-drawn SVG charts for the statistics dashboard: geometry computed here, drawn by the
templates in templates/stats/_charts.html. No JavaScript chart library, nothing from a CDN."""
from zoneinfo import ZoneInfo

from flask import current_app

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
