"""The accounts' command-line tasks: `flask create-user` and `flask demo-accounts` (added by the
accounts blueprint to the app's `flask` command)."""
from __future__ import annotations

from sqlalchemy import select

from blueprints.accounts.models import Role, User
from core.extensions import db


def test_create_user_makes_a_district_account_in_its_region(app, world):
    code = world["district_a"].code
    result = app.test_cli_runner().invoke(
        args=["create-user", "zhang.san", "--role", "district_staff", "--name", "张三", "--region-code", code],
        input="Secret@2026x\nSecret@2026x\n")
    assert result.exit_code == 0, result.output
    assert "已创建账户 zhang.san（县区文明办工作人员）" in result.output
    user = db.session.scalar(select(User).where(User.username == "zhang.san"))
    assert user.role == Role.DISTRICT_STAFF and user.region_id == world["district_a"].id
    assert user.check_password("Secret@2026x")


def test_create_user_refuses_a_bad_name_and_a_district_role_without_region(app, world):
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["create-user", "bad name!"], input="Secret@2026x\nSecret@2026x\n")
    no_region = runner.invoke(args=["create-user", "li.si", "--role", "leader"], input="Secret@2026x\nSecret@2026x\n")
    assert bad.exit_code != 0 and "用户名为 3–32 位" in bad.output
    assert no_region.exit_code != 0 and "须指定 --region-code" in no_region.output
    assert db.session.scalar(select(User).where(User.username.in_(["bad name!", "li.si"]))) is None


def test_demo_accounts_lists_the_demo_logins_with_their_scope(app, world):
    result = app.test_cli_runner().invoke(args=["demo-accounts"])
    assert result.exit_code == 0, result.output
    assert "city_admin" in result.output and "市文明办管理员" in result.output
    assert "district_staff" in result.output


def test_seed_demo_if_empty_leaves_a_database_with_accounts_alone(app, world):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "跳过" in result.output
