"""The command-line set-up tasks."""
import pytest
from sqlalchemy import func, select

from sampling.extensions import db
from sampling.kernel.users import authenticate
from sampling.models import Region, Resident, Round, Sample, Site, Tube, User

REGIONS = "code,name,level,parent_code\n120104,南开区,district,\n120104001,长虹街道,street,120104\n" \
          "120104001001,长虹社区,community,120104001\n"


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_every_command_has_help(app):
    for command in ("import-regions", "import-sites", "create-user", "import-users", "demo"):
        result = run(app, command, "--help")
        assert result.exit_code == 0 and "Usage" in result.output, command


def test_import_regions_in_gb18030_and_reimport_renames(app, tmp_path):
    path = write(tmp_path, "regions.csv", REGIONS, "gb18030")
    result = run(app, "import-regions", path)
    assert result.exit_code == 0, result.output
    assert "区域：新建 3 个，更新 0 个。" in result.output
    community = db.session.scalar(select(Region).where(Region.code == "120104001001"))
    assert community.name == "长虹社区" and community.path == "/120104/120104001/120104001001/"
    renamed = write(tmp_path, "renamed.csv", REGIONS.replace("长虹社区", "长虹里社区"))
    result = run(app, "import-regions", renamed)
    assert "区域：新建 0 个，更新 3 个。" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(Region.name).where(Region.code == "120104001001")) == "长虹里社区"


