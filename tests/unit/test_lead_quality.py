"""Lead quality (DESIGN §4, issue 4): normalisation, fraud signals, scoring and bands, each a pure
function tested at its boundaries."""

from __future__ import annotations

import pytest

from exchange.leads.checks import (
    FLAG,
    REJECT,
    SCORE,
    Finding,
    LeadFacts,
    check_click,
    check_click_too_fast,
    check_country,
    check_email,
    check_ip_velocity,
    check_phone,
    check_user_agent,
    evaluate,
    field_errors,
    rejection_codes,
)
from exchange.leads.normalise import (
    PHONE_IMPOSSIBLE,
    PHONE_UNCONFIRMED,
    PHONE_VALID,
    analyse_email,
    analyse_phone,
    is_disposable_domain,
    trim_fields,
    trim_text,
)
from exchange.leads.patterns import pattern_problem
from exchange.leads.scoring import (
    assess,
    check_min_temperature,
    click_to_lead_part,
    fields_part,
    history_part,
    phone_type_part,
    score_of,
    temperature_of,
)

SPECS = [
    {"name": "name", "type": "string", "required": True},
    {"name": "phone", "type": "phone", "required": True},
    {"name": "email", "type": "email", "required": True},
    {"name": "country", "type": "country", "required": True},
]
FIELDS = {"name": "Ann Lee", "phone": "+1 202 555 0101", "email": "ann@example.com", "country": "US"}
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


def facts(**overrides) -> LeadFacts:
    values = {
        "fields": dict(FIELDS),
        "field_specs": SPECS,
        "offer_status": "active",
        "allowed_countries": ["US", "CA"],
        "country": "US",
        "phone": analyse_phone(FIELDS["phone"], "US"),
        "email": analyse_email(FIELDS["email"]),
        "user_agent": BROWSER,
        "min_click_to_lead_seconds": 3,
        "max_leads_per_ip_per_hour": 5,
        "attribution_window_seconds": 86400,
    }
    values.update(overrides)
    return LeadFacts(**values)


def points(findings: list[Finding]) -> dict[str, int]:
    return {f.code: f.points for f in findings}


# -- normalisation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "region", "e164", "country"),
    [
        ("(202) 555-0101", "US", "+12025550101", "US"),
        ("020 7946 0958", "GB", "+442079460958", "GB"),
        ("07400 123456", "GB", "+447400123456", "GB"),
        ("+44 20 7946 0958", "US", "+442079460958", "GB"),  # an explicit code beats the default region
        ("030 1234567", "de", "+49301234567", "DE"),  # the region in any case
    ],
)
def test_phones_read_in_the_default_region_normalise_to_e164(written, region, e164, country):
    phone = analyse_phone(written, region)
    assert (phone.verdict, phone.e164, phone.region) == (PHONE_VALID, e164, country)


@pytest.mark.parametrize(
    ("written", "line"),
    [
        ("+44 7400 123456", "mobile"),
        ("+44 20 7946 0958", "fixed_line"),
        ("+1 202 555 0101", "fixed_or_mobile"),  # North America does not tell them apart
        ("+44 56 1234 5678", "voip"),
        ("+1 800 253 0000", "toll_free"),
    ],
)
def test_the_phones_line_type_is_known(written, line):
    assert analyse_phone(written).type == line


def test_a_number_of_the_wrong_length_is_impossible():
    phone = analyse_phone("202 555", "US")
    assert (phone.verdict, phone.e164) == (PHONE_IMPOSSIBLE, None)


def test_a_possible_number_in_no_range_in_use_is_unconfirmed_with_its_e164():
    phone = analyse_phone("+1 555 010 0001")  # 555 is not an area code in use
    assert (phone.verdict, phone.e164, phone.type) == (PHONE_UNCONFIRMED, "+15550100001", None)


def test_a_local_number_with_no_country_to_read_it_in_is_unconfirmed():
    phone = analyse_phone("020 7946 0958", None)
    assert phone.verdict == PHONE_UNCONFIRMED
    assert "no country" in phone.problem


def test_text_that_is_no_number_is_impossible():
    assert analyse_phone("call me", "US").verdict == PHONE_IMPOSSIBLE


def test_email_validator_normalises_the_domain_without_any_network_look_up():
    email = analyse_email("  Ann.Lee@Example.COM ")
    # example.com has no mail server; with deliverability checks off that does not matter
    assert (email.normalized, email.domain, email.disposable) == ("Ann.Lee@example.com", "example.com", False)


