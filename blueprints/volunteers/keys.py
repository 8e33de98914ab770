"""PII_KEY rotation (`flask rotate-pii-key`): re-encrypt every stored ID number and recompute its keyed
hashes from the old key to a new one, in batches.

Every value derived from PII_KEY lives in the volunteer table (core/pii.py): the Fernet token
`id_number_enc`, the look-up hash `id_hash` and the last-4 search key `id_last4_hash`. Pending import
previews (core/tabular.py) may hold tokens of the old key; they are deleted (the user uploads again).

Resumable and idempotent: a row whose token already opens with the new key is only given fresh
hashes, so a run that stopped half-way (or ran twice) is finished by running it again. Each batch is
one transaction. Stop the app servers (or put the site into maintenance) while it runs: a server still
on the old key cannot read the rows already rotated. Afterwards set PII_KEY to the new key on every
server and in the worker pool, and start them again.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import bindparam, delete, func, select, update

from core import pii
from core.extensions import db


@dataclass
class RotationResult:
    total: int = 0
    rotated: int = 0  # re-encrypted from the old key
    already: int = 0  # already on the new key (an earlier, interrupted run)
    failed: list[int] | None = None  # volunteer ids that open with neither key


def _opens(token: str, secret: str) -> str | None:
    try:
        return pii.decrypt(token, secret)
    except pii.PiiError:
        return None


def rotate_pii_key(old: str, new: str, batch: int = 1000,
                   progress: Callable[[int, int], None] | None = None) -> RotationResult:
    """Move every volunteer's encrypted ID number and keyed hashes from `old` to `new`; commits each batch."""
    from blueprints.volunteers.models import Volunteer

    if not old or not new or old == new:
        raise ValueError("old and new PII keys must be set and differ")
    table = Volunteer.__table__
    result = RotationResult(total=db.session.scalar(select(func.count()).select_from(table)) or 0, failed=[])
    stmt = (update(table).where(table.c.id == bindparam("vid"))
            .values(id_number_enc=bindparam("enc"), id_hash=bindparam("h"), id_last4_hash=bindparam("h4")))
    last_id, done = 0, 0
    while True:
        rows = db.session.execute(select(table.c.id, table.c.id_number_enc).where(table.c.id > last_id)
                                  .order_by(table.c.id).limit(batch)).all()
        if not rows:
            break
        changes = []
        for vid, token in rows:
            number = _opens(token, new)
            if number is not None:
                result.already += 1
                enc = token
            else:
                number = _opens(token, old)
                if number is None:
                    result.failed.append(vid)
                    continue
                result.rotated += 1
                enc = pii.encrypt(number, new)
            changes.append({"vid": vid, "enc": enc, "h": pii.lookup_hash(number, new),
                            "h4": pii.last4_key(number, int(number[6:10]), new)})
        if changes:
            # Core UPDATE: no audit entry (the number did not change) and no updated_at bump.
            db.session.execute(stmt, changes)
        db.session.commit()
        last_id, done = rows[-1][0], done + len(rows)
        if progress is not None:
            progress(done, result.total)
    from core.tabular import PendingImport

    db.session.execute(delete(PendingImport))
    db.session.commit()
    return result


# ---- flask rotate-pii-key (added to the `flask` command by the volunteers blueprint) ----------------

@click.command("rotate-pii-key")
@with_appcontext
@click.option("--new-key", envvar="NEW_PII_KEY", default="", help="新的 PII_KEY（默认读取环境变量 NEW_PII_KEY）")
@click.option("--batch", default=1000, show_default=True, help="每个事务处理的志愿者数")
def rotate_pii_key_command(new_key: str, batch: int):
    """Re-encrypt every ID number from PII_KEY to the new key (resumable; stop the app servers first)."""
    old = current_app.config.get("PII_KEY") or ""
    if not new_key:
        raise click.ClickException("请用 --new-key 或环境变量 NEW_PII_KEY 提供新的密钥")
    if new_key == old:
        raise click.ClickException("新密钥与当前 PII_KEY 相同")
    if batch < 1:
        raise click.ClickException("--batch 至少为 1")
    result = rotate_pii_key(old, new_key, batch, progress=lambda done, total: click.echo(f"  已处理 {done} / {total}"))
    click.echo(f"完成：共 {result.total} 名志愿者，重新加密 {result.rotated} 条，"
               f"已是新密钥 {result.already} 条；待确认的导入预览已清除。")
    if result.failed:
        raise click.ClickException(f"{len(result.failed)} 条无法用新旧密钥解密（志愿者 id：{result.failed[:20]}）")
    click.echo("请在每台应用服务器和任务进程上把 PII_KEY 设置为新密钥后重新启动。")
