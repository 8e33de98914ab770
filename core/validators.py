"""Validators for Chinese identifiers and common form inputs.

Plain functions (no Flask dependency) for:

* GB 11643-1999 citizen ID numbers (居民身份证号码, 18 characters);
* GB 32100-2015 unified social credit codes (统一社会信用代码);
* mainland mobile and landline phone numbers;
* accounting periods written as ``YYYY-MM``.

All validation failures raise :class:`ValidationError` (a ``ValueError``
subclass) whose ``message`` attribute is a user-facing message in
Simplified Chinese.  WTForms adapters are defined at the bottom of the module.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import wtforms.validators

__all__ = [
    "ValidationError",
    "IdNumberInfo",
    "ID_PROVINCE_CODES",
    "id_check_char",
    "parse_id_number",
    "mask_id_number",
    "CREDIT_CODE_ALPHABET",
    "credit_code_check_char",
    "validate_credit_code",
    "validate_phone",
    "mask_phone",
    "parse_period",
    "format_period",
    "IdNumber",
    "CreditCode",
    "Phone",
]


class ValidationError(ValueError):
    """A validation failure carrying a user-facing (Chinese) message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message: str = message


# ---------------------------------------------------------------------------
# GB 11643-1999 citizen ID number
# ---------------------------------------------------------------------------

MSG_ID_EMPTY = "请填写身份证号"
MSG_ID_FORMAT = "身份证号应为18位，最后一位可以是数字或X"
MSG_ID_REGION = "身份证号前两位地区码无效"
MSG_ID_BIRTH = "身份证号中的出生日期无效"
MSG_ID_CHECK = "身份证号校验位不正确"

