"""Regions and sampling sites: look-ups and the bulk imports that set a city up."""
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from sampling.errors import BadRequest, NotFound
from sampling.extensions import db
from sampling.kernel.tabular import read_records
from sampling.kernel.text import clean, fits, shown
from sampling.models import Region, RegionLevel, Site

# administrative division codes: 6 digits a district, 9 a street or town, 12 a community or village
CODE_DIGITS = {RegionLevel.DISTRICT.value: 6, RegionLevel.STREET.value: 9, RegionLevel.COMMUNITY.value: 12}


def get_region(code: str) -> Region:
    """The region with this administrative code (trimmed), or NotFound. A code with control
    characters is no code: callers that take typed text clean it first (identity.clean_text)."""
    code = code.strip() if isinstance(code, str) else ""
    region = None
    if code and clean(code) and len(code) <= max(CODE_DIGITS.values()):
        region = db.session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise NotFound(_l("Unknown region %(code)s.", code=shown(code)), code="unknown_region")
    return region


def get_site(code: str) -> Site:
    """The site with this code, or NotFound."""
    site = None
    if isinstance(code, str) and clean(code):
        site = db.session.scalar(select(Site).where(Site.code == code.strip()))
    if site is None:
        raise NotFound(_l("Unknown site %(code)s.", code=shown(str(code))), code="unknown_site")
    return site


def upsert_region(code: str, name: str, level: str, parent_code: str | None) -> Region:
    """Create a region or rename an existing one; the level and parent must agree."""
    code, name, level = code.strip(), name.strip(), level.strip().lower()
    if level not in CODE_DIGITS:
        raise BadRequest(_l("Unknown level %(level)s.", level=shown(level)), code="bad_region")
    digits = CODE_DIGITS[level]
    if not (code.isascii() and code.isdigit() and len(code) == digits):
        raise BadRequest(_l("Region code %(code)s is not a division code: a %(level)s has %(n)s digits.",
                            code=shown(code), level=level, n=digits), code="bad_region")
    if not fits(name, Region.name):
        raise BadRequest(_l("Region %(code)s needs a name of 1 to %(n)s characters without control characters.",
                            code=code, n=Region.name.type.length), code="bad_region")
    expected_parent = RegionLevel(level).parent_level
    parent = None
    if expected_parent is not None:
        if not parent_code:
            raise BadRequest(_l("Region %(code)s needs a parent.", code=code), code="bad_region")
        parent = get_region(parent_code)
        if parent.level != expected_parent.value:
            raise BadRequest(_l("The parent of %(code)s must be a %(level)s.", code=code,
                                level=expected_parent.value), code="bad_region")
        if not code.startswith(parent.code):
            raise BadRequest(_l("Region code %(code)s does not start with its parent's code %(parent)s.",
                                code=code, parent=parent.code), code="bad_region")
    region = db.session.scalar(select(Region).where(Region.code == code))
    if region is None:
        region = Region(code=code, name=name, level=level, parent=parent,
                        path=(parent.path if parent else "/") + code + "/")
        db.session.add(region)
    elif region.level != level or region.parent_id != (parent.id if parent else None):
        raise BadRequest(_l("Region %(code)s exists with another level or parent.", code=code),
                         code="bad_region")
    else:
        region.name = name
    db.session.flush()
    return region


def import_regions(stream: BinaryIO, filename: str = "regions.csv") -> dict:
    """Import ``code,name,level,parent_code`` rows; parents may come before or after children.
    All or nothing: one bad row rolls the whole file back."""
    rows = list(read_records(stream, filename, {"code": ("编码", "代码"), "name": ("名称",),
                                                 "level": ("级别",), "parent_code": ("上级编码",)},
                             required=("code", "name", "level")))
    order = {"district": 0, "street": 1, "community": 2}
    created = updated = 0
    try:
        for number, row in sorted(rows, key=lambda r: (order.get(r[1].get("level", "").lower(), 9), r[0])):
            existed = db.session.scalar(select(Region.id).where(Region.code == row["code"])) is not None
            try:
                upsert_region(row["code"], row["name"], row["level"], row.get("parent_code") or None)
            except (BadRequest, NotFound) as exc:
                raise BadRequest(_l("Row %(row)s: %(reason)s", row=number, reason=str(exc.message)),
                                 code=exc.code) from exc
            updated += existed
            created += not existed
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return {"created": created, "updated": updated}


def import_sites(stream: BinaryIO, filename: str = "sites.csv") -> dict:
    """Import ``code,name,community_code`` rows; re-importing renames or moves a site."""
    created = updated = 0
    try:
        for number, row in read_records(stream, filename, {"code": ("编码",), "name": ("名称",),
                                                            "community_code": ("社区编码",)},
                                        required=("code", "name", "community_code")):
            if not fits(row["code"], Site.code) or " " in row["code"] or not fits(row["name"], Site.name):
                raise BadRequest(_l("Row %(row)s: a site needs a code of 1 to %(code)s characters without spaces "
                                    "and a name of 1 to %(name)s characters, without control characters.",
                                    row=number, code=Site.code.type.length, name=Site.name.type.length),
                                 code="bad_site")
            community = db.session.scalar(select(Region).where(Region.code == row["community_code"])) \
                if fits(row["community_code"], Region.code) else None
            if community is None or community.level != RegionLevel.COMMUNITY.value:
                raise BadRequest(_l("Row %(row)s: %(code)s is not a known community.", row=number,
                                    code=shown(row["community_code"])), code="unknown_region")
            site = db.session.scalar(select(Site).where(Site.code == row["code"]))
            if site is None:
                db.session.add(Site(code=row["code"], name=row["name"], community=community))
                created += 1
            else:
                site.name, site.community = row["name"], community
                updated += 1
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return {"created": created, "updated": updated}
