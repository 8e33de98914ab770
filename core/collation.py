"""Chinese names in pinyin order (issue 15), not in code-point order.

`pinyin_key("张三") == "zhang1san1"`: each syllable ends with its tone digit (轻声 = 5), which also
separates the syllables, so a plain byte/locale comparison of the keys gives 阿明 < 李四 < 西安 < 先锋
< 张三 on SQLite and PostgreSQL alike (digits sort before letters in every collation). Latin letters
are lower-cased; other characters are kept as they are.

Big lists (organizations, volunteers) sort on a stored, indexed key column (`PinyinSorted`): sorting
20,000 rows in Python per request is not an option. Small lists (a select of a few dozen names) may
sort in Python with `pinyin_sorted()`.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Iterable, TypeVar

from pypinyin import Style, lazy_pinyin
from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, mapped_column

KEY_LENGTH = 255
T = TypeVar("T")


@lru_cache(maxsize=4096)
def pinyin_key(text: str | None) -> str:
    if not text:
        return ""
    syllables = lazy_pinyin(text.strip().lower(), style=Style.TONE3, neutral_tone_with_five=True)
    return "".join(syllables)[:KEY_LENGTH]


def pinyin_sorted(items: Iterable[T], key: Callable[[T], str] = str) -> list[T]:
    """A small list in pinyin order of `key(item)` (ties: the text itself)."""
    return sorted(items, key=lambda item: (pinyin_key(key(item)), key(item)))


def _key_default(context) -> str:
    # Context-sensitive default: also fills the key of Core bulk inserts (the demo seeders), per row.
    return pinyin_key(context.get_current_parameters().get("name"))


class PinyinSorted:
    """Mixin of a model with a `name`: adds `name_pinyin`, the indexed sort key, kept on insert and
    whenever the name changes through the ORM. Order lists by `Model.name_pinyin, Model.id`."""

    name_pinyin: Mapped[str] = mapped_column(String(KEY_LENGTH), default=_key_default, index=True)


@event.listens_for(PinyinSorted, "before_update", propagate=True)
def _refresh_key(mapper, connection, target) -> None:
    target.name_pinyin = pinyin_key(target.name)


@event.listens_for(PinyinSorted, "before_insert", propagate=True)
def _set_key(mapper, connection, target) -> None:
    target.name_pinyin = pinyin_key(target.name)