def test_import_regions_children_before_parents(app, tmp_path):
    lines = REGIONS.strip().split("\n")
    path = write(tmp_path, "r.csv", "\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    assert run(app, "import-regions", path).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(Region)) == 3


def test_import_regions_bad_file_is_a_clear_error_and_writes_nothing(app, tmp_path):
    path = write(tmp_path, "bad.csv", REGIONS + "120104001002,坏社区,community,999\n")
    result = run(app, "import-regions", path)
    assert result.exit_code != 0
    assert "999" in result.output and "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(Region)) == 0
    wrong_header = write(tmp_path, "h.csv", "a,b\n1,2\n")
    result = run(app, "import-regions", wrong_header)
    assert result.exit_code != 0 and "code" in result.output


def test_import_sites(app, tmp_path):
    run(app, "import-regions", write(tmp_path, "r.csv", REGIONS))
    path = write(tmp_path, "s.csv", "code,name,community_code\nS1,长虹采样点,120104001001\n")
    result = run(app, "import-sites", path)
    assert result.exit_code == 0 and "采样点：新建 1 个，更新 0 个。" in result.output
    bad = write(tmp_path, "b.csv", "code,name,community_code\nS2,x,120104001\n")
    result = run(app, "import-sites", bad)
    assert result.exit_code != 0 and "120104001" in result.output
    assert db.session.scalar(select(func.count()).select_from(Site)) == 1


def test_create_user_with_prompted_password(demo_city):
    result = run(demo_city, "create-user", "zhang", "--role", "sampler", "--site", "S-HP-001",
                 input="secret-pass\nsecret-pass\n")
    assert result.exit_code == 0, result.output
    assert "用户 zhang（sampler）已保存。" in result.output
    user = authenticate("zhang", "secret-pass")
    assert user is not None and [s.code for s in user.sites] == ["S-HP-001"]


def test_create_user_errors_are_clear(demo_city):
    result = run(demo_city, "create-user", "c1", "--role", "coordinator", "--password", "longenough")
    assert result.exit_code != 0 and "region" in result.output
    result = run(demo_city, "create-user", "c1", "--role", "sampler", "--site", "NOPE", "--password", "longenough")
    assert result.exit_code != 0 and "NOPE" in result.output
    run(demo_city, "create-user", "c1", "--role", "lab", "--password", "longenough")
    again = run(demo_city, "create-user", "c1", "--role", "lab", "--password", "longenough")
    assert again.exit_code != 0 and "c1" in again.output


def test_import_users_keeps_good_rows_and_reports_bad(demo_city, tmp_path):
    text = ("username,role,password,region_code,site_codes,display_name\n"
            "s1,sampler,password1,,S-HP-001;S-HP-002,王采样\n"
            "c1,coordinator,password2,120101001,,李协调\n"
            "bad1,coordinator,password3,,,\n"
            "bad2,sampler,short,,S-HP-001,\n")
    result = run(demo_city, "import-users", write(tmp_path, "u.csv", text, "gb18030"))
    assert result.exit_code == 0, result.output
    assert "账号：保存 2 个，拒绝 2 个。" in result.output
    assert "第 4 行（bad1）：协调员必须指定所属区域。" in result.output
    s1 = db.session.scalar(select(User).where(User.username == "s1"))
    assert s1.display_name == "王采样" and [s.code for s in s1.sites] == ["S-HP-001", "S-HP-002"]
    assert db.session.scalar(select(User).where(User.username == "bad1")) is None


def test_demo_loads_once_and_prints_logins(app):
    result = run(app, "demo")
    assert result.exit_code == 0 and "admin" in result.output and "demo12345" in result.output
    assert db.session.scalar(select(func.count()).select_from(Round)) == 1
    again = run(app, "demo", "--if-empty")
    assert "未加载演示数据" in again.output and "sampler" in again.output
    assert db.session.scalar(select(func.count()).select_from(Round)) == 1
    assert {u.role for u in db.session.scalars(select(User))} == {"admin", "coordinator", "sampler", "lab"}
    # a morning of field work: 18 residents of 新华里, a full (auto-sealed) tube and an open one
    tubes = {t.code: (t.status, t.sample_count) for t in db.session.scalars(select(Tube))}
    assert tubes == {"DEMO-TUBE-0001": ("sealed", 10), "DEMO-TUBE-0002": ("open", 2)}
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 18
    assert run(app, "demo").exit_code == 0  # again: nothing doubled
    assert db.session.scalar(select(func.count()).select_from(Sample)) == 12


def test_demo_logins_are_printed_only_when_they_work(app, tmp_path):
    assert run(app, "import-regions", write(tmp_path, "regions.csv", REGIONS)).exit_code == 0
    result = run(app, "demo", "--if-empty")  # someone else's city: no demo, no demo logins
    assert "未加载演示数据" in result.output and "demo12345" not in result.output
    assert "演示账号" not in result.output
    assert run(app, "demo").exit_code == 0
    assert run(app, "create-user", "admin", "--role", "admin", "--password", "changed-password-1",
               "--update").exit_code == 0
    again = run(app, "demo", "--if-empty")
    logins = [line.split()[0] for line in again.output.splitlines() if "demo12345" in line]
    assert logins == ["coordinator", "sampler", "lab"]  # the admin's password is no longer the demo's


def _refused(result, *expected):
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output, (text, result.output)


@pytest.mark.parametrize("row, expected", [
    ("120104001002," + "名" * 101 + ",community,120104001", ("第 6 行", "100")),
    ("120104001002,坏\x00社区,community,120104001", ("第 6 行", "100")),
    ("120104001002,坏\t社区,community,120104001", ("第 6 行",)),
    ("１２０１０４００１００２,全角社区,community,120104001", ("第 6 行", "12")),
    ("12010400100,短码社区,community,120104001", ("第 6 行", "12")),
    ("1201040010020,长码社区,community,120104001", ("第 6 行", "12")),
    ("120105001002,错上级社区,community,120104001", ("第 6 行", "120104001")),
    ("120104001002,坏上级,community,1201040\x0001", ("第 6 行", "\\x00")),
    ("1201,短区,district,", ("第 6 行", "6")),
    ("120104002,街道,street,120103", ("第 6 行",)),
])
def test_import_regions_refuses_bad_codes_names_and_characters(app, tmp_path, row, expected):
    """Lengths are the columns', codes 6/9/12 ASCII digits under their parent's code; on both
    databases the row is named and nothing is written."""
    lines = [*REGIONS.strip().split("\n"), "120104001003,好社区,community,120104001", row]
    result = run(app, "import-regions", write(tmp_path, "r.csv", "\n".join(lines) + "\n"))
    _refused(result, *expected)
    assert db.session.scalar(select(func.count()).select_from(Region)) == 0


@pytest.mark.parametrize("row, expected", [
    ("S" * 33 + ",采样点,120104001001", ("第 3 行", "32")),
    ("S2," + "点" * 101 + ",120104001001", ("第 3 行", "100")),
    ("S2,坏\x00点,120104001001", ("第 3 行",)),
    ("S 2,有空格,120104001001", ("第 3 行",)),
    ("S2,好点,1201040\x0001001", ("第 3 行", "\\x00")),
    ("S2,好点,120104001001" + "9" * 20, ("第 3 行",)),
])
def test_import_sites_refuses_long_and_broken_values(app, tmp_path, row, expected):
    run(app, "import-regions", write(tmp_path, "r.csv", REGIONS))
    text = "code,name,community_code\nS1,长虹采样点,120104001001\n" + row + "\n"
    _refused(run(app, "import-sites", write(tmp_path, "s.csv", text)), *expected)
    assert db.session.scalar(select(func.count()).select_from(Site)) == 0


def test_create_user_refuses_long_names_and_control_characters(demo_city):
    _refused(run(demo_city, "create-user", "li", "--role", "lab", "--name", "名" * 101, "--password", "longenough"),
             "display_name", "100")
    _refused(run(demo_city, "create-user", "l\x00i", "--role", "lab", "--password", "longenough"), "username")
    _refused(run(demo_city, "create-user", "li", "--role", "lab", "--password", "long\x00enough"), "password")
    _refused(run(demo_city, "create-user", "li", "--role", "coordinator", "--region", "1201\x0001",
                 "--password", "longenough"), "1201\\x0001")
    _refused(run(demo_city, "create-user", "li", "--role", "sampler", "--site", "S-HP\x00", "--password",
                 "longenough"), "S-HP\\x00")
    assert db.session.scalar(select(User).where(User.username == "li")) is None
    saved = run(demo_city, "create-user", "li", "--role", "lab", "--name", "名" * 100, "--password", "longenough")
    assert saved.exit_code == 0, saved.output


def test_import_users_keeps_good_rows_when_one_is_too_long(demo_city, tmp_path):
    text = ("username,role,password,region_code,site_codes,display_name\n"
            "u1,lab,password1,,," + "名" * 150 + "\n"
            "u2,lab,password2,,,好名字\n"
            "u\x003,lab,password3,,,\n"
            "u4,lab,pass\x00word4,,,\n"
            "u5,coordinator,password5,1201\x0001,,\n"
            "u6,sampler,password6,,S-HP-001,采样员\n")
    result = run(demo_city, "import-users", write(tmp_path, "u.csv", text))
    assert result.exit_code == 0, result.output
    assert "账号：保存 2 个，拒绝 4 个。" in result.output
    for line in ("第 2 行（u1）", "第 4 行（u\\x003）", "第 5 行（u4）", "第 6 行（u5）"):
        assert line in result.output, result.output
    assert set(db.session.scalars(select(User.username).where(User.username.like("u%")))) == {"u2", "u6"}


@pytest.mark.parametrize("role, option, expected", [
    ("lab", ("--region", "120101"), "region"), ("admin", ("--region", "120101"), "region"),
    ("sampler", ("--region", "120101", "--site", "S-HP-001"), "region"),
    ("lab", ("--site", "S-HP-001"), "sites"), ("admin", ("--site", "S-HP-001"), "sites"),
    ("coordinator", ("--region", "120101", "--site", "S-HP-001"), "sites")])
def test_scope_options_that_do_not_fit_the_role_are_refused(demo_city, role, option, expected):
    result = run(demo_city, "create-user", "x1", "--role", role, *option, "--password", "longenough")
    _refused(result, f"{expected}: ", role)
    assert db.session.scalar(select(User).where(User.username == "x1")) is None


def test_success_messages_follow_the_default_language(make_app, demo_city):
    english = make_app(BABEL_DEFAULT_LOCALE="en")
    with english.app_context():  # the command runs in the app context it finds
        result = run(english, "demo", "--if-empty")
    assert "The database already has data; demo not loaded." in result.output
    assert "coordinator, region 120101" in result.output
    assert "协调员" not in run(demo_city, "demo", "--if-empty").output  # the roles are the --role words
    assert "coordinator，区域 120101" in run(demo_city, "demo", "--if-empty").output