@pytest.mark.parametrize("address", ["ann@", "ann@localhost", "ann@example.test", "ann..lee@example.com"])
def test_email_validator_refuses_what_cannot_be_delivered_anywhere(address):
    email = analyse_email(address)
    assert email.normalized is None
    assert email.problem


@pytest.mark.parametrize(
    "domain", ["mailinator.com", "MAILINATOR.COM", "eu.mailinator.com", "guerrillamail.com"]
)
def test_disposable_domains_come_from_the_package_subdomains_included(domain):
    assert is_disposable_domain(domain)


@pytest.mark.parametrize("domain", ["example.com", "gmail.com", "com"])
def test_ordinary_domains_are_not_disposable(domain):
    assert not is_disposable_domain(domain)


def test_names_are_trimmed_and_inner_spaces_made_one():
    assert trim_text("  Ann \t  Lee \n") == "Ann Lee"
    assert trim_text(42) == 42


def test_only_string_fields_are_trimmed():
    trimmed = trim_fields(SPECS, {"name": "  Ann  ", "phone": " +1 202 555 0101 ", "extra": " x "})
    assert trimmed == {"name": "Ann", "phone": " +1 202 555 0101 ", "extra": " x "}


# -- the offer's field patterns and choices ------------------------------------------------------


@pytest.mark.parametrize("pattern", ["[A-Z]{2}[0-9]{4}", "(?:ab)+c", "yes|no", "[a-z-]+"])
def test_simple_patterns_are_allowed(pattern):
    assert pattern_problem(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("(", "not a valid regular expression"),
        ("", "may not be empty"),
        ("x" * 201, "at most 200"),
        ("(a+)+$", "nested quantifiers"),
        ("((ab)*c)*", "nested quantifiers"),
        (r"(\d)\1", "back-references"),
    ],
)
def test_patterns_that_do_not_compile_are_too_long_or_can_backtrack_for_ever_are_refused(pattern, problem):
    assert problem in pattern_problem(pattern)


def test_a_pattern_of_200_characters_is_allowed():
    assert pattern_problem("x" * 200) is None


def test_a_pattern_must_match_the_whole_value():
    specs = [{"name": "zip", "type": "string", "pattern": "[0-9]{5}"}]
    assert field_errors(specs, {"zip": "12345"}) == {}
    assert field_errors(specs, {"zip": "123456"}) == {"zip": ["Does not match the offer's pattern."]}
    assert "zip" in field_errors(specs, {"zip": "x12345"})


def test_choices_allow_only_their_values():
    specs = [
        {"name": "roof", "type": "string", "choices": ["flat", "pitched"]},
        {"name": "floors", "type": "integer", "choices": [1, 2, 3]},
    ]
    assert field_errors(specs, {"roof": "flat", "floors": 3}) == {}
    errors = field_errors(specs, {"roof": "dome", "floors": 4})
    assert errors == {"roof": ["Must be one of: flat, pitched."], "floors": ["Must be one of: 1, 2, 3."]}


# -- the fraud and contact checks ----------------------------------------------------------------


def test_a_clean_lead_has_no_findings():
    assert evaluate(facts(seconds_since_click=60.0, ip_leads_last_hour=1)) == []


def test_an_impossible_phone_rejects_and_an_unconfirmed_one_flags():
    [impossible] = check_phone(facts(phone=analyse_phone("202 555", "US")))
    [unconfirmed] = check_phone(facts(phone=analyse_phone("+1 555 010 0001")))
    assert (impossible.code, impossible.severity) == ("invalid_phone", REJECT)
    assert (unconfirmed.code, unconfirmed.severity, unconfirmed.points) == ("invalid_phone", FLAG, -25)
    assert check_phone(facts(phone=None)) == []


def test_an_invalid_email_rejects():
    [finding] = check_email(facts(email=analyse_email("ann@localhost")))
    assert (finding.code, finding.severity) == ("invalid_email", REJECT)


def test_a_disposable_email_rejects():
    [finding] = check_email(facts(email=analyse_email("ann@mailinator.com")))
    assert (finding.code, finding.severity) == ("disposable_email", REJECT)
    assert "mailinator.com" in finding.detail


def test_a_phone_of_a_country_the_offer_does_not_take_is_a_geo_mismatch():
    [finding] = check_country(facts(phone=analyse_phone("+44 7400 123456")))
    assert (finding.code, finding.severity) == ("geo_mismatch", REJECT)
    assert "phone of GB" in finding.detail
    assert check_country(facts(phone=analyse_phone("+1 204 555 0101"))) == []  # Manitoba: CA, allowed
    assert check_country(facts(allowed_countries=[], phone=analyse_phone("+44 7400 123456"))) == []


