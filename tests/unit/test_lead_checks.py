"""Validation checks (DESIGN §4, "Validation and scoring"): pure functions of a lead's facts."""

from __future__ import annotations

import pytest

from exchange.leads.checks import (
    FLAG,
    REJECT,
    Finding,
    LeadFacts,
    check_country,
    check_duplicate,
    check_offer_active,
    check_schema,
    evaluate,
    field_errors,
    lead_fields_schema,
    normalise_email,
    normalise_phone,
    rejection_codes,
)

SPECS = [
    {"name": "email", "type": "email", "required": True},
    {"name": "phone", "type": "phone", "required": True},
    {"name": "name", "type": "string"},
    {"name": "age", "type": "integer"},
    {"name": "country", "type": "country"},
    {"name": "consent", "type": "boolean"},
]
GOOD_FIELDS = {"email": "ann@example.com", "phone": "+44 20 7946 0958", "name": "Ann", "country": "GB"}


def facts(**overrides) -> LeadFacts:
    values = {
        "fields": dict(GOOD_FIELDS),
        "field_specs": SPECS,
        "offer_status": "active",
        "allowed_countries": ["GB", "IE"],
        "country": "GB",
        "earlier_duplicates": 0,
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
    }
    values.update(overrides)
    return LeadFacts(**values)


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


# -- each check on its own ---------------------------------------------------------------------


def test_a_clean_lead_has_no_findings():
    assert evaluate(facts()) == []


def test_check_offer_active_passes_an_active_offer():
    assert check_offer_active(facts(offer_status="active")) == []


@pytest.mark.parametrize("status", ["paused", "archived", ""])
def test_check_offer_active_rejects_any_other_status(status):
    [finding] = check_offer_active(facts(offer_status=status))
    assert finding.code == "offer_paused"
    assert finding.severity == REJECT
    assert f"offer is {status}" in finding.detail


def test_check_schema_passes_valid_fields():
    assert check_schema(facts()) == []


def test_check_schema_rejects_invalid_fields_and_names_them():
    bad = dict(GOOD_FIELDS, email="not-an-email", age="12")
    [finding] = check_schema(facts(fields=bad))
    assert finding.code == "schema_invalid"
    assert finding.severity == REJECT
    assert "email:" in finding.detail
    assert "age:" in finding.detail
    assert "phone" not in finding.detail  # the valid field is not blamed


def test_check_duplicate_passes_a_first_lead():
    assert check_duplicate(facts(earlier_duplicates=0)) == []


@pytest.mark.parametrize("count", [1, 3])
def test_check_duplicate_rejects_when_earlier_leads_exist(count):
    [finding] = check_duplicate(facts(earlier_duplicates=count))
    assert finding.code == "duplicate"
    assert finding.severity == REJECT
    assert finding.detail.startswith(f"{count} earlier")


def test_check_country_passes_an_allowed_country():
    assert check_country(facts(country="IE")) == []


def test_check_country_compares_case_insensitively():
    assert check_country(facts(country="gb")) == []


def test_check_country_accepts_any_country_when_the_offer_has_no_list():
    assert check_country(facts(allowed_countries=[], country="US")) == []
    assert check_country(facts(allowed_countries=[], country=None)) == []


def test_check_country_rejects_a_country_outside_the_list():
    [finding] = check_country(facts(country="US"))
    assert finding.code == "geo_mismatch"
    assert finding.severity == REJECT
    assert "US" in finding.detail
    assert "GB, IE" in finding.detail


def test_check_country_rejects_an_unknown_country_when_the_offer_is_limited():
    [finding] = check_country(facts(country=None))
    assert finding.code == "geo_mismatch"
    assert "unknown" in finding.detail


def test_evaluate_collects_the_findings_of_every_check():
    findings = evaluate(
        facts(
            offer_status="paused",
            fields=dict(GOOD_FIELDS, email="nope"),
            earlier_duplicates=2,
            country="US",
        )
    )
    assert sorted(codes(findings)) == ["duplicate", "geo_mismatch", "offer_paused", "schema_invalid"]
    assert all(f.severity == REJECT for f in findings)


def test_rejection_codes_are_sorted_unique_and_ignore_flags():
    findings = [
        Finding("geo_mismatch", REJECT),
        Finding("duplicate", REJECT),
        Finding("ip_velocity", FLAG, points=10),
        Finding("duplicate", REJECT, "again"),
    ]
    assert rejection_codes(findings) == ["duplicate", "geo_mismatch"]


def test_rejection_codes_of_flags_only_is_empty():
    assert rejection_codes([Finding("click_too_fast", FLAG, points=5)]) == []


