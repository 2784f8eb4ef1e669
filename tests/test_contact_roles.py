"""The contact-role table (custody/rules/contact_roles.toml) as worked examples: the words enterprises write in the
角色 / 职务 column of their contact sheets, and the role each gives the person. Sources: see the table's entries."""
from __future__ import annotations

import pytest

from custody.contact_roles import ENTERPRISE_ROLES, RoleReading, load_role_table, read_role, role_table
from custody.models.core import CONTACT_ROLES


@pytest.mark.parametrize(("cell", "role"), [
    # The person the platform deals with (CNIPA request forms' 联系人 box; 经办人 lines): before-due reminders.
    pytest.param("联系人", "ip_manager", id="联系人"),
    pytest.param("经办人", "ip_manager", id="经办人-no-longer-the-operator"),
    pytest.param("办理人", "ip_manager", id="办理人"),
    pytest.param("专利联系人", "ip_manager", id="专利联系人"),
    pytest.param("企业联系人", "ip_manager", id="企业联系人"),
    # Job titles of the people who keep the patents (GB/T 29490 staff).
    pytest.param("IP专员", "ip_manager", id="IP专员"),
    pytest.param("ＩＰ专员", "ip_manager", id="full-width-IP专员"),
    pytest.param("ip 专员", "ip_manager", id="lower-case-with-a-space"),
    pytest.param("知识产权专员", "ip_manager", id="知识产权专员"),
    pytest.param("专利管理员", "ip_manager", id="专利管理员"),
    pytest.param("专利工程师", "ip_manager", id="专利工程师"),
    pytest.param("知识产权负责人", "ip_manager", id="知识产权负责人"),
    pytest.param("管理者代表", "ip_manager", id="GB/T-29490-管理者代表"),
    pytest.param("专利代理师", "ip_manager", id="专利代理师-2018-title"),
    pytest.param("Patent Engineer", "ip_manager", id="english-patent-engineer"),
    pytest.param("operator", "ip_manager", id="operator-word-is-the-enterprise-contact"),
    # The head of the enterprise (民法典 art. 61; 公司法: 董事长/执行董事/经理): escalations.
    pytest.param("法定代表人", "legal_rep", id="法定代表人"),
    pytest.param("法人", "legal_rep", id="法人"),
    pytest.param("法人代表", "legal_rep", id="法人代表"),
    pytest.param("总经理", "legal_rep", id="总经理"),
    pytest.param("董事长", "legal_rep", id="董事长"),
    pytest.param("General Manager", "legal_rep", id="english-general-manager"),
    # The finance office (会计法: 会计, 出纳).
    pytest.param("财务", "finance", id="财务"),
    pytest.param("会计", "finance", id="会计"),
    pytest.param("出纳", "finance", id="出纳"),
    pytest.param("Accountant", "finance", id="english-accountant"),
    pytest.param("质权人", "pledgee", id="质权人"),
    pytest.param("其他", "other", id="其他"),
    # A remark in brackets is not part of the role.
    pytest.param("联系人（主）", "ip_manager", id="remark-in-full-width-brackets"),
    pytest.param("财务(兼出纳)", "finance", id="remark-in-ascii-brackets"),
    # Several roles in one cell: the one receiving the most reminders wins, so nobody loses one.
    pytest.param("法人/联系人", "ip_manager", id="法人/联系人"),
    pytest.param("财务兼联系人", "ip_manager", id="财务兼联系人"),
    pytest.param("总经理、财务", "finance", id="总经理、财务"),
    pytest.param("法人；其他", "legal_rep", id="法人；其他"),
])
def test_a_role_word_gives_the_enterprise_role(cell: str, role: str) -> None:
    assert read_role(cell) == RoleReading(role)


@pytest.mark.parametrize(("cell", "reading"), [
    pytest.param("董事长秘书", RoleReading(None, ("董事长秘书",)), id="unknown"),
    pytest.param("法人/董秘", RoleReading("legal_rep", ("董秘",)), id="partly-unknown-the-known-part-decides"),
    pytest.param("经理", RoleReading(None, ("经理",)), id="bare-经理-is-ambiguous"),
])
def test_a_word_not_in_the_table_is_named(cell: str, reading: RoleReading) -> None:
    assert read_role(cell) == reading


def test_no_word_maps_to_the_platform_operator() -> None:
    table = role_table()
    assert "operator" not in ENTERPRISE_ROLES and "operator" not in set(table.words.values())
    assert set(table.words.values()) <= set(ENTERPRISE_ROLES)


def test_the_enterprise_roles_are_the_models_contact_roles() -> None:
    assert set(ENTERPRISE_ROLES) == set(CONTACT_ROLES)
    assert role_table().order[0] == "ip_manager"  # the role receiving the most reminders comes first


def test_every_group_of_words_says_where_it_comes_from(tmp_path) -> None:
    import tomllib
    from pathlib import Path

    import custody.contact_roles as module

    data = tomllib.loads(Path(module.DEFAULT_TABLE).read_text(encoding="utf-8"))
    assert all(alias["source"].strip() for alias in data["alias"])
    bad = tmp_path / "roles.toml"
    bad.write_text(Path(module.DEFAULT_TABLE).read_text(encoding="utf-8")
                   + '\n[[alias]]\nrole = "operator"\nwords = ["平台"]\nsource = "no"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="operator"):
        load_role_table(bad)