def test_a_phone_whose_country_is_unknown_is_no_geo_mismatch():
    assert check_country(facts(phone=analyse_phone("+1 555 010 0001"))) == []


@pytest.mark.parametrize(("elapsed", "flagged"), [(2.0, True), (2.9, True), (3.0, False), (4.0, False)])
def test_click_too_fast_flags_below_the_threshold_only(elapsed, flagged):
    findings = check_click_too_fast(facts(seconds_since_click=elapsed))
    assert [(f.code, f.severity, f.points) for f in findings] == (
        [("click_too_fast", FLAG, -40)] if flagged else []
    )


def test_click_too_fast_is_off_at_zero_and_without_a_click():
    assert check_click_too_fast(facts(seconds_since_click=0.0, min_click_to_lead_seconds=0)) == []
    assert check_click_too_fast(facts(seconds_since_click=None)) == []


def test_click_too_fast_does_not_apply_to_reported_conversions():
    assert check_click_too_fast(facts(seconds_since_click=0.0, is_conversion=True)) == []


@pytest.mark.parametrize(("elapsed", "expired"), [(86399.0, False), (86400.0, False), (86401.0, True)])
def test_a_click_older_than_the_attribution_window_is_expired(elapsed, expired):
    findings = check_click(facts(seconds_since_click=elapsed))
    assert [(f.code, f.severity) for f in findings] == ([("click_expired", REJECT)] if expired else [])


def test_an_attribution_window_of_zero_never_expires_a_click():
    assert check_click(facts(seconds_since_click=10.0**9, attribution_window_seconds=0)) == []


def test_a_click_id_of_another_webmaster_or_offer_rejects_as_click_not_found():
    [finding] = check_click(facts(click_mismatch="the click id is of offer 9 and webmaster 4"))
    assert (finding.code, finding.severity) == ("click_not_found", REJECT)
    assert "offer 9" in finding.detail


@pytest.mark.parametrize(("count", "flagged"), [(4, False), (5, False), (6, True)])
def test_ip_velocity_flags_leads_past_the_hourly_limit(count, flagged):
    findings = check_ip_velocity(facts(ip_leads_last_hour=count))
    assert [(f.code, f.severity, f.points) for f in findings] == (
        [("ip_velocity", FLAG, -30)] if flagged else []
    )


def test_ip_velocity_is_off_at_zero():
    assert check_ip_velocity(facts(ip_leads_last_hour=1000, max_leads_per_ip_per_hour=0)) == []


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0 Safari/537.36",
        "SomeCrawler/1.0",
        "Scrapy/2.11 (+https://scrapy.org)",
        "python-scraper bot/0.1",
    ],
)
def test_a_bots_user_agent_rejects(agent):
    [finding] = check_user_agent(facts(user_agent=agent))
    assert (finding.code, finding.severity) == ("bot_user_agent", REJECT)


@pytest.mark.parametrize("agent", [None, "", "   "])
def test_no_user_agent_flags(agent):
    [finding] = check_user_agent(facts(user_agent=agent))
    assert (finding.code, finding.severity, finding.points) == ("bot_user_agent", FLAG, -20)


def test_an_http_library_is_a_bot_on_the_click_but_not_as_the_webmasters_server():
    assert check_user_agent(facts(user_agent="python-requests/2.32.3")) == []
    [finding] = check_user_agent(facts(user_agent="curl/8.5.0", user_agent_from_click=True))
    assert finding.severity == REJECT


@pytest.mark.parametrize(
    "agent", [BROWSER, "Mozilla/5.0 (Linux; Android 14; Cubot X30) Mobile Safari/537.36"]
)
def test_browsers_pass(agent):
    assert check_user_agent(facts(user_agent=agent, user_agent_from_click=True)) == []


def test_flags_do_not_reject():
    findings = evaluate(facts(seconds_since_click=1.0, ip_leads_last_hour=9, user_agent=""))
    assert {f.code for f in findings} == {"click_too_fast", "ip_velocity", "bot_user_agent"}
    assert rejection_codes(findings) == []


# -- scoring -------------------------------------------------------------------------------------