def test_finding_as_dict_keeps_every_part():
    assert Finding("duplicate", REJECT, "1 earlier lead(s)", 7).as_dict() == {
        "code": "duplicate",
        "severity": REJECT,
        "detail": "1 earlier lead(s)",
        "points": 7,
    }


# -- the offer's field list as a schema --------------------------------------------------------


def test_valid_fields_have_no_errors():
    full = dict(GOOD_FIELDS, age=30, consent=True)
    assert field_errors(SPECS, full) == {}


def test_optional_fields_may_be_left_out():
    assert field_errors(SPECS, {"email": "ann@example.com", "phone": "+353 1 234 5678"}) == {}


def test_a_missing_required_field_is_an_error():
    errors = field_errors(SPECS, {"phone": "+44 20 7946 0958"})
    assert list(errors) == ["email"]


def test_every_missing_required_field_is_reported():
    assert sorted(field_errors(SPECS, {})) == ["email", "phone"]


def test_an_unknown_extra_key_is_rejected():
    errors = field_errors(SPECS, dict(GOOD_FIELDS, favourite_colour="blue"))
    assert list(errors) == ["favourite_colour"]


@pytest.mark.parametrize("value", ["30", 30.0, 30.5, True, None, [30]])
def test_integer_fields_are_strict(value):
    assert "age" in field_errors(SPECS, dict(GOOD_FIELDS, age=value))


@pytest.mark.parametrize("value", [0, -4, 10**6])
def test_integer_fields_accept_integers(value):
    assert field_errors(SPECS, dict(GOOD_FIELDS, age=value)) == {}


@pytest.mark.parametrize(
    "value", ["ann", "ann@", "@example.com", "ann@@example.com", "ann example@x.com", 12]
)
def test_email_fields_refuse_what_is_not_an_address(value):
    assert "email" in field_errors(SPECS, dict(GOOD_FIELDS, email=value))


@pytest.mark.parametrize("value", ["ann@example.com", "Ann.Lee+leads@Example.CO.UK"])
def test_email_fields_accept_addresses(value):
    assert field_errors(SPECS, dict(GOOD_FIELDS, email=value)) == {}


def test_email_fields_are_limited_to_254_characters():
    # a 64-character local part and 63-character labels: well-formed, so only the length decides
    local = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "."
    fits = local + "d" * 56 + ".com"
    too_long = local + "d" * 60 + ".com"
    assert (len(fits), len(too_long)) == (253, 257)
    assert field_errors(SPECS, dict(GOOD_FIELDS, email=fits)) == {}
    assert field_errors(SPECS, dict(GOOD_FIELDS, email=too_long)) == {
        "email": ["Longer than maximum length 254."]
    }


@pytest.mark.parametrize(
    "value", ["+44 20 7946 0958", "020 7946 0958", "+1 (555) 123-4567", "555.123.4567", "1234567"]
)
def test_phone_fields_accept_phone_numbers(value):
    assert field_errors(SPECS, dict(GOOD_FIELDS, phone=value)) == {}


@pytest.mark.parametrize(
    "value",
    [
        "call me",
        "123456",  # 6 characters: below the 7 the pattern asks for
        "+" + "1" * 21,  # over 20 after the plus
        "+44 20 7946 0958 ext 2",
        "++44 20 7946 0958",
    ],
)
def test_phone_fields_refuse_what_the_pattern_does_not_allow(value):
    assert field_errors(SPECS, dict(GOOD_FIELDS, phone=value)) == {"phone": ["Not a phone number."]}


@pytest.mark.parametrize("value", ["-------", "+( ) ( ) ( )"])
def test_phone_fields_refuse_values_without_a_single_digit(value):
    # "Not a phone number." is the pattern's own verdict; a value with no digit at all is not one, and
    # normalise_phone turns it into None, so such a lead would also escape the phone duplicate check.
    assert normalise_phone(value) is None
    assert field_errors(SPECS, dict(GOOD_FIELDS, phone=value)) == {"phone": ["Not a phone number."]}


@pytest.mark.parametrize(("name", "value"), [("phone", "+44 20 7946 0958\n"), ("country", "GB\n")])
def test_patterns_refuse_a_trailing_line_break(name, value):
    # The patterns are anchored with ^...$ to mean "the whole value"; a country of "GB\n" is three
    # characters and does not fit the leads.country column (String(2)).
    assert name in field_errors(SPECS, dict(GOOD_FIELDS, **{name: value}))


@pytest.mark.parametrize("value", ["GB", "ie"])
def test_country_fields_accept_two_letters(value):
    assert field_errors(SPECS, dict(GOOD_FIELDS, country=value)) == {}


