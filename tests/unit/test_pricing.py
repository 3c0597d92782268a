"""Prices of one conversion: models, CPS rounding, payout rules and their precedence, validation."""

from __future__ import annotations

import ast
from fractions import Fraction
from itertools import permutations
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.offers import pricing
from exchange.offers.pricing import (
    BPS_WHOLE,
    CPA,
    CPL,
    CPS,
    MAX_AMOUNT_MINOR,
    MAX_RULES,
    ChosenTerms,
    PayoutRule,
    Price,
    PriceTerms,
    PricingError,
    PricingFacts,
    choose_terms,
    custom_payout_problems,
    price_for,
    rule_list_problems,
    rules_from_dicts,
    terms_problems,
)

BASE = PriceTerms.fixed(CPL, 1000, 700)
LEAD = PricingFacts(webmaster_id=7, country="DE", temperature="hot")


def rule(rate: int, payout: int, **keys) -> PayoutRule:
    return PayoutRule(PriceTerms.fixed(CPL, rate, payout), **keys)


def in_both_orders(first: PayoutRule, second: PayoutRule) -> list[list[PayoutRule]]:
    """Precedence by keys must not depend on position."""
    return [[first, second], [second, first]]


# -- price_for: each model ------------------------------------------------------------------------


def test_cpl_pays_its_fixed_rate_and_payout():
    price = price_for(PriceTerms.fixed(CPL, 1500, 1200))
    assert (price.rate_minor, price.payout_minor, price.margin_minor) == (1500, 1200, 300)


def test_cpa_pays_its_fixed_amounts_whatever_amount_the_postback_reports():
    terms = PriceTerms.fixed(CPA, 800, 600)
    assert price_for(terms) == price_for(terms, 123_456) == Price(800, 600)


def test_fixed_cps_pays_its_fixed_amounts_for_any_sale():
    terms = PriceTerms.fixed(CPS, 2500, 2000)
    assert price_for(terms, 1) == price_for(terms, 999_999) == Price(2500, 2000)


def test_percentage_cps_pays_a_share_of_the_sale():
    price = price_for(PriceTerms.percentage(rate_bps=1000, payout_bps=700), 50_000)
    assert (price.rate_minor, price.payout_minor, price.margin_minor) == (5000, 3500, 1500)


def test_a_zero_price_can_be_represented():
    assert price_for(PriceTerms.fixed(CPL, 0, 0)) == Price(0, 0)
    assert price_for(PriceTerms.percentage(1000, 500), 0) == Price(0, 0)


def test_a_price_never_has_a_payout_above_its_rate():
    with pytest.raises(ValueError):
        Price(rate_minor=100, payout_minor=101)
    with pytest.raises(ValueError):
        Price(rate_minor=100, payout_minor=-1)


# -- percentage CPS rounding: rate half-up, payout down --------------------------------------------


@pytest.mark.parametrize(
    ("sale", "rate_bps", "payout_bps", "rate", "payout"),
    [
        # sale 1 at 99.99 %: 0.9999 rounds up to 1 for the rate, down to 0 for the payout
        (1, 9999, 9999, 1, 0),
        # exact half: 1 * 50 % = 0.5 -> rate 1 (half-up), payout 0 (floor)
        (1, 5000, 5000, 1, 0),
        # just below half: 0.4999 -> rate 0
        (1, 4999, 4999, 0, 0),
        # 5 * 50 % = 2.5: half-up gives 3 where banker's rounding would give 2; payout floors to 2
        (5, 5000, 5000, 3, 2),
        # 3 * 50 % = 1.5 -> 2; equal bps leave the platform one minor unit
        (3, 5000, 5000, 2, 1),
        # 2 * 25 % = 0.5 -> 1; 2 * 10 % = 0.2 -> 0
        (2, 2500, 1000, 1, 0),
        # 12345 * 15.5 % = 1913.475 -> 1913; 12345 * 10 % = 1234.5 -> 1234
        (12_345, 1550, 1000, 1913, 1234),
        # 100 % of the sale, exactly
        (10_000, 10_000, 10_000, 10_000, 10_000),
        # the largest sale: 10**12 * 99.99 % = 999_900_000_000 exactly
        (10**12, 9999, 9999, 999_900_000_000, 999_900_000_000),
        # (10**12 - 1) * 0.01 % = 99_999_999.9999
        (10**12 - 1, 1, 1, 100_000_000, 99_999_999),
        # (10**12 - 1) * 50 % = 499_999_999_999.5
        (10**12 - 1, 5000, 5000, 500_000_000_000, 499_999_999_999),
        # (10**12 - 1) * 33.33 % = 333_299_999_999.6667 and * 33.32 % = 333_199_999_999.6668
        (10**12 - 1, 3333, 3332, 333_300_000_000, 333_199_999_999),
    ],
)
def test_percentage_rounding_at_the_boundaries(sale, rate_bps, payout_bps, rate, payout):
    price = price_for(PriceTerms.percentage(rate_bps, payout_bps), sale)
    assert (price.rate_minor, price.payout_minor, price.margin_minor) == (rate, payout, rate - payout)


