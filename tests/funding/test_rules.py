"""Rules of the funding ledger: exact money, audited-period locks, reversing entries, projects, payments."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from blueprints.funding import services
from blueprints.funding.models import EntryKind, LedgerEntry, ProjectStatus
from blueprints.funding.services import EntryData, FundingError, Holder
from core.extensions import db
from core.templating import fmt_money
from core.timeutil import cn_date
from core.timeutil import local_today
from tests import factories

TODAY = local_today()
LAST_YEAR = TODAY.year - 1


def _h(org) -> Holder:
    return services.holder_from_org(org)


def _data(amount="100.00", kind="income", day=None, source="财政拨款", **kw) -> EntryData:
    return EntryData(entry_date=day or TODAY, kind=EntryKind(kind), amount=amount, source=source, **kw)


# ---- money -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("1234.56", "1234.56"), ("1,234.56", "1234.56"), ("¥80", "80.00"), (" 0.1 ", "0.10"), ("12.30", "12.30"),
    ("0.01", "0.01"), ("1.230", "1.23"),
])
def test_amounts_are_parsed_exactly(text, expected):
    value = services.parse_amount(text)
    assert isinstance(value, Decimal) and value == Decimal(expected) and str(value) == expected


@pytest.mark.parametrize("text,message", [
    ("0", "金额必须大于 0"), ("0.00", "金额必须大于 0"), ("-5", "金额必须大于 0"), ("1.234", "最多保留两位小数"),
    ("abc", "金额格式不正确"), ("1e5", "金额格式不正确"), ("NaN", "金额格式不正确"), ("", "请填写金额"),
    ("1e309", "金额格式不正确"), ("9" * 40, "金额过大"), ("12.3.4", "金额格式不正确"), ("Infinity", "金额格式不正确"),
])
def test_bad_amounts_are_refused_with_a_chinese_message(text, message):
    with pytest.raises(FundingError) as exc:
        services.parse_amount(text)
    assert message in exc.value.message
    assert exc.value.field == "amount"


def test_money_is_shown_with_yuan_sign_and_thousands():
    assert fmt_money(Decimal("1234.56")) == "¥1,234.56"
    assert fmt_money(Decimal("-1234.5")) == "-¥1,234.50"
    assert fmt_money(Decimal("0.30")) == "¥0.30"


def test_point_one_plus_point_two_is_exactly_point_three(world):
    org = world["org_a"]
    factories.ledger_entry(org, "0.10")
    factories.ledger_entry(org, "0.20")
    t = services.totals(select(LedgerEntry).where(LedgerEntry.organization_id == org.id))
    assert t.income == Decimal("0.30") and str(t.income) == "0.30"
    assert services.holder_balance(_h(org)) == Decimal("0.30")


def test_thousands_of_entries_sum_to_the_exact_total(world):
    org = world["org_a"]
    rows = []
    expected_in, expected_out = Decimal("0"), Decimal("0")
    for i in range(3000):
        amount = Decimal("0.01") * (i % 997 + 1) + Decimal("0.10")
        kind = EntryKind.INCOME if i % 3 else EntryKind.EXPENSE
        rows.append(dict(organization_id=org.id, entry_date=date(LAST_YEAR, i % 12 + 1, i % 28 + 1), kind=kind,
                         amount=amount, source="社会捐赠", purpose="志愿服务活动"))
        if kind is EntryKind.INCOME:
            expected_in += amount
        else:
            expected_out += amount
    db.session.execute(LedgerEntry.__table__.insert(), rows)
    t = services.totals(select(LedgerEntry).where(LedgerEntry.organization_id == org.id))
    assert (t.income, t.expense) == (expected_in, expected_out)
    months = services.monthly_summary(_h(org), LAST_YEAR)
    assert sum((m.income for m in months), Decimal(0)) == expected_in
    assert sum(m.count for m in months) == 3000
    [source] = services.source_balances(_h(org), LAST_YEAR)
    assert source.balance == expected_in - expected_out


def test_balances_per_holder_source_and_year(world):
    org = world["org_a"]
    factories.ledger_entry(org, "1000.00", entry_date=date(LAST_YEAR, 3, 1), source="财政拨款")
    factories.ledger_entry(org, "250.50", kind="expense", entry_date=date(LAST_YEAR, 5, 1), source="财政拨款", purpose="志愿者保险")
    factories.ledger_entry(org, "300.00", entry_date=TODAY.replace(month=1, day=1), source="社会捐赠")
    factories.ledger_entry(world["district_a"], "5000.00", entry_date=date(LAST_YEAR, 2, 1))
    rows = {r.holder.key: r for r in services.balances_by_holder(world["city_admin"], LAST_YEAR)}
    assert rows[f"org-{org.id}"].income == Decimal("1000.00")
    assert rows[f"org-{org.id}"].balance == Decimal("749.50")
    assert rows[f"region-{world['district_a'].id}"].balance == Decimal("5000.00")
    this_year = {r.holder.key: r for r in services.balances_by_holder(world["city_admin"], TODAY.year)}
    assert this_year[f"org-{org.id}"].balance == Decimal("1049.50")
    assert this_year[f"org-{org.id}"].income == Decimal("300.00")
    by_source = {r.source: r for r in services.source_balances(_h(org), TODAY.year)}
    assert by_source["财政拨款"].balance == Decimal("749.50") and by_source["财政拨款"].income == 0
    assert by_source["社会捐赠"].income == Decimal("300.00")
    assert services.spending_by_purpose(_h(org), LAST_YEAR) == [("志愿者保险", Decimal("250.50"))]
    years = services.yearly_summary(_h(org))
    assert [y.label for y in years] == [f"{LAST_YEAR} 年", f"{TODAY.year} 年"]


def test_sources_are_configurable(world):
    from core.settings import set_value

    set_value(services.SOURCES_KEY, ["财政拨款", "福彩公益金"])
    assert services.sources() == ["财政拨款", "福彩公益金"]
    with pytest.raises(FundingError, match="经费来源"):
        services.create_entry(world["org_leader"], _h(world["org_a"]), _data(source="社会捐赠"))
    e = services.create_entry(world["org_leader"], _h(world["org_a"]), _data(source="福彩公益金"))
    assert e.source == "福彩公益金"
    # An entry keeps a source that was removed from the list later.
    old = factories.ledger_entry(world["org_a"], "5.00", source="自筹")
    services.update_entry(world["org_leader"], old, _data("6.00", source="自筹"))
    assert old.amount == Decimal("6.00")


# ---- entries, locks, reversal ------------------------------------------------------------------------------

def test_entry_dates_in_the_future_are_refused(world):
    with pytest.raises(FundingError, match="不能晚于今天"):
        services.create_entry(world["org_leader"], _h(world["org_a"]), _data(day=TODAY + timedelta(days=1)))


def test_org_leader_cannot_book_for_another_org_or_the_district(world):
    with pytest.raises(FundingError):
        services.create_entry(world["org_leader"], _h(world["org_b"]), _data())
    with pytest.raises(FundingError):
        services.create_entry(world["org_leader"], services.holder_from_region(world["district_a"]), _data())
    assert services.create_entry(world["district_staff"], services.holder_from_region(world["district_a"]), _data())


def test_entries_in_an_audited_period_are_locked(world):
    org = world["org_a"]
    e = factories.ledger_entry(org, "500.00", entry_date=date(LAST_YEAR, 6, 15))
    factories.fund_audit(org, date(LAST_YEAR, 1, 1), date(LAST_YEAR, 6, 30), date(LAST_YEAR, 8, 1))
    user = world["org_leader"]
    with pytest.raises(FundingError, match="已锁定"):
        services.update_entry(user, e, _data("600.00", day=date(LAST_YEAR, 6, 15)))
    with pytest.raises(FundingError, match="已锁定"):
        services.delete_entry(user, e)
    with pytest.raises(FundingError, match="已锁定"):
        services.create_entry(user, _h(org), _data(day=date(LAST_YEAR, 3, 1)))
    # Outside the period, and for another holder, nothing is locked.
    assert services.create_entry(user, _h(org), _data(day=date(LAST_YEAR, 7, 1)))
    other = factories.ledger_entry(world["district_a"], "10.00", entry_date=date(LAST_YEAR, 6, 15))
    services.update_entry(world["district_staff"], other, _data("11.00", day=date(LAST_YEAR, 6, 15)))
    assert other.amount == Decimal("11.00")
    # Moving an unlocked entry into the audited period is refused too.
    free = factories.ledger_entry(org, "5.00", entry_date=date(LAST_YEAR, 9, 1))
    with pytest.raises(FundingError, match="已锁定"):
        services.update_entry(user, free, _data("5.00", day=date(LAST_YEAR, 6, 1)))


def test_a_correction_is_a_reversing_entry_linked_to_the_original(world):
    org = world["org_a"]
    e = factories.ledger_entry(org, "500.00", entry_date=date(LAST_YEAR, 6, 15), source="社会捐赠")
    factories.fund_audit(org, date(LAST_YEAR, 1, 1), date(LAST_YEAR, 6, 30))
    with pytest.raises(FundingError, match="冲销原因"):
        services.reverse_entry(world["org_leader"], e, "  ")
    rev = services.reverse_entry(world["org_leader"], e, "捐赠金额录入错误，应为 50 元")
    assert rev.reverses_id == e.id and e.reversed_by is rev
    assert rev.amount == Decimal("-500.00") and rev.kind is EntryKind.INCOME and rev.source == "社会捐赠"
    assert rev.entry_date == TODAY and "录入错误" in rev.reason
    assert services.holder_balance(_h(org)) == Decimal("0.00")
    by_source = {r.source: r for r in services.source_balances(_h(org), TODAY.year)}
    assert by_source["社会捐赠"].balance == Decimal("0.00")
    with pytest.raises(FundingError, match="已经冲销"):
        services.reverse_entry(world["org_leader"], e, "再来一次")
    with pytest.raises(FundingError, match="不能再冲销"):
        services.reverse_entry(world["org_leader"], rev, "冲销冲销")
    with pytest.raises(FundingError):
        services.delete_entry(world["org_leader"], rev)
    with pytest.raises(FundingError):
        services.update_entry(world["org_leader"], e, _data("50.00", day=date(LAST_YEAR, 6, 15)))


# ---- purchased-service projects ----------------------------------------------------------------------

def _project(world, **kw):
    data = services.ProjectData(title="赤坎区社区养老志愿服务项目", buyer_region_id=world["district_a"].id,
                                buyer_name="", provider_org_id=kw.pop("provider", world["org_a"].id),
                                amount=kw.pop("amount", "80000.00"), start_date=date(TODAY.year, 1, 1),
                                end_date=date(TODAY.year, 12, 31))
    return services.create_project(world["district_staff"], data)


def test_project_moves_through_every_status_and_records_each_step(world):
    p = _project(world)
    user = world["district_staff"]
    assert p.status is ProjectStatus.INITIATED and p.buyer_name == "赤坎区文明办"
    for action in ("tender", "award", "submit"):
        services.transition(p, action, user, "")
    with pytest.raises(FundingError, match="验收意见"):
        services.transition(p, "reject", user, "")
    services.transition(p, "reject", user, "服务记录不完整")
    assert p.status is ProjectStatus.IN_PROGRESS
    services.transition(p, "submit", user)
    services.transition(p, "close", user, "验收合格")
    assert p.status is ProjectStatus.CLOSED
    assert [s.action for s in p.steps] == ["create", "tender", "award", "submit", "reject", "submit", "close"]
    assert p.steps[4].comment == "服务记录不完整" and p.steps[-1].actor_name


@pytest.mark.parametrize("action", ["award", "submit", "close", "reject", "bogus"])
def test_illegal_project_moves_are_refused(world, action):
    p = _project(world)
    with pytest.raises(FundingError):
        services.transition(p, action, world["district_staff"], "意见")
    assert p.status is ProjectStatus.INITIATED and len(p.steps) == 1


def test_award_needs_a_provider_and_only_the_buyer_moves_a_project(world):
    p = _project(world, provider=None)
    services.transition(p, "tender", world["district_staff"])
    with pytest.raises(FundingError, match="承接组织"):
        services.transition(p, "award", world["district_staff"])
    with pytest.raises(FundingError, match="购买方"):
        services.transition(p, "award", world["district_staff_2"])
    with pytest.raises(FundingError):
        services.transition(p, "award", world["org_leader"])


def test_payments_never_exceed_the_amount_without_a_reason(world):
    p = _project(world, amount="1000.00")
    user = world["district_staff"]
    with pytest.raises(FundingError, match="实施或验收"):
        services.record_payment(user, p, TODAY, "100.00")
    services.transition(p, "tender", user)
    services.transition(p, "award", user)
    pay = services.record_payment(user, p, TODAY, "600.00", "GM-001")
    assert pay.income_entry.organization_id == world["org_a"].id and pay.income_entry.source == "政府购买服务"
    assert pay.expense_entry.region_id == world["district_a"].id and pay.expense_entry.kind is EntryKind.EXPENSE
    assert services.holder_balance(_h(world["org_a"])) == Decimal("600.00")
    with pytest.raises(FundingError, match="超付原因") as exc:
        services.record_payment(user, p, TODAY, "400.01")
    assert exc.value.field == "over_reason"
    services.record_payment(user, p, TODAY, "400.00")
    assert p.paid == p.amount == Decimal("1000.00")
    services.record_payment(user, p, TODAY, "50.00", over_reason="追加服务场次，经区文明办批准")
    assert p.paid == Decimal("1050.00")
    with pytest.raises(FundingError, match="不能在台账中修改"):
        services.delete_entry(user, pay.income_entry)
    with pytest.raises(FundingError, match="不能低于已付款"):
        services.update_project(user, p, services.ProjectData(
            title=p.title, buyer_region_id=p.buyer_region_id, buyer_name=p.buyer_name, provider_org_id=p.provider_org_id,
            amount="500.00", start_date=p.start_date, end_date=p.end_date))


def test_audit_log_names_the_holder_and_shows_money_as_yuan(world):
    """The operation log of a new entry (and of its reversal) says whose ledger and ¥1,234.56, not '— -1417.25'."""
    from core.audit import AuditEntry
    org = world["org_a"]
    e = factories.ledger_entry(org, "1417.25", entry_date=date(LAST_YEAR, 6, 15), source="社会捐赠")
    services.reverse_entry(world["org_leader"], e, "捐赠金额录入错误")
    db.session.flush()
    labels = db.session.scalars(select(AuditEntry.entity_label).where(AuditEntry.action == "create")).all()
    assert f"{org.name} {cn_date(TODAY)} 收入 -¥1,417.25" in labels, labels


def test_a_wrong_payment_is_reversed_on_both_ledgers_and_no_longer_counts(world):
    p = _project(world, amount="1000.00")
    user = world["district_staff"]
    services.transition(p, "tender", user)
    services.transition(p, "award", user)
    pay = services.record_payment(user, p, TODAY, "800.00")
    with pytest.raises(FundingError, match="项目页面"):
        services.reverse_entry(user, pay.income_entry, "单独冲销")
    with pytest.raises(FundingError, match="冲销原因"):
        services.reverse_payment(user, pay, "")
    with pytest.raises(FundingError, match="购买方"):
        services.reverse_payment(world["district_staff_2"], pay, "x")
    services.reverse_payment(user, pay, "金额录错，应为 600 元")
    assert pay.is_reversed and p.paid == Decimal("0.00")
    assert services.holder_balance(_h(world["org_a"])) == Decimal("0.00")
    assert services.holder_balance(services.holder_from_region(world["district_a"])) == Decimal("0.00")
    assert pay.income_entry.reversed_by.service_project_id == p.id
    with pytest.raises(FundingError, match="已经冲销"):
        services.reverse_payment(user, pay, "再次")
    services.record_payment(user, p, TODAY, "1000.00")  # the full amount is payable again
    assert p.paid == Decimal("1000.00")


def test_provider_must_lie_in_the_buyers_district(world):
    with pytest.raises(FundingError, match="承接组织"):
        _project(world, provider=world["org_b"].id)


# ---- audits and the statement -----------------------------------------------------------------------

def test_audit_period_and_items(world):
    h = _h(world["org_a"])
    data = services.AuditData(audit_date=date(LAST_YEAR, 1, 1), auditor="审计局", period_start=date(LAST_YEAR, 1, 1),
                              period_end=date(LAST_YEAR, 6, 30), items=["补齐凭证", ""])
    with pytest.raises(FundingError, match="审计期间结束之后"):
        services.create_audit(world["district_staff"], h, data)
    data.audit_date = date(LAST_YEAR, 7, 20)
    with pytest.raises(FundingError):
        services.create_audit(world["org_leader"], h, data)
    with pytest.raises(FundingError):
        services.create_audit(world["district_staff_2"], h, data)
    audit = services.create_audit(world["district_staff"], h, data)
    assert [i.description for i in audit.items] == ["补齐凭证"]
    item = audit.items[0]
    with pytest.raises(FundingError, match="整改结果"):
        services.set_item_status(world["org_leader"], item, "done")
    services.set_item_status(world["org_leader"], item, "done", "已补齐 12 张凭证")
    assert item.status.value == "done"
    with pytest.raises(FundingError):
        services.set_item_status(world["org_leader_2"], item, "open")


def test_statement_figures(world):
    org = world["org_a"]
    factories.ledger_entry(org, "1000.00", entry_date=date(LAST_YEAR - 1, 12, 1))
    factories.ledger_entry(org, "2000.00", entry_date=date(LAST_YEAR, 1, 5), source="财政拨款")
    factories.ledger_entry(org, "1234.56", entry_date=date(LAST_YEAR, 2, 5), source="社会捐赠")
    factories.ledger_entry(org, "800.00", kind="expense", entry_date=date(LAST_YEAR, 3, 5), purpose="志愿者培训")
    st = services.statement(_h(org), LAST_YEAR)
    assert st.opening == Decimal("1000.00")
    assert st.income == Decimal("3234.56") and st.expense == Decimal("800.00")
    assert st.closing == Decimal("3434.56")
    assert st.income_by_source == [("财政拨款", Decimal("2000.00")), ("社会捐赠", Decimal("1234.56"))]
    assert st.spending_by_purpose == [("志愿者培训", Decimal("800.00"))]
