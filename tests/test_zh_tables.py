"""A broken data table, said to its maintainer in the operator's language (issue 11).

The contact roles (custody/rules/contact_roles.toml), the legal-status vocabulary (legal_status.toml) and the OPS
code table (ops_legal_codes.toml) are TOML files a maintainer edits. A mistake in one is refused with the file and
line, the entry and the field, what is wrong and what to do; at the command line it is one `错误：` line, exit 2,
never a traceback.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import custody.contact_roles as roles
import custody.ops_codes as codes
import custody.status_vocab as vocab
from custody.i18n import set_language
from custody.table_errors import TableError
from tests.test_zh_errors import english_words
from tests.test_zh_output import portfolio_url, zh_cli  # noqa: F401, F811  (fixtures)

ROLES, VOCABULARY, CODES = (m.read_text(encoding="utf-8") for m in
                            (roles.DEFAULT_TABLE, vocab.DEFAULT_VOCABULARY, codes.DEFAULT_CODES))
LOADERS: dict[str, tuple[str, Callable[[Path], object]]] = {
    "roles": (ROLES, roles.load_role_table), "vocabulary": (VOCABULARY, vocab.load_vocabulary),
    "codes": (CODES, codes.load_codes)}
# Where each table is installed: the module and the name of its path.
INSTALLED = {"roles": (roles, "DEFAULT_TABLE"), "vocabulary": (vocab, "DEFAULT_VOCABULARY"),
             "codes": (codes, "DEFAULT_CODES")}
# What the maintainer types, left in Latin letters: the values ("…"), the headers ([[role]]), the field names, true
# and false; and the names of the formats (TOML, UTF-8) and of the service (OPS).
TYPED = re.compile(r'"[^"]*"|\[\[\w+\]\]|\b(?:role|label_zh|label|words|source|kind|effect|wordings|detail_any|'
                   r'fields(?:\.\w+)?|code|wording_zh|description|influence|order|confirmed|true|false|TOML|UTF|OPS)\b')


def untyped_words(line: str) -> list[str]:
    """The Latin words of a Chinese message that are not what the maintainer types."""
    return english_words(TYPED.sub(" ", line))


EXPORT = Path(roles.__file__).parents[1] / "examples" / "status_export.csv"
PLEDGEE = '[[role]]\nrole = "pledgee"\nlabel_zh = "质权人"\nlabel = "pledgee"\n'
ALLOWED_ROLES = '"ip_manager", "finance", "legal_rep", "pledgee", "other"'


def _once(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# (id, table, the broken text, what the Chinese message says, what the English one says)
BROKEN = [
    ("role-operator", "roles", ROLES + '\n[[alias]]\nrole = "operator"\nwords = ["平台"]\nsource = "x"\n',
     f'[[alias]] 条目（role = "operator"）：字段 role 的值 "operator" 不是企业联系人角色：请改为 {ALLOWED_ROLES} 之一',
     f'[[alias]] (role = "operator"): field role: "operator" is not one of the enterprise\'s roles: write one of '
     f'{ALLOWED_ROLES}'),
    ("role-twice", "roles", ROLES + '\n[[role]]\nrole = "finance"\nlabel_zh = "财务"\nlabel = "finance"\n',
     '第 6 个 [[role]] 条目（role = "finance"）：角色 "finance" 列了两次：每个角色只列一次，接收提醒最多的角色在前',
     'entry 6 of [[role]] (role = "finance"): role "finance" is listed twice'),
    ("role-left-out", "roles", _once(ROLES, PLEDGEE, ""),
     f'contact_roles.toml：[[role]] 缺少 "pledgee"：{ALLOWED_ROLES} 每个各列一次',
     '[[role]] lacks "pledgee": list each of'),
    ("role-without-value", "roles", _once(ROLES, 'role = "pledgee"\n', ""),
     "第 4 个 [[role]] 条目：字段 role 的值 （未填写） 不是企业联系人角色",
     "entry 4 of [[role]]: field role: (missing)"),
    ("role-without-chinese", "roles", _once(ROLES, 'label_zh = "财务"\n', ""),
     "字段 label_zh 缺失或为空：请填写消息中显示的该角色名称（中文）",
     "field label_zh is missing or empty: write the role's words (Chinese) that messages show"),
    ("words-a-text", "roles", ROLES + '\n[[alias]]\nrole = "finance"\nwords = "会计"\nsource = "x"\n',
     "字段 words 缺失、为空或不是文本列表：请填写表格中表示该角色的称呼",
     "field words: missing, empty or not a list of texts"),
    ("words-without-source", "roles", ROLES + '\n[[alias]]\nrole = "finance"\nwords = ["会计"]\n',
     "字段 source 缺失或为空：请注明这些称呼的来源", "field source is missing or empty"),
    ("word-of-two-roles", "roles", ROLES + '\n[[alias]]\nrole = "finance"\nwords = ["联系人"]\nsource = "x"\n',
     '称呼 "联系人" 也是 "ip_manager" 的称呼（第 1 个 [[alias]] 条目）：只能保留在一个条目中',
     'the word "联系人" is also a word for "ip_manager" (entry 1 of [[alias]]): keep it in one entry only'),
    ("roles-not-entries", "roles", 'role = "ip_manager"\n',
     "role 不是一组 [[role]] 条目：请把每一项写成一个 [[role]] 段落", "role is not a list of [[role]] entries"),
    ("role-toml-syntax", "roles", ROLES + "\n[[alias]]\nrole = \n",
     f"contact_roles.toml：第 {ROLES.count(chr(10)) + 3} 行第 8 列："
     "此值不是带引号的文本、数字、日期、true、false 或列表：请在该处改正 TOML 写法",
     f"line {ROLES.count(chr(10)) + 3}, column 8: this value is not text in quotes"),
    ("effect-unknown", "vocabulary", _once(VOCABULARY, 'effect = "note"', 'effect = "explode"'),
     '第 1 个 [[event]] 条目（kind = "grant"）：字段 effect 的值 "explode" 不是可用的效果：请改为 "lapse", ',
     'entry 1 of [[event]] (kind = "grant"): field effect: "explode" is not an effect: write one of "lapse", '),
    ("event-without-chinese", "vocabulary", _once(VOCABULARY, 'label_zh = "授权"\n', ""),
     "缺少字段 label_zh：每个 [[event]] 条目都需要 kind, effect, label, label_zh, wordings",
     "field label_zh is missing: every [[event]] entry needs kind, effect, label, label_zh, wordings"),
    ("wordings-a-text", "vocabulary", _once(VOCABULARY, 'wordings = ["授权", ', 'wordings = "授权"\nx = ['),
     "字段 wordings 应为文本列表（wordings = ['未缴年费专利权终止']），且不能为空",
     "field wordings must be a list of texts"),
    ("field-pattern-broken", "vocabulary", _once(VOCABULARY, "(?P<pledgee>", "(?P<pledgee"),
     "字段 fields.pledgee 的值 \"质权人:\\\\s*(?P<pledgee[^\\\\s;,]+)\" 不是合法的正则表达式（第 ",
     "field fields.pledgee: \"质权人:\\\\s*(?P<pledgee[^\\\\s;,]+)\" is not a regular expression (it breaks at "),
    ("vocabulary-text-unclosed", "vocabulary", VOCABULARY + '\n[[event]]\nkind = "odd\n',
     "文本在本行内缺少结尾的引号：请在该处改正 TOML 写法",
     "a text is not closed with its quote on its line: correct the TOML there"),
    ("influence-unknown", "codes", _once(CODES, 'influence = "+"', 'influence = "?"'),
     '第 1 个 [[code]] 条目（code = "PB01"）：字段 influence 的值 "?" 不可用：请改为 "+", "-", "" 之一',
     'entry 1 of [[code]] (code = "PB01"): field influence: "?" is not an influence: write "+", "-", ""'),
    ("order-a-text", "codes", _once(CODES, "order = 10", 'order = "十"'),
     '字段 order 的值 "十" 不是整数：请填写该事件在同一天事件中的次序（小者在前）',
     'field order: "十" is not a whole number'),
    ("confirmed-a-text", "codes", _once(CODES, "confirmed = true", 'confirmed = "是"'),
     '字段 confirmed 的值 "是" 既不是 true 也不是 false', 'field confirmed: "是" is neither true nor false'),
    ("code-twice", "codes", CODES + '\n[[code]]\ncode = "pb01"\nwording_zh = "公开"\ndescription = "x"\n'
     'influence = "+"\nkind = "publication"\norder = 10\nconfirmed = true\nsource = "x"\n',
     '（code = "pb01"）：代码 "PB01" 已是第 1 个 [[code]] 条目：每个代码只保留一个条目',
     '(code = "pb01"): code "PB01" is already entry 1 of [[code]]: keep one entry per code'),
    ("code-without-source", "codes", _once(CODES, 'source = "EPO legal event code list (CN); description as seen '
                                                  'in OPS legal responses"\n', ""),
     '第 1 个 [[code]] 条目（code = "PB01"）：缺少字段 source：每个 [[code]] 条目都需要 code, wording_zh',
     'entry 1 of [[code]] (code = "PB01"): field source is missing: every [[code]] entry needs code, wording_zh'),
]


def _written(folder: Path, table: str, text: str) -> Path:
    """`text` written in `folder` under the installed file's name."""
    module, name = INSTALLED[table]
    path = folder / getattr(module, name).name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("table", "text", "zh", "en"), [row[1:] for row in BROKEN], ids=[row[0] for row in BROKEN])