@given(
    sale=st.integers(0, MAX_AMOUNT_MINOR),
    bps=st.tuples(st.integers(0, BPS_WHOLE), st.integers(0, BPS_WHOLE)).map(sorted),
)
def test_percentage_payout_never_exceeds_the_rate(sale, bps):
    payout_bps, rate_bps = bps
    price = price_for(PriceTerms.percentage(rate_bps, payout_bps), sale)
    assert 0 <= price.payout_minor <= price.rate_minor
    assert price.rate_minor - price.payout_minor == price.margin_minor >= 0
    exact_rate = Fraction(sale * rate_bps, BPS_WHOLE)
    exact_payout = Fraction(sale * payout_bps, BPS_WHOLE)
    assert exact_rate - Fraction(1, 2) < price.rate_minor <= exact_rate + Fraction(1, 2)  # half-up
    assert price.payout_minor <= exact_payout < price.payout_minor + 1  # floor


@pytest.mark.parametrize("amount", [None, -1, 10**12 + 1, 100.0, True, "100"])
def test_percentage_cps_refuses_a_missing_or_bad_sale_amount(amount):
    with pytest.raises(PricingError, match="sale amount|sale_amount_minor"):
        price_for(PriceTerms.percentage(1000, 500), amount)


def test_fixed_cps_needs_the_sale_amount_too():
    with pytest.raises(PricingError, match="needs the sale amount"):
        price_for(PriceTerms.fixed(CPS, 2500, 2000), None)


def test_a_negative_amount_is_refused_for_every_model():
    with pytest.raises(PricingError, match="sale_amount_minor"):
        price_for(PriceTerms.fixed(CPA, 800, 600), -5)


def test_invalid_terms_price_nothing():
    with pytest.raises(PricingError, match="margin would be negative"):
        price_for(PriceTerms.fixed(CPL, 500, 600))


# -- terms_problems -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "terms",
    [
        PriceTerms.fixed(CPL, 1000, 700),
        PriceTerms.fixed(CPA, 1000, 1000),
        PriceTerms.fixed(CPS, 0, 0),
        PriceTerms.fixed(CPL, MAX_AMOUNT_MINOR, MAX_AMOUNT_MINOR),
        PriceTerms.percentage(BPS_WHOLE, BPS_WHOLE),
        PriceTerms.percentage(0, 0),
    ],
)
def test_good_terms_have_no_problems(terms):
    assert terms_problems(terms) == []


@pytest.mark.parametrize(
    ("terms", "problem"),
    [
        (PriceTerms("cpc", rate_minor=10, payout_minor=5), "model must be one of cpl, cpa, cps"),
        (PriceTerms.fixed(CPL, -1, 0), "rate_minor must be a whole number from 0"),
        (PriceTerms.fixed(CPL, 10, -1), "payout_minor must be a whole number from 0"),
        (PriceTerms.fixed(CPL, MAX_AMOUNT_MINOR + 1, 0), "rate_minor must be a whole number"),
        (PriceTerms.fixed(CPL, 10.0, 5), "rate_minor must be a whole number"),
        (PriceTerms.fixed(CPL, 10, True), "payout_minor must be a whole number"),
        (PriceTerms.fixed(CPL, 500, 501), "margin would be negative"),
        (PriceTerms.percentage(1000, 1001), "margin would be negative"),
        (PriceTerms.percentage(10_001, 0), "rate_bps must be a whole number from 0 to 10000"),
        (PriceTerms.percentage(1000, -1), "payout_bps must be a whole number"),
        (PriceTerms(CPL, rate_minor=100), "cpl needs rate_minor and payout_minor"),
        (PriceTerms(CPA, rate_bps=100, payout_bps=50), "cpa needs rate_minor and payout_minor"),
        (
            PriceTerms(CPL, 100, 50, rate_bps=100),
            "cpl needs rate_minor and payout_minor (fixed amounts, no bps)",
        ),
        (PriceTerms(CPS), "cps needs either"),
        (PriceTerms(CPS, rate_bps=1000), "cps needs either"),
        (PriceTerms(CPS, rate_minor=100, payout_bps=50), "cps needs either"),
        (PriceTerms(CPS, 100, 50, 1000, 500), "cps needs either"),
    ],
)
def test_bad_terms_are_reported(terms, problem):
    assert any(problem in found for found in terms_problems(terms)), terms_problems(terms)


