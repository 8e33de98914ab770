"""Organizations' headline figures (core/figures.py): organizations in the user's scope by status."""
from __future__ import annotations

from flask import url_for

from blueprints.orgs import services
from blueprints.orgs.models import OrgStatus
from core.figures import Figure, register_figure

DEFINITIONS = {
    OrgStatus.SUBMITTED: "已提交（含退回后重新提交）、等待县(市、区)文明办审核的登记申请。",
    OrgStatus.APPROVED: "审核通过、正常开展活动的志愿服务组织（不含暂停、注销）。",
    OrgStatus.RETURNED: "被退回修改、尚未重新提交的登记申请。",
    OrgStatus.SUSPENDED: "登记后被暂停活动的组织。",
}
LABELS = {OrgStatus.SUBMITTED: "待审核组织", OrgStatus.APPROVED: "已登记组织", OrgStatus.RETURNED: "已退回申请",
          OrgStatus.SUSPENDED: "已暂停组织"}


def _make(status: OrgStatus):
    def fn(user) -> Figure:
        n = services.status_counts(user).get(status, 0)
        return Figure(n, LABELS[status], "您管辖范围内" + DEFINITIONS[status], unit="个",
                      url=url_for("orgs.index", status=status.value))

    fn.__qualname__ = f"orgs_{status.value}"
    return fn


for _status in LABELS:
    register_figure(f"orgs.{_status.value}")(_make(_status))