def test_a_broken_table_names_the_file_the_entry_and_the_field_and_says_what_to_do(tmp_path, table, text, zh, en):
    path = _written(tmp_path, table, text)
    with pytest.raises(TableError) as caught:
        LOADERS[table][1](path)
    error = caught.value
    assert en in error.render("en"), error.render("en")
    chinese = error.render("zh")
    assert chinese.startswith(str(path)) and zh in chinese, chinese
    assert not untyped_words(chinese), (untyped_words(chinese), chinese)


def test_the_tables_as_shipped_load():
    assert roles.load_role_table().order[0] == "ip_manager"
    assert vocab.load_vocabulary(vocab.DEFAULT_VOCABULARY).kinds and codes.load_codes()["C19"].kind


@pytest.mark.parametrize(("table", "index", "header", "old", "new"), [
    ("roles", 2, "[[role]]", 'role = "legal_rep"', 'role = "boss"'),
    ("vocabulary", 0, "[[event]]", 'effect = "note"', 'effect = "explode"'),
    ("codes", 0, "[[code]]", 'influence = "+"', 'influence = "?"'),
])
def test_an_entry_is_named_by_the_line_of_its_header(tmp_path, table, index, header, old, new):
    broken = _once(LOADERS[table][0], old, new)
    path = _written(tmp_path, table, broken)
    with pytest.raises(TableError) as caught:
        LOADERS[table][1](path)
    line = [n for n, t in enumerate(broken.splitlines(), 1) if t.strip() == header][index]
    assert caught.value.render("zh").startswith(f"{path}:{line}：第 {index + 1} 个 {header} 条目"), caught.value