# -- choose_terms: which rule prices a lead --------------------------------------------------------


def test_no_rule_prices_at_the_base_terms():
    assert choose_terms(BASE, [], LEAD) == ChosenTerms(
        BASE, rule_index=None, rule_id=None, custom_payout=False
    )


def test_rules_that_do_not_match_leave_the_base_terms():
    rules = [
        rule(2000, 1500, country="FR"),
        rule(2000, 1500, webmaster_id=8),
        rule(2000, 1500, temperature="cold"),
        rule(2000, 1500, country="DE", temperature="warm"),  # one key matches, the other does not
    ]
    assert choose_terms(BASE, rules, LEAD).terms == BASE


def test_a_rule_on_a_fact_the_lead_lacks_does_not_match():
    unknown_country = PricingFacts(webmaster_id=7, temperature="hot")
    assert choose_terms(BASE, [rule(2000, 1500, country="DE")], unknown_country).rule_index is None


def test_a_matching_rule_replaces_rate_and_payout_and_is_named():
    chosen = choose_terms(BASE, [rule(900, 600, country="FR"), rule(2000, 1500, country="DE", id="de")], LEAD)
    assert chosen.terms == PriceTerms.fixed(CPL, 2000, 1500)
    assert chosen.as_dict() == {"rule_index": 1, "rule_id": "de", "custom_payout": False}


@pytest.mark.parametrize(
    ("winner", "loser"),
    [
        ({"webmaster_id": 7}, {"country": "DE"}),
        ({"webmaster_id": 7}, {"temperature": "hot"}),
        ({"country": "DE"}, {"temperature": "hot"}),
        ({"webmaster_id": 7, "temperature": "hot"}, {"country": "DE", "temperature": "hot"}),
        ({"webmaster_id": 7, "country": "DE"}, {"webmaster_id": 7, "temperature": "hot"}),
        ({"webmaster_id": 7, "country": "DE"}, {"country": "DE", "temperature": "hot"}),
    ],
)
def test_between_as_many_keys_webmaster_beats_country_beats_temperature(winner, loser):
    for rules in in_both_orders(rule(2000, 1, id="win", **winner), rule(3000, 2, **loser)):
        assert choose_terms(BASE, rules, LEAD).rule_id == "win"


@pytest.mark.parametrize(
    ("winner", "loser"),
    [
        ({"country": "DE", "temperature": "hot"}, {"webmaster_id": 7}),
        ({"country": "DE", "temperature": "hot"}, {"country": "DE"}),
        ({"webmaster_id": 7, "temperature": "hot"}, {"webmaster_id": 7}),
        ({"webmaster_id": 7, "country": "DE", "temperature": "hot"}, {"webmaster_id": 7, "country": "DE"}),
    ],
)
def test_a_rule_with_more_matching_keys_wins(winner, loser):
    for rules in in_both_orders(rule(2000, 1, id="win", **winner), rule(3000, 2, **loser)):
        assert choose_terms(BASE, rules, LEAD).rule_id == "win"


def test_between_rules_with_the_same_keys_the_earlier_wins():
    rules = [rule(900, 600, country="FR"), rule(2000, 1500, country="DE"), rule(3000, 2000, country="DE")]
    chosen = choose_terms(BASE, rules, LEAD)
    assert (chosen.rule_index, chosen.terms.rate_minor) == (1, 2000)


