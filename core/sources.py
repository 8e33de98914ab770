"""The policy documents the rules come from, by title.

Code and comments cite the seed files by number (`# 001 第五条`); users read the document's title
(《…》), never the number. Templates call `cite("001", "附件4 第五条")` (a Jinja global); Python
messages call the same function.
"""
from __future__ import annotations

# seed number → (title, issuing body and document number)
SEEDS: dict[str, tuple[str, str]] = {
    "000": ("《关于加快发展湛江志愿服务事业的实施意见》", "湛文明委〔2016〕17号"),
    "001": ("《关于推进湛江市社区志愿服务制度化建设实施方案》", "湛文明办〔2018〕31号"),
    "002": ("《2015年广安市志愿服务制度化工作方案》", "广安市，2015年"),
    "003": ("《关于在全县开展志愿服务活动的实施意见》", "晃文明委〔2011〕5号"),
    "004": ("《关于推进云岭志愿服务制度化的实施意见》", "云文明委〔2014〕3号"),
}

# Attachments of 001 that the rules cite by their own title.
ATTACHMENTS: dict[tuple[str, str], str] = {
    ("001", "附件2"): "《社区志愿服务站管理制度》",
    ("001", "附件4"): "《社区志愿服务站招募注册制度》",
    ("001", "附件6"): "《社区志愿服务站义工守则》",
}


def title(code: str) -> str:
    """The document's title in 《》; an unknown code raises KeyError (a typo must not reach a page)."""
    return SEEDS[code][0]


def cite(code: str, where: str = "") -> str:
    """"《title》" plus the place in it: cite("001", "附件4 第五条") →
    "《关于推进…实施方案》附件4《社区志愿服务站招募注册制度》第五条"."""
    text = title(code)
    where = (where or "").strip()
    if where.startswith("附件"):
        head, _, rest = where.partition(" ")
        sub = ATTACHMENTS.get((code, head))
        return text + head + (sub or "") + rest
    return text + where


def cite_many(codes) -> str:
    """Several documents: "《…》、《…》"."""
    return "、".join(title(c) for c in codes if c)