@pytest.mark.parametrize(("table", "zh", "en"), [
    ("roles", "无法读取该数据表：文件或其所在文件夹不存在：请检查安装或文件路径",
     "cannot read the table: the file or its folder does not exist"),
    ("codes", "无法读取该数据表：文件或其所在文件夹不存在",
     "cannot read the table: the file or its folder does not exist"),
])
def test_a_missing_table_says_so(tmp_path, table, zh, en):
    with pytest.raises(TableError) as caught:
        LOADERS[table][1](tmp_path / "nowhere.toml")
    assert (zh in caught.value.render("zh"), en in caught.value.render("en")) == (True, True), caught.value


def test_a_table_not_saved_as_utf8_says_how_to_save_it(tmp_path):
    path = tmp_path / "contact_roles.toml"
    path.write_bytes(ROLES.encode("gbk"))
    with pytest.raises(TableError) as caught:
        roles.load_role_table(path)
    chinese = caught.value.render("zh")
    assert "不是 UTF-8 文本（第 " in chinese and "请以 UTF-8 编码保存该文件" in chinese, chinese


# ---------------------------------------------------------------------------------------------- at the command line


@pytest.fixture
def installed_table(monkeypatch, tmp_path) -> Iterator[Callable[[str, str], None]]:
    """Replace the installed file of a table (as a maintainer editing custody/rules/ would), caches emptied."""
    caches = (roles.role_table, vocab.default_vocabulary, codes.default_codes)

    folder = tmp_path / "rules"
    folder.mkdir()

    def install(table: str, text: str) -> None:
        module, name = INSTALLED[table]
        monkeypatch.setattr(module, name, _written(folder, table, text))
        for cache in caches:
            cache.cache_clear()
    yield install
    for cache in caches:
        cache.cache_clear()


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize(("table", "args", "zh", "en"), [
    ("roles", ["contact", "list"], "字段 role 的值 \"boss\" 不是企业联系人角色",
     'field role: "boss" is not one of the enterprise\'s roles'),
    ("vocabulary", ["status", "sync", str(EXPORT), "--dry-run"], "字段 effect 的值 \"explode\" 不是可用的效果",
     'field effect: "explode" is not an effect'),
], ids=["roles", "vocabulary"])
def test_a_command_reading_a_broken_table_says_one_line_and_exits_2(zh_cli, capsys,  # noqa: F811
                                                                    installed_table, language, table, args, zh, en):
    text = {"roles": _once(ROLES, 'role = "legal_rep"', 'role = "boss"'),
            "vocabulary": _once(VOCABULARY, 'effect = "note"', 'effect = "explode"')}[table]
    installed_table(table, text)
    if language == "en":
        Path("config.toml").write_text('[general]\nlanguage = "en"\n', encoding="utf-8")
    code, out, err = zh_cli(args, capsys, 80)
    assert code == 2 and len(err.splitlines()) == 1, (code, out, err)
    assert "Traceback" not in out + err and "unexpected" not in err and "意外" not in err, err
    if language == "zh":
        assert err.startswith("错误：") and zh in err and "rules" in err and not untyped_words(err), err
    else:
        assert err.startswith("Error: ") and en in err, err
    set_language("en")