# Valid first two digits (province-level codes, GB/T 2260):
#   11-15  北京 天津 河北 山西 内蒙古
#   21-23  辽宁 吉林 黑龙江
#   31-37  上海 江苏 浙江 安徽 福建 江西 山东
#   41-46  河南 湖北 湖南 广东 广西 海南
#   50-54  重庆 四川 贵州 云南 西藏
#   61-65  陕西 甘肃 青海 宁夏 新疆
#   71     台湾
#   81, 82 香港、澳门 (also used by 港澳居民居住证)
#   83     台湾居民居住证
# Codes starting with 9 (2023 外国人永久居留身份证) are deliberately not accepted.
ID_PROVINCE_CODES: frozenset[str] = frozenset(
    [str(c) for c in range(11, 16)]
    + [str(c) for c in range(21, 24)]
    + [str(c) for c in range(31, 38)]
    + [str(c) for c in range(41, 47)]
    + [str(c) for c in range(50, 55)]
    + [str(c) for c in range(61, 66)]
    + ["71", "81", "82", "83"]
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_MIN_BIRTH = date(1900, 1, 1)
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_DIGITS17_RE = re.compile(r"[0-9]{17}")


@dataclass(frozen=True)
class IdNumberInfo:
    """Information decoded from a valid citizen ID number."""

    number: str  # normalised: stripped, check character upper-case
    birth_date: date
    sex: str  # "男" or "女"
    region_code: str  # first 6 digits

    def age_on(self, day: date) -> int:
        """Age in full years on ``day`` (the birthday itself counts).

        People born on 29 February turn a year older on 1 March in
        non-leap years.  Raises ``ValueError`` if ``day`` precedes the birth
        date.
        """
        if day < self.birth_date:
            raise ValueError("day is before the birth date")
        before_birthday = (day.month, day.day) < (
            self.birth_date.month,
            self.birth_date.day,
        )
        return day.year - self.birth_date.year - int(before_birthday)


def id_check_char(first17: str) -> str:
    """Return the GB 11643-1999 check character for 17 ASCII digits."""
    if not isinstance(first17, str) or not _DIGITS17_RE.fullmatch(first17):
        raise ValueError("first17 must be exactly 17 ASCII digits")
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK_CHARS[total % 11]


def parse_id_number(value: str, today: date | None = None) -> IdNumberInfo:
    """Validate an 18-character citizen ID number and decode it.

    Surrounding whitespace is stripped and a lower-case ``x`` is accepted.
    Checks are applied in order: format, province code, birth date (a real
    date, not before 1900-01-01 and not after ``today``), check character.
    """
    if value is None:
        raise ValidationError(MSG_ID_EMPTY)
    if not isinstance(value, str):
        raise ValidationError(MSG_ID_FORMAT)
    number = compact_code(value).upper()
    if not number:
        raise ValidationError(MSG_ID_EMPTY)
    if not _ID_RE.fullmatch(number):
        raise ValidationError(MSG_ID_FORMAT)
    if number[:2] not in ID_PROVINCE_CODES:
        raise ValidationError(MSG_ID_REGION)

    if today is None:
        today = date.today()
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(MSG_ID_BIRTH) from None
    if birth < _ID_MIN_BIRTH or birth > today:
        raise ValidationError(MSG_ID_BIRTH)

    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(MSG_ID_CHECK)

    sex = "男" if int(number[16]) % 2 == 1 else "女"
    return IdNumberInfo(
        number=number, birth_date=birth, sex=sex, region_code=number[:6]
    )


def mask_id_number(value: str | None) -> str:
    """Mask an ID number for display: ``"4408**************"``.

    An 18-character value keeps only its first 4 characters (province and city): pages also show
    the sex and the birth year, so the sequence digits and the check character must stay hidden,
    or the number could be rebuilt (docs/security-pii.md).  Any other length is masked entirely
    (same length); empty or ``None`` gives ``""``.
    """
    if not value:
        return ""
    text = str(value).strip().upper()
    if len(text) == 18:
        return text[:4] + "*" * 14
    return "*" * len(text)


# ---------------------------------------------------------------------------
# GB 32100-2015 unified social credit code
# ---------------------------------------------------------------------------

MSG_CREDIT_EMPTY = "请填写统一社会信用代码"
MSG_CREDIT_LENGTH = "统一社会信用代码应为18位"
MSG_CREDIT_CHARS = "统一社会信用代码含有无效字符（不使用 I、O、Z、S、V）"
MSG_CREDIT_CHECK = "统一社会信用代码校验位不正确"

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters
_CREDIT_VALUES = {ch: i for i, ch in enumerate(CREDIT_CODE_ALPHABET)}
# Weight of position i is 3**i mod 31.
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters.

    ``first17`` must already be upper-case characters from the alphabet.
    """
    if (
        not isinstance(first17, str)
        or len(first17) != 17
        or any(ch not in _CREDIT_VALUES for ch in first17)
    ):
        raise ValueError("first17 must be 17 characters from the credit-code alphabet")
    total = sum(_CREDIT_VALUES[ch] * w for ch, w in zip(first17, _CREDIT_WEIGHTS))
    check = 31 - total % 31
    if check == 31:
        check = 0
    return CREDIT_CODE_ALPHABET[check]


def validate_credit_code(value: str) -> str:
    """Validate a unified social credit code; return it stripped and upper-case."""
    if value is None:
        raise ValidationError(MSG_CREDIT_EMPTY)
    if not isinstance(value, str):
        raise ValidationError(MSG_CREDIT_CHARS)
    code = compact_code(value).upper()
    if not code:
        raise ValidationError(MSG_CREDIT_EMPTY)
    if len(code) != 18:
        raise ValidationError(MSG_CREDIT_LENGTH)
    if any(ch not in _CREDIT_VALUES for ch in code):
        raise ValidationError(MSG_CREDIT_CHARS)
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValidationError(MSG_CREDIT_CHECK)
    return code


# ---------------------------------------------------------------------------
# Phone numbers
# ---------------------------------------------------------------------------

MSG_PHONE_EMPTY = "请填写联系电话"
MSG_PHONE_INVALID = "请输入有效的手机号（11位）或固定电话（如 0759-1234567）"

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_SEPARATORS_RE = re.compile(r"[\s\-]+")
_EXT = r"(?:\s*(?:-|转)\s*(?P<ext>[0-9]{1,6}))?"
# Area codes (with the trunk prefix 0) follow the Chinese numbering plan:
# 010 and 020-029 have three digits, all others are 0[3-9]xx (four digits).
# Codes starting with 00 (international) or 01x other than 010 do not exist.
_AREA = r"(?:010|02[0-9]|0[3-9][0-9]{2})"
# Area code given explicitly, separated by a hyphen or space.
_LANDLINE_SEP_RE = re.compile(
    r"(?P<area>" + _AREA + r")\s*[\s\-]\s*(?P<local>[0-9]{7,8})" + _EXT, re.ASCII
)
# Area code and local number written together; the numbering plan makes the
# split unambiguous (e.g. "01012345678" is 010 + 12345678).
_LANDLINE_COMPACT_RE = re.compile(
    r"(?P<area>" + _AREA + r")(?P<local>[0-9]{7,8})" + _EXT, re.ASCII
)


def _parse_mobile(text: str) -> str | None:
    compact = _MOBILE_SEPARATORS_RE.sub("", text)
    if compact.startswith("+86"):
        compact = compact[3:]
    elif compact.startswith("86") and len(compact) == 13:
        compact = compact[2:]
    return compact if _MOBILE_RE.fullmatch(compact) else None


def _parse_landline(text: str) -> tuple[str, str, str | None] | None:
    """Return (area code, local number, extension or None)."""
    m = _LANDLINE_SEP_RE.fullmatch(text) or _LANDLINE_COMPACT_RE.fullmatch(text)
    if m:
        return m["area"], m["local"], m["ext"]
    return None


def validate_phone(value: str) -> str:
    """Validate a mainland mobile or landline number and normalise it.

    Mobile numbers may carry a ``+86``/``86`` prefix and spaces or hyphens;
    they are returned as 11 bare digits.  Landlines are an area code
    (010, 02x or 0[3-9]xx) plus a 7-8 digit local number, optionally separated
    by a hyphen or space, optionally followed by an extension ``-123`` or
    ``转123``; they are returned as ``"0759-1234567"`` (``"0759-1234567-123"``).
    """
    if value is None:
        raise ValidationError(MSG_PHONE_EMPTY)
    if not isinstance(value, str):
        raise ValidationError(MSG_PHONE_INVALID)
    text = value.strip()
    if not text:
        raise ValidationError(MSG_PHONE_EMPTY)

    mobile = _parse_mobile(text)
    if mobile is not None:
        return mobile
    landline = _parse_landline(text)
    if landline is not None:
        area, local, ext = landline
        return f"{area}-{local}" + (f"-{ext}" if ext else "")
    raise ValidationError(MSG_PHONE_INVALID)


def mask_phone(value: str | None) -> str:
    """Mask a phone number for display.

    Mobile: ``"138****1234"``.  Landline: the area code and the last two digits
    of the local number are kept, an extension is masked too
    (``"0759-*****67"``, ``"0759-*****67-***"``).  Values that are not valid
    phone numbers are masked completely; empty or ``None`` gives ``""``.
    """
    if not value:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    mobile = _parse_mobile(text)
    if mobile is not None:
        return mobile[:3] + "****" + mobile[-4:]
    landline = _parse_landline(text)
    if landline is not None:
        area, local, ext = landline
        masked = f"{area}-" + "*" * (len(local) - 2) + local[-2:]
        return masked + (f"-{'*' * len(ext)}" if ext else "")
    return "*" * len(text)


# ---------------------------------------------------------------------------
# Accounting period "YYYY-MM"
# ---------------------------------------------------------------------------

MSG_PERIOD = "期间格式应为 YYYY-MM（如 2026-05）"

_PERIOD_RE = re.compile(r"([0-9]{4})-([0-9]{2})")
_PERIOD_MIN_YEAR = 2000
_PERIOD_MAX_YEAR = 2100


def parse_period(value: str) -> tuple[int, int]:
    """Parse ``"YYYY-MM"`` (year 2000-2100, month 01-12) into ``(year, month)``."""
    if not isinstance(value, str):
        raise ValidationError(MSG_PERIOD)
    m = _PERIOD_RE.fullmatch(value.strip())
    if not m:
        raise ValidationError(MSG_PERIOD)
    year, month = int(m[1]), int(m[2])
    if not (_PERIOD_MIN_YEAR <= year <= _PERIOD_MAX_YEAR and 1 <= month <= 12):
        raise ValidationError(MSG_PERIOD)
    return year, month


def format_period(year: int, month: int) -> str:
    """Format a period as ``"YYYY-MM"``; raises ``ValueError`` when out of range."""
    if not (_PERIOD_MIN_YEAR <= year <= _PERIOD_MAX_YEAR and 1 <= month <= 12):
        raise ValueError(f"period out of range: {year}-{month}")
    return f"{year:04d}-{month:02d}"


# ---------------------------------------------------------------------------
# WTForms adapters
# ---------------------------------------------------------------------------


class IdNumber:
    """WTForms validator: citizen ID number; normalises ``field.data``."""

    def __call__(self, form, field) -> None:
        try:
            field.data = parse_id_number(field.data).number
        except ValidationError as exc:
            raise wtforms.validators.ValidationError(exc.message) from None


class CreditCode:
    """WTForms validator: unified social credit code; normalises ``field.data``."""

    def __call__(self, form, field) -> None:
        try:
            field.data = validate_credit_code(field.data)
        except ValidationError as exc:
            raise wtforms.validators.ValidationError(exc.message) from None


class Phone:
    """WTForms validator: mobile or landline; normalises ``field.data``.

    With ``optional=True`` an empty value is accepted and stored as ``""``.
    """

    def __init__(self, optional: bool = False) -> None:
        self.optional = optional
        # A required number is marked as such on the form (the field macro reads flags.required).
        self.field_flags = {} if optional else {"required": True}

    def __call__(self, form, field) -> None:
        data = field.data
        if self.optional and (data is None or (isinstance(data, str) and not data.strip())):
            field.data = ""
            return
        try:
            field.data = validate_phone(data)
        except ValidationError as exc:
            raise wtforms.validators.ValidationError(exc.message) from None


# ---------------------------------------------------------------------------
# Text: control and invisible characters, NFKC
# ---------------------------------------------------------------------------

# C0 and C1 control characters and DEL (line breaks are handled by strip_control itself).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Characters that show nothing: BOM, zero-width space/joiners, word joiner, soft hyphen, the bidi
# embeddings/overrides (U+202A–U+202E) and isolates (U+2066–U+2069) that can reverse what is shown.
_INVISIBLE_RE = re.compile("[\ufeff\u200b-\u200f\u2060-\u2064\u00ad\u180e\u202a-\u202e\u2066-\u2069]")


def strip_control(value: str, multiline: bool = False) -> str:
    """Remove control characters (XLSX and PDFs cannot hold them, nobody types them on purpose).

    A tab becomes a space; line breaks are kept as LF in multi-line text and become a space otherwise.
    """
    text = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = text.replace("\t", " ")
    if not multiline:
        text = text.replace("\n", " ")
    return _CONTROL_RE.sub("", text)


def strip_invisible(value: str) -> str:
    """Remove characters that display as nothing (BOM, zero-width, bidi overrides)."""
    return _INVISIBLE_RE.sub("", value)


def is_blank(value: str | None) -> bool:
    """True when nothing visible remains once whitespace and invisible characters are removed."""
    return not strip_invisible(unicodedata.normalize("NFKC", value or "")).strip()


def compact_code(value: str) -> str:
    """A code as typed (ID number, USCC, region code): NFKC (full-width ４４０８ → 4408), invisible
    characters removed and trimmed — before its length is checked."""
    return strip_invisible(unicodedata.normalize("NFKC", str(value))).strip()


# ---------------------------------------------------------------------------
# Numbers, ids, money and dates typed by a person or read from a query string
# ---------------------------------------------------------------------------

DB_INT_MAX = 2**31 - 1  # INTEGER on PostgreSQL; SQLite ids stay well inside it too
_UINT_RE = re.compile(r"[0-9]{1,10}")
_INT_RE = re.compile(r"[+-]?[0-9]{1,10}")


def parse_int(value, lo: int = -DB_INT_MAX, hi: int = DB_INT_MAX) -> int | None:
    """An integer within [lo, hi] from user input, or None (junk, out of range, 40 digits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = compact_code(value if value is not None else "")
        if not _INT_RE.fullmatch(text):
            return None
        number = int(text)
    return number if lo <= number <= hi else None


def parse_id(value) -> int | None:
    """A row id from user input (a query-string filter, a select): 1 … 2**31-1, else None —
    which a filter ignores and a lookup answers with "not found"."""
    return parse_int(value, 1, DB_INT_MAX)


MONEY_INT_DIGITS = 12  # Numeric(14, 2): up to 999 999 999 999.99 yuan
MONEY_MAX = Decimal("999999999999.99")
_MONEY_RE = re.compile(r"([0-9]+)(?:\.([0-9]*))?")


def parse_money(value, label: str = "金额", allow_zero: bool = False) -> Decimal:
    """Yuan to the fen from what a person typed ("1,234.56", "¥80", "１２３"); never float.

    At most 12 integer digits and 2 decimals (trailing zeros beyond them are fine); the digit count is
    checked on the text, before any Decimal arithmetic, so 40 digits are a message, not an overflow.
    """
    if isinstance(value, Decimal):
        raw = format(value, "f") if value.is_finite() else "x"
    else:
        raw = compact_code(value if value is not None else "")
    raw = raw.replace(",", "").replace("，", "").lstrip("¥￥")
    if not raw:
        raise ValidationError(f"请填写{label}")
    if raw.startswith("-"):
        raise ValidationError(f"{label}必须大于 0")
    m = _MONEY_RE.fullmatch(raw)
    if not m:
        raise ValidationError(f"{label}格式不正确，应为数字，如 1234.56")
    whole, frac = m[1].lstrip("0"), (m[2] or "").rstrip("0")
    if len(whole) > MONEY_INT_DIGITS:
        raise ValidationError(f"{label}过大（最多 {MONEY_INT_DIGITS} 位整数）")
    if len(frac) > 2:
        raise ValidationError(f"{label}最多保留两位小数（精确到分）")
    amount = Decimal(f"{whole or '0'}.{frac or '0'}").quantize(Decimal("0.01"))
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError(f"{label}必须大于 0")
    return amount


@dataclass(frozen=True)
class DateRange:
    """The dates that make sense for a field: from `earliest` to today + `years_ahead`."""

    earliest: date
    years_ahead: int

    def bounds(self, today: date | None = None) -> tuple[date, date]:
        today = today or date.today()
        try:
            latest = today.replace(year=today.year + self.years_ahead)
        except ValueError:  # 29 February
            latest = today.replace(year=today.year + self.years_ahead, day=28)
        return self.earliest, latest

    def message(self, today: date | None = None, value: date | None = None) -> str:
        lo, hi = self.bounds(today)
        if value is not None and value < lo:
            return f"日期不能早于 {lo:%Y-%m-%d}"
        if value is not None and value > hi:
            return f"日期不能晚于 {hi:%Y-%m-%d}"
        return f"日期应在 {lo:%Y-%m-%d} 至 {hi:%Y-%m-%d} 之间"


# Work of the platform (activities, service records, campaigns, audits, policies, reports): not before 2000.
BUSINESS_DATES = DateRange(date(2000, 1, 1), 5)
# Dates of a life or an organization's history (founded, registered, awarded, trained).
LIFETIME_DATES = DateRange(date(1900, 1, 1), 10)

_ISO_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


def parse_date(value, allowed: DateRange = BUSINESS_DATES, today: date | None = None) -> date | None:
    """A YYYY-MM-DD date within `allowed`, or None (junk, 2026-02-30, 0001-01-01, 9999-12-31)."""
    if isinstance(value, date):
        d = value
    else:
        m = _ISO_DATE_RE.fullmatch(compact_code(value if value is not None else ""))
        if not m:
            return None
        try:
            d = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    lo, hi = allowed.bounds(today)
    return d if lo <= d <= hi else None