@pytest.mark.parametrize("value", ["G", "GBR", "G1", "12", "", "Ü1"])
def test_country_fields_refuse_anything_but_two_letters(value):
    assert field_errors(SPECS, dict(GOOD_FIELDS, country=value)) == {
        "country": ["A two-letter country code."]
    }


def test_string_fields_are_limited_to_500_characters():
    assert field_errors(SPECS, dict(GOOD_FIELDS, name="x" * 500)) == {}
    assert "name" in field_errors(SPECS, dict(GOOD_FIELDS, name="x" * 501))


@pytest.mark.parametrize("value", ["maybe", 2, None])
def test_boolean_fields_refuse_non_booleans(value):
    assert "consent" in field_errors(SPECS, dict(GOOD_FIELDS, consent=value))


def test_lead_fields_schema_marks_required_fields():
    schema = lead_fields_schema(SPECS)
    assert schema.fields["email"].required is True
    assert schema.fields["name"].required is False
    assert set(schema.fields) == {spec["name"] for spec in SPECS}


def test_lead_fields_schema_loads_valid_values_unchanged():
    loaded = lead_fields_schema(SPECS).load(dict(GOOD_FIELDS, age=41))
    assert loaded == dict(GOOD_FIELDS, age=41)


# -- normalisation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ann@Example.COM", "ann@example.com"),
        ("  ann@example.com \n", "ann@example.com"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_normalise_email(value, expected):
    assert normalise_email(value) == expected


def test_normalised_emails_of_the_same_address_are_equal():
    assert normalise_email(" ANN@example.com") == normalise_email("ann@EXAMPLE.com ")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("  +1 (555) 123-4567 ", "+15551234567"),
        ("020 7946 0958", "02079460958"),
        ("555.123.4567", "5551234567"),
        (5551234567, "5551234567"),
        ("no digits", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_phone(value, expected):
    assert normalise_phone(value) == expected


def test_normalise_phone_keeps_the_plus_only_when_it_leads():
    assert normalise_phone("44+20") == "4420"


def test_a_required_string_field_refuses_an_empty_value_but_an_optional_one_accepts_it():
    specs = [{"name": "name", "type": "string", "required": True}, {"name": "note", "type": "string"}]
    assert "name" in field_errors(specs, {"name": "", "note": ""})
    assert field_errors(specs, {"name": "Ann", "note": ""}) == {}


@pytest.mark.parametrize(
    "written",
    ["+1 202 555 0101", "(202) 555-0101", "1 202 555 0101", "202.555.0101", "+1-202-555-0101"],
)
def test_one_us_number_written_five_ways_normalises_to_one_e164_key(written):
    assert normalise_phone(written, "US") == "+12025550101"


def test_the_leads_country_is_the_region_for_numbers_without_a_country_code():
    assert normalise_phone("020 7946 0958", "GB") == "+442079460958"
    assert normalise_phone("+44 20 7946 0958", "US") == "+442079460958"  # an explicit code wins


def test_a_number_that_does_not_parse_keeps_its_digits_so_it_still_matches_itself():
    assert normalise_phone("12", None) == "12"
    assert normalise_phone("12", None) == normalise_phone(" 12 ", None)


def test_every_reason_code_a_lead_can_carry_is_in_the_documented_list():
    from exchange.leads.normalise import analyse_email, analyse_phone
    from exchange.leads.reasons import REASONS
    from exchange.leads.scoring import assess

    rejecting = LeadFacts(
        fields={"phone": "x"},
        field_specs=SPECS,
        offer_status="paused",
        allowed_countries=["US"],
        country="FR",
        earlier_duplicates=1,
        full_cap="daily_cap",
        payout_minor=0,
        phone=analyse_phone("12", "US"),
        email=analyse_email("ann@"),
        user_agent="Googlebot/2.1",
        click_mismatch="the click id is of offer 2 and webmaster 3",
    )
    flagging = facts(
        phone=analyse_phone("+1 555 010 0001"),
        email=analyse_email("ann@mailinator.com"),
        user_agent="",
        seconds_since_click=0.0,
        min_click_to_lead_seconds=3,
        attribution_window_seconds=60,
        ip_leads_last_hour=6,
        max_leads_per_ip_per_hour=5,
    )
    expired = facts(seconds_since_click=61.0, attribution_window_seconds=60)
    findings = evaluate(rejecting) + evaluate(flagging) + evaluate(expired)
    cold = assess(flagging, evaluate(flagging), "hot").findings
    decided_by_people = {"advertiser_rejected", "fraud_review_rejected", "webmaster_banned"}
    produced = {f.code for f in findings + cold if f.severity != "score"} | decided_by_people
    assert produced == set(REASONS)