def test_the_choice_does_not_depend_on_the_order_of_rules_with_different_keys():
    keys = [
        {"country": "DE"},
        {"temperature": "hot"},
        {"webmaster_id": 7},
        {"country": "DE", "temperature": "hot"},
        {"webmaster_id": 7, "temperature": "hot"},
    ]
    rules = [rule(2000 + n, 1000, id=n, **match) for n, match in enumerate(keys)]
    assert {choose_terms(BASE, order, LEAD).rule_id for order in permutations(rules)} == {4}


def test_a_rule_of_another_model_is_refused():
    cpa_rule = PayoutRule(PriceTerms.fixed(CPA, 2000, 1500), country="DE")
    with pytest.raises(PricingError, match="a cpa rule on a cpl offer"):
        choose_terms(BASE, [cpa_rule], LEAD)


def test_a_fixed_rule_may_price_a_percentage_cps_offer():
    rules = [PayoutRule(PriceTerms.fixed(CPS, 2000, 1500), country="DE")]
    chosen = choose_terms(PriceTerms.percentage(1000, 700), rules, LEAD)
    assert price_for(chosen.terms, 99_999) == Price(2000, 1500)


def test_an_invalid_chosen_rule_is_refused():
    with pytest.raises(PricingError, match="rule 0: payout is above the rate"):
        choose_terms(BASE, [rule(1000, 1001, country="DE")], LEAD)


def test_invalid_base_terms_are_refused():
    with pytest.raises(PricingError, match="margin would be negative"):
        choose_terms(PriceTerms.fixed(CPL, 100, 200), [], LEAD)


@pytest.mark.parametrize(
    "facts", [{"country": "de"}, {"country": "DEU"}, {"temperature": "boiling"}, {"temperature": "Hot"}]
)
def test_lead_facts_in_another_spelling_are_refused(facts):
    with pytest.raises(ValueError):
        PricingFacts(webmaster_id=7, **facts)


# -- custom payout --------------------------------------------------------------------------------


def test_a_custom_payout_replaces_the_base_payout_and_keeps_the_rate():
    chosen = choose_terms(BASE, [], LEAD, custom_payout_minor=850)
    assert chosen == ChosenTerms(PriceTerms.fixed(CPL, 1000, 850), custom_payout=True)
    assert price_for(chosen.terms).margin_minor == 150


def test_a_custom_payout_beats_a_rule_that_names_no_webmaster():
    rules = [rule(2000, 1500, country="DE", temperature="hot", id="de-hot")]
    chosen = choose_terms(BASE, rules, LEAD, custom_payout_minor=1800)
    assert chosen.terms == PriceTerms.fixed(CPL, 2000, 1800)  # the rule's rate, the custom payout
    assert chosen.as_dict() == {"rule_index": 0, "rule_id": "de-hot", "custom_payout": True}


def test_a_rule_naming_the_webmaster_beats_the_custom_payout():
    rules = [rule(2000, 1500, country="DE"), rule(1200, 1100, webmaster_id=7, id="wm7")]
    chosen = choose_terms(BASE, rules, LEAD, custom_payout_minor=900)
    assert chosen == ChosenTerms(PriceTerms.fixed(CPL, 1200, 1100), rule_index=1, rule_id="wm7")


def test_a_more_specific_rule_without_the_webmaster_takes_the_custom_payout():
    rules = [rule(1200, 1100, webmaster_id=7), rule(2000, 1500, country="DE", temperature="hot")]
    chosen = choose_terms(BASE, rules, LEAD, custom_payout_minor=1900)
    assert (chosen.rule_index, chosen.terms, chosen.custom_payout) == (
        1,
        PriceTerms.fixed(CPL, 2000, 1900),
        True,
    )


def test_a_custom_payout_equal_to_the_rate_is_allowed():
    assert price_for(choose_terms(BASE, [], LEAD, custom_payout_minor=1000).terms) == Price(1000, 1000)


def test_a_custom_payout_above_the_base_rate_is_refused_not_clamped():
    with pytest.raises(PricingError, match="custom payout of 1001 is above the rate of 1000"):
        choose_terms(BASE, [], LEAD, custom_payout_minor=1001)


