"""Unified social credit codes (GB 32100-2015): real codes pass, typos are caught and explained."""
import pytest

from custody.creditcode import (
    InvalidCreditCode,
    credit_code_check_character,
    credit_code_problem,
    parse_credit_code,
)

# Publicly listed codes; each check character was recomputed and matches the published one.
REAL_CODES = [
    pytest.param("91350100M000100Y43", id="gb-32100-2015-example"),
    pytest.param("914403001922038216", id="huawei-technologies"),  # Wikipedia infobox, 华为技术有限公司
    pytest.param("91110108551385082Q", id="xiaomi-technology"),  # 小米科技有限责任公司
    pytest.param("91440300708461136T", id="tencent-shenzhen"),  # a Tencent company in Shenzhen
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_a_real_code_passes_and_its_check_character_is_recomputed(code):
    assert parse_credit_code(code) == code
    assert credit_code_check_character(code[:17]) == code[17]
    assert credit_code_problem(code) is None


@pytest.mark.parametrize(
    "text, code",
    [
        pytest.param("91350100m000100y43", "91350100M000100Y43", id="lower-case"),
        pytest.param("９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43", id="full-width"),
        pytest.param(" 9135 0100 M000 100Y 43\n", "91350100M000100Y43", id="spaces"),
        pytest.param("\u3000914403001922038216\u3000", "914403001922038216", id="ideographic-space"),
    ],
)
def test_a_code_is_normalised_to_upper_case_ascii_without_spaces(text, code):
    assert parse_credit_code(text) == code


@pytest.mark.parametrize(
    "text, message",
    [
        pytest.param("", "empty credit code", id="empty"),
        pytest.param("91350100M000100Y44", "check character should be 3, got 4", id="wrong-check"),
        pytest.param("914403001922038217", "check character should be 6, got 7", id="wrong-check-huawei"),
        pytest.param("91110108551385082P", "check character should be Q, got P", id="wrong-check-letter"),
        pytest.param("91350100M000100Y4", "must be 18 characters, got 17", id="too-short"),
        pytest.param("91350100M000100Y433", "must be 18 characters, got 19", id="too-long"),
        pytest.param("9135I100M000100Y43", "character 'I' at position 5 is not allowed", id="letter-i"),
        pytest.param("91350100O000100Y43", "character 'O' at position 9 is not allowed", id="letter-o"),
        pytest.param("91350100M000100Z43", "character 'Z' at position 16 is not allowed", id="letter-z"),
        pytest.param("9135010-M000100Y43", "character '-' at position 8 is not allowed", id="hyphen"),
    ],
)
def test_an_invalid_code_is_rejected_saying_what_is_wrong(text, message):
    with pytest.raises(InvalidCreditCode) as caught:
        parse_credit_code(text)
    assert message in str(caught.value)
    assert credit_code_problem(text) == str(caught.value)


@pytest.mark.parametrize(
    "first17, message",
    [
        pytest.param("91350100M000100Y", "need the first 17 characters, got 16", id="too-short"),
        pytest.param("91350100M000100S4", "character 'S' at position 16 is not allowed", id="bad-character"),
    ],
)
def test_the_check_character_needs_seventeen_valid_characters(first17, message):
    with pytest.raises(InvalidCreditCode, match=message):
        credit_code_check_character(first17)


def test_every_single_character_typo_is_caught():
    # The weights are powers of 3 mod 31 and 31 is prime, so changing any one character changes the sum.
    code = "91350100M000100Y43"
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    typos = [code[:i] + char + code[i + 1 :] for i in range(18) for char in alphabet if char != code[i]]
    assert all(credit_code_problem(typo) for typo in typos)
