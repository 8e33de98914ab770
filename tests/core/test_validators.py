"""Tests for core.validators (no Flask app, no conftest fixtures needed)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from wtforms import Form, StringField
from wtforms import validators as wtf_validators

from core.validators import (
    CreditCode,
    IdNumber,
    IdNumberInfo,
    Phone,
    ValidationError,
    credit_code_check_char,
    format_period,
    id_check_char,
    mask_id_number,
    mask_phone,
    parse_id_number,
    parse_period,
    validate_credit_code,
    validate_phone,
)

TODAY = date(2026, 5, 20)

# ---------------------------------------------------------------------------
# Independent reference implementations (written from the standards, not
# sharing any table with the module under test).
# ---------------------------------------------------------------------------


def ref_id_check(first17: str) -> str:
    # GB 11643-1999: W_i = 2^(i-1) mod 11 counted from the right (i = 18..2).
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    return {0: "1", 1: "0", 2: "X"}.get(total % 11, str(12 - total % 11))


REF_CC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def ref_cc_check(first17: str) -> str:
    # GB 32100-2015: W_i = 3^(i-1) mod 31.
    total = sum(REF_CC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return REF_CC_ALPHABET[(31 - total % 31) % 31]


PROVINCES = [
    *range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47),
    *range(50, 55), *range(61, 66), 71, 81, 82, 83,
]


def build_id(region: str, birth: date, seq: str) -> str:
    first17 = f"{region}{birth:%Y%m%d}{seq}"
    return first17 + ref_id_check(first17)


def err(fn, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as info:
        fn(*args, **kwargs)
    assert isinstance(info.value, ValueError)
    assert str(info.value) == info.value.message
    return info.value.message


# ---------------------------------------------------------------------------
# Reference implementations agree with the published weights
# ---------------------------------------------------------------------------


def test_reference_weights_match_standard_tables():
    assert [2 ** (17 - i) % 11 for i in range(17)] == [
        7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2
    ]
    assert [pow(3, i, 31) for i in range(17)] == [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
    ]


# ---------------------------------------------------------------------------
# ID numbers: known vectors
# ---------------------------------------------------------------------------


def test_published_sample_female_1949():
    assert ref_id_check("11010519491231002") == "X"
    assert id_check_char("11010519491231002") == "X"
    info = parse_id_number("11010519491231002X", today=TODAY)
    assert info == IdNumberInfo(
        number="11010519491231002X",
        birth_date=date(1949, 12, 31),
        sex="女",
        region_code="110105",
    )


def test_lowercase_x_and_whitespace_are_normalised():
    info = parse_id_number("  11010519491231002x\t", today=TODAY)
    assert info.number == "11010519491231002X"


def test_sample_born_1880_has_valid_check_but_rejected_birth_date():
    # Check character is correct, so the failure must be the birth-date rule.
    assert ref_id_check("44052418800101001") == "4"
    assert id_check_char("44052418800101001") == "4"
    assert err(parse_id_number, "440524188001010014", today=TODAY) == "身份证号中的出生日期无效"


def test_constructed_male_vector():
    number = build_id("440802", date(1990, 3, 7), "123")  # 3 is odd -> 男
    info = parse_id_number(number, today=TODAY)
    assert info.sex == "男"
    assert info.birth_date == date(1990, 3, 7)
    assert info.region_code == "440802"


def test_constructed_vector_with_x_check_char():
    # Search deterministically for a number whose check char is X.
    for seq in range(1000):
        number = build_id("320102", date(2000, 1, 1), f"{seq:03d}")
        if number.endswith("X"):
            break
    else:  # pragma: no cover
        pytest.fail("no X vector found")
    assert parse_id_number(number.lower(), today=TODAY).number == number


def test_boundary_birth_dates():
    assert parse_id_number(build_id("110101", date(1900, 1, 1), "001"), today=TODAY)
    assert parse_id_number(build_id("110101", TODAY, "001"), today=TODAY)
    tomorrow = TODAY + timedelta(days=1)
    assert err(parse_id_number, build_id("110101", tomorrow, "001"), today=TODAY) == (
        "身份证号中的出生日期无效"
    )
    assert err(parse_id_number, build_id("110101", date(1899, 12, 31), "001"), today=TODAY) == (
        "身份证号中的出生日期无效"
    )


def test_default_today_rejects_far_future():
    assert err(parse_id_number, build_id("110101", date(2999, 1, 1), "001")) == (
        "身份证号中的出生日期无效"
    )


@pytest.mark.parametrize("ymd", ["19990230", "20010229", "19901301", "19900001", "19900100"])
def test_impossible_birth_dates(ymd):
    first17 = f"110101{ymd}001"
    number = first17 + ref_id_check(first17)
    assert err(parse_id_number, number, today=TODAY) == "身份证号中的出生日期无效"


def test_leap_day_birth_is_valid():
    info = parse_id_number(build_id("110101", date(2000, 2, 29), "002"), today=TODAY)
    assert info.birth_date == date(2000, 2, 29)
    assert info.sex == "女"


@pytest.mark.parametrize("value", ["", "   ", None])
def test_id_empty(value):
    assert err(parse_id_number, value) == "请填写身份证号"


@pytest.mark.parametrize(
    "value",
    [
        "11010519491231002",  # 17 chars
        "11010519491231002XX",  # 19 chars
        "1101051949123100211X",  # 20 chars
        "1101051949123100X2",  # X not last
        "11010519491231002Y",
        "A1010519491231002X",
        "110105 19491231002X",
        "110105194912310",  # old 15-digit format
    ],
)
def test_id_bad_format(value):
    assert err(parse_id_number, value, today=TODAY) == "身份证号应为18位，最后一位可以是数字或X"


@pytest.mark.parametrize("prefix", ["00", "10", "16", "20", "24", "30", "38", "40", "47", "55",
                                    "60", "66", "70", "72", "80", "84", "91", "99"])
def test_id_bad_region(prefix):
    number = build_id(prefix + "0101", date(1990, 1, 1), "001")
    assert err(parse_id_number, number, today=TODAY) == "身份证号前两位地区码无效"


@pytest.mark.parametrize("prefix", [f"{p:02d}" for p in PROVINCES])
def test_id_all_listed_regions_accepted(prefix):
    number = build_id(prefix + "0101", date(1990, 1, 1), "001")
    assert parse_id_number(number, today=TODAY).region_code == prefix + "0101"


def test_id_wrong_check_char():
    assert err(parse_id_number, "110105194912310021", today=TODAY) == "身份证号校验位不正确"
    assert err(parse_id_number, "11010519491231002 X", today=TODAY) == (
        "身份证号应为18位，最后一位可以是数字或X"
    )
    # Same body as the 1880 sample but born 1980: check char 4 is now wrong.
    assert ref_id_check("44052419800101001") != "4"
    assert err(parse_id_number, "440524198001010014", today=TODAY) == "身份证号校验位不正确"


def test_id_region_checked_before_birth_and_check():
    # Bad region AND bad date AND bad check char -> region message.
    assert err(parse_id_number, "990101199913450000", today=TODAY) == "身份证号前两位地区码无效"
    # Bad date AND bad check char -> date message.
    number = build_id("110101", date(1990, 1, 1), "001")
    bad = number[:10] + "13" + number[12:17] + ("0" if number[17] != "0" else "1")
    assert err(parse_id_number, bad, today=TODAY) == "身份证号中的出生日期无效"


def test_id_check_char_rejects_bad_input():
    for bad in ["1234", "1101051949123100X", "110105194912310021", 12345678901234567]:
        with pytest.raises(ValueError):
            id_check_char(bad)


def test_age_on():
    info = parse_id_number(build_id("110101", date(1990, 6, 15), "001"), today=TODAY)
    assert info.age_on(date(2026, 6, 14)) == 35
    assert info.age_on(date(2026, 6, 15)) == 36
    assert info.age_on(date(1990, 6, 15)) == 0
    with pytest.raises(ValueError):
        info.age_on(date(1990, 6, 14))
    leap = parse_id_number(build_id("110101", date(2000, 2, 29), "001"), today=TODAY)
    assert leap.age_on(date(2001, 2, 28)) == 0
    assert leap.age_on(date(2001, 3, 1)) == 1
    assert leap.age_on(date(2004, 2, 29)) == 4


def test_info_is_frozen():
    info = parse_id_number("11010519491231002X", today=TODAY)
    with pytest.raises(AttributeError):
        info.sex = "男"  # type: ignore[misc]


# ---------------------------------------------------------------------------
# ID masking
# ---------------------------------------------------------------------------


def test_mask_id_number():
    assert mask_id_number("440802199003071234") == "4408**************"
    assert mask_id_number("11010519491231002x") == "1101**************"
    assert mask_id_number("12345") == "*****"
    assert mask_id_number("110105491231002") == "*" * 15
    assert mask_id_number("") == ""
    assert mask_id_number(None) == ""


# ---------------------------------------------------------------------------
# ID property-based tests
# ---------------------------------------------------------------------------

region_codes = st.builds(
    lambda p, rest: f"{p:02d}{rest:04d}",
    st.sampled_from(PROVINCES),
    st.integers(0, 9999),
)
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sequences = st.integers(0, 999).map(lambda n: f"{n:03d}")


@given(region=region_codes, birth=birth_dates, seq=sequences)
def test_valid_ids_round_trip(region, birth, seq):
    number = build_id(region, birth, seq)
    assert id_check_char(number[:17]) == number[17]
    info = parse_id_number(number, today=TODAY)
    assert info.number == number
    assert info.birth_date == birth
    assert info.region_code == region
    assert info.sex == ("男" if int(seq[2]) % 2 else "女")
    # Lowercase x accepted and normalised.
    assert parse_id_number(number.lower(), today=TODAY) == info


@given(
    region=region_codes,
    birth=birth_dates,
    seq=sequences,
    wrong=st.sampled_from("0123456789X"),
)
def test_wrong_id_check_char_always_fails(region, birth, seq, wrong):
    number = build_id(region, birth, seq)
    assume(wrong != number[17])
    bad = number[:17] + wrong
    assert err(parse_id_number, bad, today=TODAY) == "身份证号校验位不正确"


@given(region=region_codes, birth=birth_dates, seq=sequences, pos=st.integers(0, 16),
       delta=st.integers(1, 9))
def test_single_digit_error_in_body_is_detected(region, birth, seq, pos, delta):
    number = build_id(region, birth, seq)
    digit = str((int(number[pos]) + delta) % 10)
    bad = number[:pos] + digit + number[pos + 1:]
    with pytest.raises(ValidationError):
        parse_id_number(bad, today=TODAY)


@given(region=region_codes, birth=birth_dates, seq=sequences)
def test_mask_never_reveals_middle(region, birth, seq):
    number = build_id(region, birth, seq)
    masked = mask_id_number(number)
    assert len(masked) == 18
    assert masked[4:] == "*" * 14  # region tail, birth date, sequence and check character hidden
    assert masked[:4] == number[:4]


# ---------------------------------------------------------------------------
# Credit codes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
def test_real_credit_codes(code):
    # Verified independently before being used as positive vectors.
    assert ref_cc_check(code[:17]) == code[17]
    assert credit_code_check_char(code[:17]) == code[17]
    assert validate_credit_code(code) == code
    assert validate_credit_code(f"  {code.lower()} ") == code


@pytest.mark.parametrize("value", ["", "  ", None])
def test_credit_empty(value):
    assert err(validate_credit_code, value) == "请填写统一社会信用代码"


@pytest.mark.parametrize("value", ["91350100M000100Y4", "91350100M000100Y433", "9135"])
def test_credit_length(value):
    assert err(validate_credit_code, value) == "统一社会信用代码应为18位"


@pytest.mark.parametrize("bad_char", list("IOZSV") + ["-", "中", " "])
def test_credit_invalid_chars(bad_char):
    code = "91350100M000100Y43"
    value = code[:5] + bad_char + code[6:]
    assert err(validate_credit_code, value) == "统一社会信用代码含有无效字符（不使用 I、O、Z、S、V）"


def test_credit_invalid_chars_lowercase_normalised_before_check():
    # "i" upper-cases to "I", which is not in the alphabet.
    assert err(validate_credit_code, "91350100i000100Y43") == (
        "统一社会信用代码含有无效字符（不使用 I、O、Z、S、V）"
    )


def test_credit_wrong_check():
    assert err(validate_credit_code, "91350100M000100Y44") == "统一社会信用代码校验位不正确"
    assert err(validate_credit_code, "91110000600037341K") == "统一社会信用代码校验位不正确"


def test_credit_check_char_zero_case():
    # Find a prefix whose sum is a multiple of 31 -> check char "0", not "31".
    for n in range(10000):
        first17 = f"9111000060003{n:04d}"
        if ref_cc_check(first17) == "0":
            break
    else:  # pragma: no cover
        pytest.fail("no zero-check vector found")
    assert credit_code_check_char(first17) == "0"
    assert validate_credit_code(first17 + "0") == first17 + "0"


def test_credit_check_char_rejects_bad_input():
    for bad in ["123", "91350100M000100Y4I", "91350100m000100Y4"]:
        with pytest.raises(ValueError):
            credit_code_check_char(bad)


credit_bodies = st.text(alphabet=REF_CC_ALPHABET, min_size=17, max_size=17)


@given(body=credit_bodies)
def test_credit_codes_with_correct_check_validate(body):
    code = body + ref_cc_check(body)
    assert credit_code_check_char(body) == code[17]
    assert validate_credit_code(code) == code
    assert validate_credit_code(code.lower()) == code


@given(body=credit_bodies, wrong=st.sampled_from(REF_CC_ALPHABET))
def test_credit_codes_with_wrong_check_fail(body, wrong):
    assume(wrong != ref_cc_check(body))
    assert err(validate_credit_code, body + wrong) == "统一社会信用代码校验位不正确"


# ---------------------------------------------------------------------------
# Phones
# ---------------------------------------------------------------------------

PHONE_INVALID = "请输入有效的手机号（11位）或固定电话（如 0759-1234567）"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "13812345678"),
        (" 19912345678 ", "19912345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+86-138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("86 13812345678", "13812345678"),
        ("0759-1234567", "0759-1234567"),
        ("07591234567", "0759-1234567"),
        ("0759 1234567", "0759-1234567"),
        ("0755-12345678", "0755-12345678"),
        ("075512345678", "0755-12345678"),
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("0101234567", "010-1234567"),
        ("02112345678", "021-12345678"),
        ("020-1234567", "020-1234567"),
        ("0759-1234567-123", "0759-1234567-123"),
        ("0759-1234567转123", "0759-1234567-123"),
        ("07591234567转8", "0759-1234567-8"),
        ("0759-1234567 转 123", "0759-1234567-123"),
    ],
)
def test_valid_phones(value, expected):
    assert validate_phone(value) == expected


@pytest.mark.parametrize("value", ["", "   ", None])
def test_phone_empty(value):
    assert err(validate_phone, value) == "请填写联系电话"


@pytest.mark.parametrize(
    "value",
    [
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "12812345678",  # second digit 2
        "10812345678",
        "23812345678",
        "+8713812345678",
        "+86 0759-1234567",
        "abc",
        "138abcd5678",
        "0759-123456",  # local too short
        "0759-123456789",  # local too long
        "759-1234567",  # no trunk 0
        "0011-1234567",  # 00 is international
        "0138-12345678",  # 01x other than 010 does not exist
        "0759-1234567-",  # empty extension
        "0759-1234567-1234567",  # extension too long
        "0759-1234567ext123",
        "１３８１２３４５６７８",  # full-width digits
        "0759--1234567",
    ],
)
def test_invalid_phones(value):
    assert err(validate_phone, value) == PHONE_INVALID


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812341234", "138****1234"),
        ("+86 138 1234 5678", "138****5678"),
        ("0759-1234567", "0759-*****67"),
        ("07591234567", "0759-*****67"),
        ("010-12345678", "010-******78"),
        ("0759-1234567转123", "0759-*****67-***"),
        ("", ""),
        (None, ""),
        ("12345", "*****"),
    ],
)
def test_mask_phone(value, expected):
    assert mask_phone(value) == expected


@given(st.integers(3, 9), st.integers(0, 10**9 - 1))
def test_mobile_property(second, rest):
    number = f"1{second}{rest:09d}"
    assert validate_phone(number) == number
    assert validate_phone(f"+86 {number[:3]}-{number[3:7]}-{number[7:]}") == number
    masked = mask_phone(number)
    assert masked == number[:3] + "****" + number[7:]
    assert masked[3:7] == "****"


# ---------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------

PERIOD_MSG = "期间格式应为 YYYY-MM（如 2026-05）"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2026-05", (2026, 5)), ("2000-01", (2000, 1)), ("2100-12", (2100, 12)), (" 2026-10 ", (2026, 10))],
)
def test_parse_period(value, expected):
    assert parse_period(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "2026-5", "2026-13", "2026-00", "1999-12", "2101-01", "2026/05", "202605",
     "26-05", "2026-05-01", "abcd-ef", None, "２０２６-０５"],
)
def test_parse_period_invalid(value):
    assert err(parse_period, value) == PERIOD_MSG


def test_format_period():
    assert format_period(2026, 5) == "2026-05"
    assert format_period(2100, 12) == "2100-12"
    with pytest.raises(ValueError):
        format_period(2026, 13)
    with pytest.raises(ValueError):
        format_period(1999, 1)


@given(st.integers(2000, 2100), st.integers(1, 12))
def test_period_round_trip(year, month):
    assert parse_period(format_period(year, month)) == (year, month)


# ---------------------------------------------------------------------------
# WTForms adapters
# ---------------------------------------------------------------------------


class _DummyForm(Form):
    id_number = StringField(validators=[IdNumber()])
    credit = StringField(validators=[CreditCode()])
    phone = StringField(validators=[Phone()])
    phone_opt = StringField(validators=[Phone(optional=True)])


def _form(**data):
    base = {
        "id_number": "11010519491231002x",
        "credit": " 91110000600037341l ",
        "phone": "+86 138 1234 5678",
        "phone_opt": "",
    }
    base.update(data)
    return _DummyForm(data=base)


def test_wtforms_success_normalises():
    form = _form()
    assert form.validate(), form.errors
    assert form.id_number.data == "11010519491231002X"
    assert form.credit.data == "91110000600037341L"
    assert form.phone.data == "13812345678"
    assert form.phone_opt.data == ""
    assert form.data["phone"] == "13812345678"


def test_wtforms_optional_phone_normalises_when_given():
    form = _form(phone_opt="0759 1234567")
    assert form.validate(), form.errors
    assert form.phone_opt.data == "0759-1234567"


def test_wtforms_errors_are_chinese_messages():
    form = _form(id_number="110105194912310021", credit="", phone="123", phone_opt="abc")
    assert not form.validate()
    assert form.errors == {
        "id_number": ["身份证号校验位不正确"],
        "credit": ["请填写统一社会信用代码"],
        "phone": [PHONE_INVALID],
        "phone_opt": [PHONE_INVALID],
    }
    # Invalid data is left untouched.
    assert form.phone.data == "123"


def test_wtforms_required_phone_empty():
    form = _form(phone="")
    assert not form.validate()
    assert form.errors == {"phone": ["请填写联系电话"]}


def test_wtforms_validators_raise_wtforms_error():
    class F(Form):
        x = StringField()

    form = F(data={"x": "bad"})
    for validator in (IdNumber(), CreditCode(), Phone()):
        with pytest.raises(wtf_validators.ValidationError):
            validator(form, form.x)
