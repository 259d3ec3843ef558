"""Building blocks for the roster and collision tests: valid ID numbers, residents sampled in a
round (rows written directly, without the scanning service), roster files in every encoding."""
import csv
import io
from datetime import UTC, datetime

from openpyxl import Workbook
from sqlalchemy import select
from stdnum.cn import ric

from sampling.extensions import db
from sampling.models import Region, Resident, Round, Sample, Site, Tube

HEADER_ZH = ["姓名", "证件类型", "证件号码", "联系电话", "社区", "楼栋", "单元", "门牌", "住址"]
HEADER_EN = ["name", "id_type", "id_number", "phone", "community", "building", "unit", "room", "address"]


def id_number(seq: int, area: str = "120101") -> str:
    """A valid 18-character resident ID number."""
    body = f"{area}19900101{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def resident(name: str, number: str, community: str = "120101001001") -> Resident:
    region = db.session.scalar(select(Region).where(Region.code == community))
    person = Resident(name=name, id_type="resident_id_card", id_number=number, community_id=region.id,
                      address="新华里1号楼")
    db.session.add(person)
    db.session.flush()
    return person


def sample(person: Resident, rnd: Round, site_code: str = "S-HP-001", at: datetime | None = None) -> Sample:
    site = db.session.scalar(select(Site).where(Site.code == site_code))
    sample.n += 1
    tube = Tube(code=f"T{sample.n:08d}", round_id=rnd.id, site_id=site.id, capacity=1, sample_count=1)
    db.session.add(tube)
    db.session.flush()
    row = Sample(tube_id=tube.id, resident_id=person.id, round_id=rnd.id, site_id=site.id,
                 sampled_at=at or datetime.now(UTC))
    db.session.add(row)
    db.session.flush()
    return row


sample.n = 0


def open_round() -> Round:
    return db.session.scalar(select(Round).order_by(Round.id))


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def known_case() -> dict:
    """A roster and samples where every category of a collision is non-empty.

    Roster rows 2-9 (row 10 blank): A tested; B untested; C tested, registered as 王六 (name
    mismatch); D sampled in another round (untested); E tested; row 7 bad check digit, row 8 a
    repeat of A, row 9 no name. G sampled at a site in the region, not on the roster; H sampled
    in another district (not counted)."""
    rnd = open_round()
    other = Round(name="上一轮", pool_size=10)
    db.session.add(other)
    db.session.flush()
    ids = {k: id_number(i) for i, k in enumerate("ABCDEFGH", start=1)}
    sample(resident("张三", ids["A"]), rnd)
    resident("李四", ids["B"])
    sample(resident("王六", ids["C"]), rnd, "S-HP-002")
    sample(resident("赵六", ids["D"]), other)
    sample(resident("钱七", ids["E"]), rnd, at=datetime(2022, 1, 10, 2, 0, tzinfo=UTC))
    sample(resident("孙八", ids["G"]), rnd, "S-HP-003")
    sample(resident("周九", ids["H"], "120102001001"), rnd, "S-HD-001")
    db.session.commit()
    bad = ids["A"][:-1] + ("0" if ids["A"][-1] != "0" else "1")
    rows = [HEADER_ZH,
            ["张三", "居民身份证", ids["A"], "13800000001", "新华里社区", "1号楼", "1单元", "101", ""],
            ["李四", "", ids["B"].lower().replace("x", "x"), "13800000002", "新华里社区", "1号楼", "2单元", "201", ""],
            ["王五", "身份证", ids["C"], "", "新华里社区", "2号楼", "1单元", "101", ""],
            ["赵六", "", ids["D"], "", "滨西社区", "10号楼", "1单元", "301", ""],
            ["钱七", "", ids["E"], "", "滨西社区", "3号楼", "1单元", "101", ""],
            ["坏号", "", bad, "", "滨西社区", "3号楼", "1单元", "102", ""],
            ["张三", "", ids["A"], "", "新华里社区", "1号楼", "1单元", "101", ""],
            ["", "", ids["F"], "", "滨西社区", "3号楼", "1单元", "103", ""],
            ["", "", "", "", "", "", "", "", ""]]
    return {"round": rnd, "ids": ids, "rows": rows}


def registered(name: str, seq: int, community: str, address: str | None, phone: str | None = None) -> Resident:
    region = db.session.scalar(select(Region).where(Region.code == community))
    person = Resident(name=name, id_type="resident_id_card", id_number=id_number(seq), community_id=region.id,
                      address=address, phone=phone)
    db.session.add(person)
    db.session.flush()
    return person


def register_case(make_user) -> dict:
    """劝业场街道 (120101001) has 新华里 and 滨西; 张三 sampled at home, 李四 sampled in 河东区 (tested:
    any site counts), 王五 and 赵六 not sampled, 钱七 sampled only in the previous round; 孙八 lives in
    河西区 and was sampled at 新华里 (sampled here, registered elsewhere); 周九 has no community."""
    rnd = open_round()
    before = Round(name="上一轮", pool_size=10)
    db.session.add(before)
    db.session.flush()
    people = {
        "张三": registered("张三", 1, "120101001001", "新华里3号楼2单元301室", "13800000001"),
        "李四": registered("李四", 2, "120101001001", "新华里3号楼1单元101", "13800000002"),
        "王五": registered("王五", 3, "120101001001", "南京路100号新华里12号楼1单元502号", "13800000003"),
        "赵六": registered("赵六", 4, "120101001002", "滨西里平房", "13800000004"),
        "钱七": registered("钱七", 5, "120101001002", "滨西2栋3单元201室", None),
        "孙八": registered("孙八", 6, "120103001001", "新兴里1幢", None),
    }
    nowhere = Resident(name="周九", id_type="passport", id_number="E12345678")
    db.session.add(nowhere)
    db.session.flush()
    sample(people["张三"], rnd, "S-HP-001", at=datetime(2022, 1, 10, 2, 0, tzinfo=UTC))
    sample(people["李四"], rnd, "S-HD-001")
    sample(people["钱七"], before, "S-HP-002")
    sample(people["孙八"], rnd, "S-HP-001")
    sample(nowhere, rnd, "S-HP-002")
    db.session.commit()
    return {"round": rnd, "people": people, "user": make_user("coordinator", region="120101001"),
            "stranger": make_user("coordinator", region="120102")}
