"""Reading the trail: admins see every event; a coordinator the events of their region (an event's
region lies in theirs); nobody else. Filters: user name, action, a time window; newest first, a
page at a time (``before``: the id where the previous page ended)."""
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, false, select, true

from sampling.audit import trail
from sampling.errors import Forbidden, ValidationFailed
from sampling.extensions import db
from sampling.models import AuditEvent, Role, User

PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
_ACTION = re.compile(r"[a-z_]{1,20}(\.[a-z_]{1,20}){0,2}")
_STREAM = {"stream_results": True, "yield_per": 2000}
READER_ROLES = (Role.ADMIN.value, Role.COORDINATOR.value)


@dataclass(frozen=True)
class Filters:
    username: str | None = None
    action: str | None = None
    since: datetime | None = None   # inclusive
    until: datetime | None = None   # exclusive

    def to_detail(self) -> dict:
        """The filters as plain values for the record of a view or an export of the trail."""
        return {"user": self.username, "action": self.action,
                "from": self.since.isoformat() if self.since else None,
                "to": self.until.isoformat() if self.until else None}


def _moment(raw, field: str, end: bool) -> datetime | None:
    """An ISO 8601 date or time; without a zone it is the city's time; a date alone is the start of
    that day (``end``: the start of the next day, so that "to 2022-01-10" includes the 10th)."""
    raw = raw.strip() if isinstance(raw, str) else ""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except (ValueError, OverflowError):
        raise ValidationFailed(fields={field: _l("Give a date such as 2022-01-10 or a time such as "
                                                 "2022-01-10T08:00.")}) from None
    if end and len(raw) == 10:  # a date alone
        try:
            moment = datetime.combine(moment.date() + timedelta(days=1), time())
        except OverflowError:
            moment = datetime.combine(moment.date(), time.max)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(current_app.config.get("LOCAL_TIMEZONE", "Asia/Shanghai")))
    return moment.astimezone(UTC)


def parse_filters(username=None, action=None, since=None, until=None) -> Filters:
    """The filters as callers send them (query string or form), checked; ValidationFailed names every bad one."""
    fields, values = {}, {}
    username = username.strip() if isinstance(username, str) else ""
    if len(username) > 64:
        fields["user"] = _l("A user name has at most %(n)s characters.", n=64)
    action = action.strip() if isinstance(action, str) else ""
    if action and not _ACTION.fullmatch(action):
        fields["action"] = _l("An action is written like positives.view.")
    for key, raw, end in (("from", since, False), ("to", until, True)):
        try:
            values[key] = _moment(raw, key, end)
        except ValidationFailed as exc:
            fields.update(exc.fields)
    if not fields and values["from"] and values["to"] and values["from"] >= values["to"]:
        fields["to"] = _l("The end must be after the start.")
    if fields:
        raise ValidationFailed(fields=fields)
    return Filters(username or None, action or None, values["from"], values["to"])


def scope(user: User) -> ColumnElement[bool]:
    """The events ``user`` may read; Forbidden for a role that reads none."""
    if user.role == Role.ADMIN.value:
        return true()
    if user.role == Role.COORDINATOR.value and user.region is not None:
        return AuditEvent.region_path.startswith(user.region.path, autoescape=True)
    if user.role in READER_ROLES:
        return false()
    raise Forbidden(code="forbidden_role")


def _statement(user: User, filters: Filters) -> Select:
    stmt = select(AuditEvent).where(scope(user))
    if filters.username:
        stmt = stmt.where(AuditEvent.username == filters.username)
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.since:
        stmt = stmt.where(AuditEvent.at >= filters.since)
    if filters.until:
        stmt = stmt.where(AuditEvent.at < filters.until)
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def page_size(raw) -> int:
    """A page size as sent (1 .. MAX_PAGE_SIZE; PAGE_SIZE when not given)."""
    raw = raw.strip() if isinstance(raw, str) else ""
    if not raw:
        return PAGE_SIZE
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise ValidationFailed(fields={"limit": _l("Give a number from 1 to %(n)s.", n=MAX_PAGE_SIZE)})
    return int(raw)


def read(user: User, filters: Filters, limit: int = PAGE_SIZE, before: int | None = None) -> dict:
    """One page of events, newest first: ``{"events": [...], "next_before": id or None}``. ``before``
    continues after the event of that id (one the caller can see). Reading the trail is on record
    too (the trail holds staff's names and addresses)."""
    stmt = _statement(user, filters)
    if before is not None:
        edge = db.session.execute(select(AuditEvent.at, AuditEvent.id)
                                  .where(AuditEvent.id == before, scope(user))).first()
        if edge is None:
            raise ValidationFailed(fields={"before": _l("Unknown event.")})
        stmt = stmt.where((AuditEvent.at < edge.at) | ((AuditEvent.at == edge.at) & (AuditEvent.id < edge.id)))
    rows = db.session.scalars(stmt.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    page = {"events": [to_dict(e) for e in rows], "next_before": rows[-1].id if more else None}
    trail.record("audit.view", user=user, people=None, detail={**filters.to_detail(), "before": before},
                 commit=True)
    return page


def to_dict(event: AuditEvent) -> dict:
    return {"id": event.id, "at": event.at.isoformat(), "user_id": event.user_id, "username": event.username,
            "role": event.role, "client": event.client, "action": event.action,
            "object_type": event.object_type, "object_id": event.object_id, "region_code": event.region_code,
            "people": event.people, "detail": event.detail or {}}


EXPORT_HEADER = (_l("Time"), _l("User"), _l("Role"), _l("Client address"), _l("Action"), _l("Object"),
                 _l("Object id"), _l("Region"), _l("People"), _l("Details"))


def export_header() -> list[str]:
    return [str(h) for h in EXPORT_HEADER]


def export(user: User, filters: Filters, fmt: str) -> Iterator[tuple]:
    """Every event the filters select, newest first, as spreadsheet rows (streamed), the download on
    record when it ends."""
    return trail.recorded_rows(_export_rows(user, filters), "audit.export",
                               user=user, detail={**filters.to_detail(), "format": fmt})


def _export_rows(user: User, filters: Filters) -> Iterator[tuple]:
    stmt, zone = _statement(user, filters), ZoneInfo(current_app.config.get("LOCAL_TIMEZONE", "Asia/Shanghai"))

    def rows():
        for event in db.session.scalars(stmt, execution_options=_STREAM):
            detail = "; ".join(f"{k}={v}" for k, v in sorted((event.detail or {}).items()))
            yield (event.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"), event.username or "", event.role,
                   event.client or "", event.action, event.object_type or "", event.object_id or "",
                   event.region_code or "", "" if event.people is None else event.people, detail)
    return rows()
