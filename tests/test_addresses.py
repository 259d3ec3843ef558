"""Building, unit and room read from registered addresses: a table of real-looking addresses, read
the same by Python and by the database's address_part function (SQLite and PostgreSQL)."""
import pytest
from sqlalchemy import text

from sampling.extensions import db
from sampling.residents import addresses

ADDRESSES = [
    # address as typed at registration                      building unit  room
    ("和平区新华里3号楼2单元301室",                             ("3", "2", "301")),
    ("新华里3号楼2单元301",                                     ("3", "2", None)),
    ("南京路100号新华里12号楼1单元502号",                       ("12", "1", "502")),
    ("南京路100号",                                             (None, None, None)),
    ("河西区友谊路8号银河大厦5栋1802室",                         ("5", None, "1802")),
    ("滨西2栋3单元201室",                                       ("2", "3", "201")),
    ("新兴里1幢",                                               ("1", None, None)),
    ("新兴里 1 幢 2 单元 3 室",                                 ("1", "2", "3")),
    ("和平区　新华里　３号楼　２单元　３０１室",                 ("3", "2", "301")),
    ("大王庄小区17号楼4单元",                                   ("17", "4", None)),
    ("大王庄小区17号楼4单元6号",                                ("17", "4", "6")),
    ("17号楼606号",                                             ("17", None, "606")),
    ("十一经路平房12号",                                        (None, None, None)),
    ("泰安道5号院2号楼",                                        ("2", None, None)),
    ("4单元502室",                                              (None, "4", "502")),
    ("滨江道国际公寓A座1208室",                                 (None, None, "1208")),
    ("三号楼二单元",                                            (None, None, None)),
    ("",                                                        (None, None, None)),
    (None,                                                      (None, None, None)),
]


@pytest.mark.parametrize(("address", "parts"), ADDRESSES)
def test_python_reads_the_usual_patterns(address, parts):
    assert addresses.parse(address) == parts


def test_the_database_reads_them_alike(app):
    statement = text("SELECT address_part(:address, 'building'), address_part(:address, 'unit'), "
                     "address_part(:address, 'room')")
    for address, parts in ADDRESSES:
        assert tuple(db.session.execute(statement, {"address": address}).one()) == parts, address


def test_lists_say_when_a_part_is_not_recognised(app):
    assert addresses.shown(None) == "（未识别）" and addresses.shown("12") == "12"
