"""Patent application numbers (ZC 0006-2003): every spelling seen in exports reads as one canonical number,
and every unrecoverable one is rejected with a message that says what is wrong."""
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custody.appno import (
    ApplicationNumber,
    InvalidApplicationNumber,
    application_number_problem,
    check_character,
    filing_date_problem,
    parse_application_number,
)
from custody.domain import PatentType

# The valid examples listed in the rules (section 10 of cnipa-annual-fees.md).
RULES_EXAMPLES = [
    "201710601862.3",
    "200710308494.X",
    "201310699744.2",
    "95115608.X",
    "97101765.4",
    "90101673.X",
]

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def spellings(canonical: str) -> dict[str, str]:
    """The ways exports and people write `canonical`, keyed by a short id."""
    digits, check = canonical.split(".")
    return {
        "canonical": canonical,
        "zl": f"ZL{canonical}",
        "zl-lower": f"zl{canonical.lower()}",
        "cn-no-dot": f"CN{digits}{check}",
        "cn-dot": f"CN{digits}.{check}",
        "no-dot": f"{digits}{check}",
        "full-width-dot": f"{digits.translate(FULL_WIDTH)}．{check.translate(FULL_WIDTH)}",
        "ideographic-full-stop": f"{digits.translate(FULL_WIDTH)}。{check}",
        "lower-x": canonical.lower(),
        "surrounding-whitespace": f"  \t{canonical}\n",
        "inner-spaces": f"ZL {digits[:4]} {digits[4:]} . {check}",
        "full-width-space": f"\u3000{canonical}\u3000",
    }


SPELLING_CASES = [
    pytest.param(text, canonical, id=f"{canonical}-{name}")
    for canonical in RULES_EXAMPLES
    for name, text in spellings(canonical).items()
]


@pytest.mark.parametrize("text, canonical", SPELLING_CASES)
def test_every_spelling_of_a_rules_example_reads_as_the_canonical_number(text, canonical):
    number = parse_application_number(text)
    assert str(number) == canonical
    assert number.check_supplied
    assert application_number_problem(text) is None


@pytest.mark.parametrize("canonical", RULES_EXAMPLES)
def test_check_character_of_each_rules_example_matches_the_printed_one(canonical):
    digits, check = canonical.split(".")
    assert check_character(digits) == check


@pytest.mark.parametrize(
    "text, canonical",
    [
        pytest.param("201710601862", "201710601862.3", id="new-form"),
        pytest.param("200710308494", "200710308494.X", id="new-form-x-lost-as-a-float"),
        pytest.param("ZL97101765", "97101765.4", id="old-form-with-prefix"),
        pytest.param("95115608", "95115608.X", id="old-form-x"),
    ],
)
def test_a_missing_check_character_is_computed_and_marked_as_not_supplied(text, canonical):
    number = parse_application_number(text)
    assert str(number) == canonical
    assert not number.check_supplied


@pytest.mark.parametrize(
    "text, patent_type, is_pct, year",
    [
        pytest.param("201710601862.3", PatentType.INVENTION, False, 2017, id="invention"),
        pytest.param("201310699744.2", PatentType.INVENTION, False, 2013, id="invention-2013"),
        pytest.param("202130012345.X", PatentType.DESIGN, False, 2021, id="design"),
        pytest.param("201880012345.5", PatentType.INVENTION, True, 2018, id="pct-invention"),
        pytest.param("201990012345.5", PatentType.UTILITY_MODEL, True, 2019, id="pct-utility-model"),
        pytest.param("200310000001.8", PatentType.INVENTION, False, 2003, id="first-new-form-year"),
        pytest.param("95115608.X", PatentType.INVENTION, False, 1995, id="old-form-1995"),
        pytest.param("97101765.4", PatentType.INVENTION, False, 1997, id="old-form-1997"),
        pytest.param("85100001.0", PatentType.INVENTION, False, 1985, id="old-form-first-year"),
        pytest.param("03100001.0", PatentType.INVENTION, False, 2003, id="old-form-2003"),
        pytest.param("98800123.3", PatentType.INVENTION, True, 1998, id="old-form-pct"),
    ],
)
def test_type_pct_and_year_come_from_the_digits(text, patent_type, is_pct, year):
    number = parse_application_number(text)
    assert (number.type, number.is_pct_national_phase, number.year) == (patent_type, is_pct, year)


