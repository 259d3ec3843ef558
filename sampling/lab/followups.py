"""Following the members of a positive or invalid pool to an individual result.

Nothing is stored for this: the individual retest is an ordinary 1-in-1 tube, linked to the
pool by the person. For a member sampled at time *t* in a flagged tube, the retest is their
latest sample in a 1-in-1 tube taken at or after *t* (not the pooled sample itself). Its tube
says where the member stands:

- none yet, or its result is invalid → ``to_contact`` (find them, resample them alone);
- sampled, no result yet → ``resampled``;
- negative or positive → ``resulted`` (the individual result).

A positive 1-in-1 tube is already an individual result. A pool is closed when every member
has an individual result.
"""
from sqlalchemy import and_, exists, func, not_, select
from sqlalchemy.orm import aliased

from sampling.models import Sample, Tube

TO_CONTACT, RESAMPLED, RESULTED = "to_contact", "resampled", "resulted"
FLAGGED = ("positive", "invalid")
INDIVIDUAL = ("negative", "positive")


def retest_id_for(pooled, column=None):
    """A correlated scalar subquery: the id of ``pooled``'s retest sample (see module doc), or
    ``column(retest_tube)`` of it."""
    later, later_tube = aliased(Sample), aliased(Tube)
    return (select(column(later_tube) if column else later.id).select_from(later)
            .join(later_tube, later_tube.id == later.tube_id)
            .where(later.resident_id == pooled.resident_id, later_tube.capacity == 1, later.id != pooled.id,
                   later.sampled_at >= pooled.sampled_at)
            .order_by(later.sampled_at.desc(), later.id.desc()).limit(1)
            .correlate(pooled).scalar_subquery())


def is_open(tube):
    """SQL condition on a flagged ``tube``: not closed, i.e. some member has no individual result
    (the same rule as followup_state, for counting pools without listing their members)."""
    member = aliased(Sample)
    retest_result = func.coalesce(retest_id_for(member, lambda retest_tube: retest_tube.result), "none")
    return and_(not_(and_(tube.capacity == 1, tube.result == "positive")),
                exists().where(member.tube_id == tube.id, retest_result.not_in(INDIVIDUAL)))


def with_retests(pooled_query, pooled):
    """Wrap a query selecting ``pooled.id.label("sample_id")`` (and anything else) so that each
    row also carries its retest: ``retest_id``, ``retest_tube``, ``retest_result``, ``retested_at``,
    ``retest_resulted_at``."""
    inner = pooled_query.add_columns(retest_id_for(pooled).label("retest_id")).subquery()
    retest, retest_tube = aliased(Sample), aliased(Tube)
    return (select(inner, retest_tube.code.label("retest_tube"), retest_tube.result.label("retest_result"),
                   retest.sampled_at.label("retested_at"), retest_tube.resulted_at.label("retest_resulted_at"))
            .select_from(inner)
            .outerjoin(retest, retest.id == inner.c.retest_id)
            .outerjoin(retest_tube, and_(retest_tube.id == retest.tube_id)))


def followup_state(pool_capacity: int, pool_result: str, retest_id, retest_result) -> tuple[str, str | None]:
    """(state, individual result or None) for one member of a flagged tube."""
    if pool_capacity == 1 and pool_result == "positive":
        return RESULTED, "positive"
    if retest_id is not None and retest_result in INDIVIDUAL:
        return RESULTED, retest_result
    if retest_id is not None and retest_result is None:
        return RESAMPLED, None
    return TO_CONTACT, None
