"""Shared pieces of the features' workflow timelines (organizations, projects, reports, nominations).

Each feature keeps its own step table (its owner column, whether `from_status` may be empty, the comment's
length); the columns and behaviour they share are here, so a timeline reads the same everywhere.

`VERBS` is the one table of what each action is called, in Chinese: the timelines, the features' buttons
and messages, and the operation log (core/audit.py) all read it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.timeutil import utcnow

# action → verb. A key "table:action" names what an action means on one kind of record where the
# same action name means something else elsewhere ("award" a project's contract vs "award" a title).
VERBS: dict[str, str] = {
    # records
    "create": "新建",
    "update": "修改",
    "delete": "删除",
    "import": "导入",
    "export": "导出",
    "reveal": "显示完整信息",
    # accounts
    "login": "登录",
    "login_failed": "登录失败",
    "lock": "账户锁定",
    "logout": "退出",
    "password": "修改密码",
    # workflows in general
    "submit": "提交",
    "resubmit": "重新提交",
    "approve": "审核通过",
    "accept": "审核通过",
    "verify": "审核通过",
    "return": "退回",
    "reject": "不予通过",
    "suspend": "暂停",
    "reinstate": "恢复",
    "deregister": "注销",
    "cancel": "取消",
    "restore": "恢复",
    "issue": "出具",
    "void": "作废",
    "correct": "更正",
    "answer": "答复",
    "dismiss": "劝退",
    "enroll": "报名",
    "unenroll": "取消报名",
    "checkin": "签到",
    "checkout": "签退",
    "checkin_refused": "签到被拒绝",
    "finalize": "定稿",
    "reopen": "重新开启",
    "publish": "发布",
    "remind": "催报",
    "resolve": "处理",
    "transition": "办理",  # entries written before each step had its own verb
    # organizations (登记)
    "organization:import": "导入登记",
    "organization:submit": "提交审核",
    "organization:resubmit": "修改后重新提交",
    # purchased service projects
    "funding_project:create": "立项",
    "funding_project:tender": "发布招标",
    "funding_project:award": "确定承接组织，开始实施",
    "funding_project:submit": "提交验收",
    "funding_project:reject": "验收未通过，退回实施",
    "funding_project:close": "验收通过，结项",
    # volunteer-service projects of the library (项目库)
    "volunteer_project:create": "立项",
    "volunteer_project:start": "开始实施",
    "volunteer_project:review": "提交评估",
    "volunteer_project:return": "退回实施",
    "volunteer_project:close": "评估完成，结项",
    # award nominations
    "award_nomination:create": "创建推荐",
    "award_nomination:submit": "提交推荐",
    "award_nomination:recommend": "区级推荐",
    "award_nomination:reject": "区级不予推荐",
    "award_nomination:rank": "评审排名",
    "award_nomination:publicize": "列入公示",
    "award_nomination:drop": "未列入公示",
    "award_nomination:award": "决定表彰",
    "award_nomination:revoke": "取消表彰资格",
    # award campaigns (stages) and objections
    "award_campaign:start_scoring": "开始评审打分",
    "award_campaign:close_scoring": "结束评审并排名",
    "award_campaign:publish": "发布公示",
    "award_campaign:decide": "作出表彰决定",
    "award_objection:resolve": "处理异议",
    # theme plans
    "withdraw": "撤回",
}


def verb(action: str, table: str | None = None) -> str:
    """The Chinese verb of `action` (on a record of `table`); never the code name itself."""
    if table:
        found = VERBS.get(f"{table}:{action}")
        if found:
            return found
    return VERBS.get(action) or "操作"


def verbs_for(table: str, actions) -> dict[str, str]:
    """{action: verb} for a feature's buttons and messages, read from the one table."""
    return {a: verb(a, table) for a in actions}


class StepMixin:
    """One transition: what was done, to which status, by whom and when (`actor_name` is kept, so the
    timeline survives the account's deletion)."""

    action: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def actor(self) -> str:
        return self.actor_name or "系统"

    @classmethod
    def step_of(cls) -> str | None:
        """The table of the record this step belongs to (its one foreign key other than the actor)."""
        for fk in cls.__table__.foreign_keys:
            if fk.column.table.name != "user":
                return fk.column.table.name
        return None

    @property
    def label(self) -> str:
        return verb(self.action, self.step_of())


def actor_fields(user) -> dict:
    """actor_id / actor_name of a step recorded by `user` (None: the system)."""
    if user is None:
        return {"actor_id": None, "actor_name": "系统"}
    return {"actor_id": user.id, "actor_name": user.display_name or user.username}