def test_a_custom_payout_above_the_chosen_rules_rate_is_refused():
    with pytest.raises(PricingError, match="custom payout of 950 is above the rate of 900"):
        choose_terms(BASE, [rule(900, 600, country="DE")], LEAD, custom_payout_minor=950)


def test_a_percentage_custom_payout_replaces_the_payout_bps():
    base = PriceTerms.percentage(1000, 500)
    chosen = choose_terms(base, [], LEAD, custom_payout_bps=800)
    assert chosen.terms == PriceTerms.percentage(1000, 800)
    assert price_for(chosen.terms, 10_000) == Price(1000, 800)
    with pytest.raises(PricingError, match="800 bps is above the rate of 700 bps"):
        choose_terms(PriceTerms.percentage(700, 500), [], LEAD, custom_payout_bps=800)


@pytest.mark.parametrize(
    ("base", "custom"),
    [
        (PriceTerms.percentage(1000, 500), {"custom_payout_minor": 100}),
        (PriceTerms.fixed(CPS, 1000, 500), {"custom_payout_bps": 100}),
    ],
)
def test_a_custom_payout_in_the_other_unit_is_refused(base, custom):
    with pytest.raises(PricingError, match="needs the custom payout in"):
        choose_terms(base, [], LEAD, **custom)


def test_a_negative_custom_payout_is_refused():
    with pytest.raises(PricingError, match="custom payout must be a whole number"):
        choose_terms(BASE, [], LEAD, custom_payout_minor=-1)


def test_custom_payout_problems_checks_every_terms_it_can_meet():
    rules = [
        rule(900, 600, country="DE"),  # 950 is above this rate
        rule(500, 400, webmaster_id=7),  # overrides the custom payout: never combined
        rule(2000, 1000, temperature="hot"),
    ]
    assert custom_payout_problems(PriceTerms.fixed(CPL, 1000, 700), rules, custom_payout_minor=950) == [
        "rule 0: custom payout of 950 is above the rate of 900"
    ]
    assert custom_payout_problems(PriceTerms.fixed(CPL, 1000, 700), rules, custom_payout_minor=900) == []


def test_custom_payout_problems_reports_the_base_and_the_unit():
    base = PriceTerms.percentage(1000, 500)
    rules = [PayoutRule(PriceTerms.fixed(CPS, 300, 200), country="DE")]
    assert custom_payout_problems(base, rules, custom_payout_bps=1200) == [
        "the base terms: custom payout of 1200 bps is above the rate of 1000 bps",
        "rule 0: a fixed rate needs the custom payout in minor units, not in bps",
    ]
    assert custom_payout_problems(base, rules, custom_payout_minor=250, custom_payout_bps=900) == []


# -- rule_list_problems and the stored form --------------------------------------------------------

GOOD_RULES = [
    {"id": "de", "country": "DE", "rate_minor": 2000, "payout_minor": 1500},
    {"id": 2, "webmaster_id": 7, "temperature": "hot", "rate_minor": 1200, "payout_minor": 1200},
    {"country": "FR", "temperature": "cold", "rate_minor": 0, "payout_minor": 0},
]


def test_good_rules_have_no_problems_and_round_trip():
    assert rule_list_problems(GOOD_RULES, CPL) == []
    rules = rules_from_dicts(GOOD_RULES, CPL)
    assert rules[0] == PayoutRule(PriceTerms.fixed(CPL, 2000, 1500), country="DE", id="de")
    assert [r.as_dict() for r in rules] == GOOD_RULES


def test_percentage_rules_are_read_for_cps():
    stored = [{"country": "DE", "rate_bps": 1500, "payout_bps": 1000}]
    assert rules_from_dicts(stored, CPS) == (PayoutRule(PriceTerms.percentage(1500, 1000), country="DE"),)


