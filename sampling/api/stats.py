"""Summary statistics for coordinators: figures by area as JSON, CSV or XLSX, and the day's progress."""
from flask import Response, g, jsonify, request
from flask_babel import lazy_gettext as _l

from sampling.api.auth import staff_required
from sampling.api.blueprint import bp
from sampling.errors import BadRequest
from sampling.stats import aggregates, downloads, overview

_MIMETYPES = {"csv": "text/csv; charset=utf-8",
              "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _round_id() -> int:
    return aggregates.parse_round_id(request.args.get("round_id", ""))


def _download(body: bytes, result: dict, extension: str) -> Response:
    return Response(body, content_type=_MIMETYPES[extension], headers={
        "Content-Disposition": f'attachment; filename="{downloads.filename(result, extension)}"',
        "Cache-Control": "no-store"})


@bp.get("/stats")
@staff_required("admin", "coordinator")
def get_stats():
    round_id, parent, fmt = _round_id(), request.args.get("parent") or None, request.args.get("format", "json")
    level = request.args.get("level") or (aggregates.level_below(parent) if parent else "district")
    if fmt not in ("json", "csv", "xlsx"):
        raise BadRequest(_l("format must be json, csv or xlsx."), code="bad_format")
    if fmt == "xlsx":
        body, result = downloads.to_xlsx(g.user, round_id, level, parent)
        return _download(body, result, "xlsx")
    result = aggregates.area_stats(g.user, round_id, level, parent)
    if fmt == "csv":
        return _download(downloads.to_csv(result), result, "csv")
    return jsonify(result)


@bp.get("/stats/overview")
@staff_required("admin", "coordinator")
def get_stats_overview():
    result = overview.overview(g.user, _round_id(), request.args.get("parent") or None)
    for point in result["hourly"]:
        point["hour"] = point["hour"].isoformat()
    return jsonify(result)