def test_patent_number_is_zl_and_the_canonical_application_number():
    assert parse_application_number("CN2017106018623").patent_number == "ZL201710601862.3"
    assert parse_application_number("971017654").patent_number == "ZL97101765.4"


REJECTIONS = [
    pytest.param("", "empty application number", id="empty"),
    pytest.param("   ", "empty application number", id="only-whitespace"),
    pytest.param("ZL", "empty application number", id="only-prefix"),
    pytest.param("201710601862.7", "check digit should be 3, got 7", id="wrong-check"),
    pytest.param("200710308494.3", "check digit should be X, got 3", id="wrong-check-should-be-x"),
    pytest.param("97101765.5", "check digit should be 4, got 5", id="old-form-wrong-check"),
    pytest.param(
        "2017106018.6",
        "expected 12 digits and a check character (e.g. 201710601862.3), got 10 digits",
        id="too-few-digits",
    ),
    pytest.param("1984100001", "got 10 digits", id="ten-digits-no-dot"),
    pytest.param("20071030849X", "got 11 digits", id="eleven-digits-and-x"),
    pytest.param("2017106018623.3", "got 13 digits", id="check-written-twice"),
    pytest.param("201750601862.3", "type digit 5 is not a patent type (1, 2, 3, 8 or 9)", id="bad-type-digit"),
    pytest.param("97601765.4", "type digit 6 is not a patent type", id="old-form-bad-type-digit"),
    pytest.param("199910601862.3", "year 1999 is impossible", id="new-form-before-2003"),
    pytest.param("210110601862.3", "year 2101 is impossible", id="new-form-after-2100"),
    pytest.param("84100001.0", "year digits 84 are impossible", id="old-form-before-the-patent-law"),
    pytest.param("04100001.0", "year digits 04 are impossible", id="old-form-after-2003"),
    pytest.param("CN106123456A", "publication kind code A", id="publication-number-a"),
    pytest.param("CN206123456U", "publication kind code U", id="publication-number-u"),
    pytest.param("CN304123456S", "publication kind code S", id="publication-number-s"),
    pytest.param("201710601862.Y", "check character must be a digit or X, got 'Y'", id="letter-check"),
    pytest.param("201710601862.", "missing check character after the dot", id="dot-without-check"),
    pytest.param("201710601862.34", "expected one check character after the dot, got '34'", id="two-checks"),
    pytest.param("2017.10601862.3", "more than one dot", id="two-dots"),
    pytest.param("2017-10601862.3", "character '-' at position 5 is not a digit", id="hyphen"),
]


@pytest.mark.parametrize("text, message", REJECTIONS)
def test_an_unrecoverable_number_is_rejected_saying_what_is_wrong(text, message):
    with pytest.raises(InvalidApplicationNumber) as caught:
        parse_application_number(text)
    assert message in str(caught.value)
    assert application_number_problem(text) == str(caught.value)


def test_the_rejection_is_a_value_error():
    assert issubclass(InvalidApplicationNumber, ValueError)


def test_constructing_a_number_with_a_wrong_check_is_refused():
    with pytest.raises(InvalidApplicationNumber, match="check digit should be 3, got 4"):
        ApplicationNumber("201710601862", "4")


@pytest.mark.parametrize(
    "text, filed, is_possible",
    [
        pytest.param("201710601862.3", date(2017, 12, 31), True, id="same-year"),
        pytest.param("201880012345.5", date(2017, 6, 1), True, id="pct-entry-keeps-earlier-date"),
        pytest.param("201710601862.3", date(2018, 1, 1), False, id="later-year-impossible"),
    ],
)
def test_a_filing_date_may_precede_the_numbers_year_but_never_follow_it(text, filed, is_possible):
    assert (filing_date_problem(parse_application_number(text), filed) is None) == is_possible


new_form_digits = st.builds(
    lambda year, type_digit, serial: f"{year}{type_digit}{serial:07d}",
    st.integers(2003, 2100),
    st.sampled_from("12389"),
    st.integers(0, 9_999_999),
)


@given(digits=new_form_digits, wrong=st.sampled_from("0123456789X"))
def test_any_new_form_number_round_trips_and_a_wrong_check_names_the_right_one(digits, wrong):
    check = check_character(digits)
    assert str(parse_application_number(digits + check)) == f"{digits}.{check}"
    if wrong != check:
        with pytest.raises(InvalidApplicationNumber, match=f"should be {check}, got {wrong}"):
            parse_application_number(f"{digits}.{wrong}")