def test_field_completeness_gives_its_share_of_20_points():
    specs = [*SPECS, {"name": "note", "type": "string"}]
    assert fields_part(facts(field_specs=specs)).points == 16  # 4 of 5
    assert fields_part(facts(field_specs=specs, fields=dict(FIELDS, note="call after 6"))).points == 20
    assert fields_part(facts(field_specs=specs, fields=dict(FIELDS, note=""))).points == 16


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (None, 10),
        (0.0, 5),
        (9.0, 5),
        (10.0, 25),
        (3599.0, 25),
        (3600.0, 15),
        (86399.0, 15),
        (86400.0, 5),
    ],
)
def test_click_to_lead_points_by_band(elapsed, expected):
    assert click_to_lead_part(facts(seconds_since_click=elapsed)).points == expected


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("+44 7400 123456", 25),
        ("+1 202 555 0101", 20),
        ("+44 20 7946 0958", 15),
        ("+44 56 1234 5678", 5),
        ("+1 800 253 0000", 0),
        ("+1 555 010 0001", 0),
    ],
)
def test_phone_type_points(phone, expected):
    part = phone_type_part(facts(phone=analyse_phone(phone)))
    assert (part.code, part.severity, part.points) == ("phone_type", SCORE, expected)


def test_an_offer_without_a_phone_field_scores_the_phone_as_unknown():
    assert phone_type_part(facts(phone=None)).points == 10


@pytest.mark.parametrize(
    ("decided", "approved", "expected"),
    [(0, 0, 15), (4, 4, 15), (5, 5, 30), (5, 0, 0), (10, 7, 21), (3, 1, 15)],
)
def test_source_history_needs_five_decided_leads_then_pays_its_approval_rate(decided, approved, expected):
    assert history_part(facts(source_decided=decided, source_approved=approved)).points == expected


@pytest.mark.parametrize(
    ("score", "band"), [(0, "cold"), (39, "cold"), (40, "warm"), (69, "warm"), (70, "hot"), (100, "hot")]
)
def test_bands(score, band):
    assert temperature_of(score) == band


def test_the_score_is_the_sum_of_the_points_held_within_0_and_100():
    assert score_of([Finding("a", SCORE, points=60), Finding("b", SCORE, points=30)]) == 90
    assert score_of([Finding("a", SCORE, points=90), Finding("b", SCORE, points=30)]) == 100
    assert score_of([Finding("a", SCORE, points=10), Finding("b", FLAG, points=-40)]) == 0


@pytest.mark.parametrize(
    ("temperature", "minimum", "rejected"),
    [
        ("cold", None, False),
        ("cold", "cold", False),
        ("cold", "warm", True),
        ("warm", "warm", False),
        ("warm", "hot", True),
        ("hot", "hot", False),
    ],
)
def test_the_minimum_temperature_rejects_colder_leads(temperature, minimum, rejected):
    findings = check_min_temperature(temperature, minimum)
    assert [(f.code, f.severity) for f in findings] == (
        [("below_min_temperature", REJECT)] if rejected else []
    )


def test_assess_stores_the_breakdown_and_bands_the_sum():
    lead = facts(seconds_since_click=60.0, source_decided=10, source_approved=10)
    assessment = assess(lead, evaluate(lead))
    assert points(assessment.findings) == {
        "fields_complete": 20,
        "click_to_lead": 25,
        "phone_type": 20,
        "source_history": 30,
    }
    assert (assessment.score, assessment.temperature) == (95, "hot")
    assert all(item["severity"] == SCORE for item in assessment.stored_findings)


def test_flags_cost_their_points_and_can_make_a_lead_too_cold_for_the_offer():
    lead = facts(seconds_since_click=1.0)  # 20 + 5 + 20 + 15 - 40
    assessment = assess(lead, evaluate(lead), min_temperature="warm")
    assert (assessment.score, assessment.temperature) == (20, "cold")
    assert rejection_codes(assessment.findings) == ["below_min_temperature"]


def test_a_lead_without_a_click_from_an_unknown_source_is_warm():
    assessment = assess(facts(), [])
    assert (assessment.score, assessment.temperature) == (65, "warm")


def test_reported_conversions_are_not_scored():
    conversion = facts(fields={}, field_specs=[], phone=None, email=None, is_conversion=True)
    assessment = assess(conversion, evaluate(conversion), min_temperature="hot")
    assert (assessment.findings, assessment.score, assessment.temperature) == ([], None, None)


def test_every_phone_type_fits_the_leads_column():
    from exchange.leads.models import Lead
    from exchange.leads.normalise import PHONE_TYPES

    assert max(map(len, PHONE_TYPES.values())) <= Lead.__table__.c.phone_type.type.length