@pytest.mark.parametrize(
    ("stored", "model", "problem"),
    [
        ({"country": "DE", "rate_minor": 10, "payout_minor": 5, "region": "x"}, CPL, "unknown keys 'region'"),
        ({"country": "de", "rate_minor": 10, "payout_minor": 5}, CPL, "country must be ISO 3166 alpha-2"),
        ({"country": "DEU", "rate_minor": 10, "payout_minor": 5}, CPL, "country must be ISO 3166 alpha-2"),
        ({"country": 49, "rate_minor": 10, "payout_minor": 5}, CPL, "country must be ISO 3166 alpha-2"),
        ({"country": "DE\n", "rate_minor": 10, "payout_minor": 5}, CPL, "country must be ISO 3166 alpha-2"),
        ({"temperature": "boiling", "rate_minor": 10, "payout_minor": 5}, CPL, "temperature must be one of"),
        ({"temperature": ["hot"], "rate_minor": 10, "payout_minor": 5}, CPL, "temperature must be one of"),
        ({"webmaster_id": 0, "rate_minor": 10, "payout_minor": 5}, CPL, "webmaster_id must be a user id"),
        ({"webmaster_id": "7", "rate_minor": 10, "payout_minor": 5}, CPL, "webmaster_id must be a user id"),
        ({"webmaster_id": True, "rate_minor": 10, "payout_minor": 5}, CPL, "webmaster_id must be a user id"),
        ({"id": "", "country": "DE", "rate_minor": 10, "payout_minor": 5}, CPL, "id must be a positive"),
        (
            {"rate_minor": 10, "payout_minor": 5},
            CPL,
            "needs at least one of webmaster_id, country, temperature",
        ),
        ({"country": "DE", "rate_minor": 10, "payout_minor": 11}, CPL, "margin would be negative"),
        ({"country": "DE", "rate_bps": 1000, "payout_bps": 1001}, CPS, "margin would be negative"),
        ({"country": "DE", "rate_minor": -10, "payout_minor": -20}, CPL, "rate_minor must be a whole number"),
        ({"country": "DE", "rate_bps": 10_001, "payout_bps": 0}, CPS, "rate_bps must be a whole number"),
        (
            {"country": "DE", "rate_bps": 1000, "payout_bps": 500},
            CPA,
            "cpa needs rate_minor and payout_minor",
        ),
        ({"country": "DE", "rate_minor": 10}, CPL, "cpl needs rate_minor and payout_minor"),
        ({"country": "DE"}, CPS, "cps needs either"),
        ("DE", CPL, "an object with keys among"),
    ],
)
def test_bad_rules_are_reported(stored, model, problem):
    found = rule_list_problems([GOOD_RULES[0], stored], model)
    assert any(f.startswith("rule 1: ") and problem in f for f in found), found


def test_rules_with_identical_match_keys_are_duplicates():
    stored = [*GOOD_RULES, {"temperature": "hot", "webmaster_id": 7, "rate_minor": 5, "payout_minor": 1}]
    assert rule_list_problems(stored, CPL) == ["rule 3: matches the same leads as rule 1"]


def test_rules_with_overlapping_but_different_keys_are_not_duplicates():
    stored = [
        {"country": "DE", "rate_minor": 5, "payout_minor": 1},
        {"country": "DE", "temperature": "hot", "rate_minor": 5, "payout_minor": 1},
    ]
    assert rule_list_problems(stored, CPL) == []


def test_two_rules_may_not_share_an_id():
    stored = [*GOOD_RULES, {"id": "de", "country": "AT", "rate_minor": 5, "payout_minor": 1}]
    assert rule_list_problems(stored, CPL) == ["rule 3: id 'de' is taken by rule 0"]


def test_a_rule_list_is_bounded():
    stored = [{"webmaster_id": n + 1, "rate_minor": 5, "payout_minor": 1} for n in range(MAX_RULES + 1)]
    assert rule_list_problems(stored[:MAX_RULES], CPL) == []
    assert rule_list_problems(stored, CPL) == [f"at most {MAX_RULES} rules"]


def test_rules_for_an_unknown_model_are_refused():
    assert rule_list_problems(GOOD_RULES, "cpc") == ["model must be one of cpl, cpa, cps"]


def test_rules_from_dicts_refuses_bad_rules_with_every_problem():
    stored = [{"country": "de", "rate_minor": 5, "payout_minor": 6}]
    with pytest.raises(PricingError) as error:
        rules_from_dicts(stored, CPL)
    assert error.value.problems == [
        "rule 0: country must be ISO 3166 alpha-2, upper case",
        "rule 0: payout is above the rate: the margin would be negative",
    ]


def test_the_module_is_pure():
    """DESIGN §3: payout arithmetic imports neither the framework nor the rest of the project."""
    tree = ast.parse(Path(pricing.__file__).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported <= {"__future__", "collections", "dataclasses", "re"}, imported
