"""What one conversion costs and earns: payment models, payout rules, rounding. Pure.

An offer prices its conversions by one of three models (DESIGN §1):

- ``cpl``: a fixed rate and payout per accepted lead;
- ``cpa``: a fixed rate and payout per action the advertiser reports;
- ``cps``: per reported sale, either fixed amounts or a share of the sale amount in
  basis points (``rate_bps``/``payout_bps``; 10000 bps = 100 %).

The advertiser pays the *rate*, the webmaster earns the *payout*, the platform keeps the
*margin* = rate - payout. Every amount is an integer in minor units (DESIGN §5); the
margin is never negative.

Rounding (percentage CPS), in integers only. With ``S`` the sale amount in minor units::

    rate   = (S * rate_bps + 5000) // 10000    the advertiser's rate: half-up to the minor unit
    payout = (S * payout_bps) // 10000         the webmaster's payout: down (floor)

Since ``S * payout_bps <= S * rate_bps`` whenever ``payout_bps <= rate_bps``, the floor of
the one can never exceed the rounded other, so ``payout <= rate`` for every sale: one rule
that can never make the margin negative. The fractions rounded away stay with the platform
(equal rate and payout bps can leave it one minor unit). Half-up, not banker's rounding, so
that an advertiser can check the rate with pencil and paper.

Which terms price a lead (``choose_terms``):

1. Among the payout rules whose every set key (``webmaster_id``, ``country``,
   ``temperature``) equals the lead's fact, the rule that sets the most keys wins. A
   country-and-temperature rule therefore beats a rule naming only the webmaster.
2. Between rules setting as many keys, precedence goes by key, in the fixed order
   webmaster_id > country > temperature: naming the webmaster beats not naming it; then
   naming the country beats not naming it.
3. Between rules with the very same keys (which ``rule_list_problems`` reports as
   duplicates), the earlier rule wins.
4. No rule matches: the offer's base terms.
5. A webmaster's custom payout (set on its participation) then replaces the payout of the
   terms so chosen, unless the chosen rule names that webmaster: such a rule was written for
   this webmaster and is the more deliberate statement. The custom payout never changes the
   rate and may never exceed it; that is an error, not a silent clamp.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CPL = "cpl"
CPA = "cpa"
CPS = "cps"
MODELS = (CPL, CPA, CPS)

BPS_WHOLE = 10_000  # 100 %
MAX_AMOUNT_MINOR = 10**12  # as exchange.bounds: ten billion in major units, far above any real price
MAX_ID = 2**31 - 1  # as exchange.bounds: integer primary keys
MAX_RULES = 500
MAX_RULE_ID_LENGTH = 64

TEMPERATURES = ("cold", "warm", "hot")
MATCH_KEYS = ("webmaster_id", "country", "temperature")  # in order of precedence
TERM_FIELDS = ("rate_minor", "payout_minor", "rate_bps", "payout_bps")
RULE_KEYS = ("id", *MATCH_KEYS, *TERM_FIELDS)
COUNTRY = re.compile(r"[A-Z]{2}")
_TERM_BOUNDS = (
    ("rate_minor", MAX_AMOUNT_MINOR),
    ("payout_minor", MAX_AMOUNT_MINOR),
    ("rate_bps", BPS_WHOLE),
    ("payout_bps", BPS_WHOLE),
)


class PricingError(ValueError):
    """Terms, rules or a sale amount that cannot price a conversion; ``problems`` says why."""

    code = "invalid_pricing"

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PriceTerms:
    """How an offer, or a payout rule, prices a conversion.

    Fixed terms set ``rate_minor`` and ``payout_minor``; percentage terms (CPS only) set
    ``rate_bps`` and ``payout_bps``. Nothing is checked on construction, so that terms
    built from input can be reported on: see ``terms_problems``.
    """

    model: str
    rate_minor: int | None = None
    payout_minor: int | None = None
    rate_bps: int | None = None
    payout_bps: int | None = None

    @classmethod
    def fixed(cls, model: str, rate_minor: int, payout_minor: int) -> PriceTerms:
        return cls(model, rate_minor=rate_minor, payout_minor=payout_minor)

    @classmethod
    def percentage(cls, rate_bps: int, payout_bps: int) -> PriceTerms:
        return cls(CPS, rate_bps=rate_bps, payout_bps=payout_bps)

    @property
    def is_percentage(self) -> bool:
        return self.rate_bps is not None or self.payout_bps is not None


@dataclass(frozen=True)
class Price:
    """The amounts of one conversion, in minor units. Zero is representable; whether a
    zero-priced conversion is accepted is the caller's decision."""

    rate_minor: int
    payout_minor: int

    def __post_init__(self) -> None:
        if not 0 <= self.payout_minor <= self.rate_minor:
            raise ValueError("a price needs 0 <= payout <= rate")

    @property
    def margin_minor(self) -> int:
        return self.rate_minor - self.payout_minor


@dataclass(frozen=True)
class PayoutRule:
    """Terms that replace the offer's for leads matching every key the rule sets."""

    terms: PriceTerms
    webmaster_id: int | None = None
    country: str | None = None  # ISO 3166 alpha-2, upper case
    temperature: str | None = None
    id: str | int | None = None  # the owner's name for the rule, recorded on the leads it prices

    @property
    def match_keys(self) -> tuple[str, ...]:
        return tuple(key for key in MATCH_KEYS if getattr(self, key) is not None)

    def matches(self, facts: PricingFacts) -> bool:
        return all(getattr(self, key) == getattr(facts, key) for key in self.match_keys)

    def as_dict(self) -> dict:
        """The stored form, which ``rules_from_dicts`` reads back."""
        values = {"id": self.id, **{key: getattr(self, key) for key in MATCH_KEYS}}
        values.update({name: getattr(self.terms, name) for name in TERM_FIELDS})
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class PricingFacts:
    """What is known about a lead when it is priced."""

    webmaster_id: int
    country: str | None = None
    temperature: str | None = None

    def __post_init__(self) -> None:
        # A fact in another spelling would silently match no rule and price at the base terms.
        if self.country is not None and not _is_country(self.country):
            raise ValueError("country must be ISO 3166 alpha-2, upper case")
        if self.temperature is not None and self.temperature not in TEMPERATURES:
            raise ValueError(f"temperature must be one of {', '.join(TEMPERATURES)}")


@dataclass(frozen=True)
class ChosenTerms:
    """The terms that price a lead, and why: the lead records ``as_dict()``."""

    terms: PriceTerms
    rule_index: int | None = None  # position in the offer's rule list; None: the base terms
    rule_id: str | int | None = None
    custom_payout: bool = False

    def as_dict(self) -> dict:
        return {"rule_index": self.rule_index, "rule_id": self.rule_id, "custom_payout": self.custom_payout}


# -- validation -----------------------------------------------------------------------------------


def terms_problems(terms: PriceTerms) -> list[str]:
    """Everything wrong with ``terms``; an empty list means they can price conversions."""
    if terms.model not in MODELS:
        return [f"model must be one of {', '.join(MODELS)}"]
    problems = [
        problem
        for name, bound in _TERM_BOUNDS
        if (problem := _bounded_int_problem(name, getattr(terms, name), bound))
    ]
    fixed = (terms.rate_minor, terms.payout_minor)
    bps = (terms.rate_bps, terms.payout_bps)
    is_fixed = _all_set(fixed) and _none_set(bps)
    if terms.model == CPS and not (is_fixed or _all_set(bps) and _none_set(fixed)):
        problems.append("cps needs either rate_minor and payout_minor, or rate_bps and payout_bps")
    elif terms.model != CPS and not is_fixed:
        problems.append(f"{terms.model} needs rate_minor and payout_minor (fixed amounts, no bps)")
    if not problems:
        rate, payout = fixed if is_fixed else bps
        if payout > rate:
            problems.append("payout is above the rate: the margin would be negative")
    return problems


def rule_list_problems(rules: Sequence[Mapping[str, object]], model: str) -> list[str]:
    """Everything wrong with an offer's payout rules in their stored form (a list of
    mappings with keys among ``RULE_KEYS``), for an offer of ``model``."""
    if model not in MODELS:
        return [f"model must be one of {', '.join(MODELS)}"]
    if len(rules) > MAX_RULES:
        return [f"at most {MAX_RULES} rules"]
    problems: list[str] = []
    first_by_keys: dict[tuple, int] = {}
    first_by_id: dict[str | int, int] = {}
    for index, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            problems.append(f"rule {index}: an object with keys among {', '.join(RULE_KEYS)}")
            continue
        unknown = sorted(str(key) for key in rule if key not in RULE_KEYS)
        if unknown:
            problems.append(f"rule {index}: unknown keys {', '.join(map(repr, unknown))}")
            continue
        key_problems = _match_problems(rule)
        terms = PriceTerms(model, **{name: rule.get(name) for name in TERM_FIELDS})
        problems.extend(f"rule {index}: {problem}" for problem in key_problems + terms_problems(terms))
        if key_problems:
            continue  # values that are not valid keys are not compared
        keys = tuple(rule.get(key) for key in MATCH_KEYS)
        if keys in first_by_keys:
            problems.append(f"rule {index}: matches the same leads as rule {first_by_keys[keys]}")
        first_by_keys.setdefault(keys, index)
        rule_id = rule.get("id")
        if rule_id is not None:
            if rule_id in first_by_id:
                problems.append(f"rule {index}: id {rule_id!r} is taken by rule {first_by_id[rule_id]}")
            first_by_id.setdefault(rule_id, index)
    return problems


def rules_from_dicts(rules: Sequence[Mapping[str, object]], model: str) -> tuple[PayoutRule, ...]:
    """Payout rules from their stored form; raises ``PricingError`` with every problem."""
    problems = rule_list_problems(rules, model)
    if problems:
        raise PricingError(problems)
    return tuple(
        PayoutRule(
            terms=PriceTerms(model, **{name: rule.get(name) for name in TERM_FIELDS}),
            **{key: rule.get(key) for key in ("id", *MATCH_KEYS)},
        )
        for rule in rules
    )


def custom_payout_problems(
    base: PriceTerms,
    rules: Sequence[PayoutRule],
    custom_payout_minor: int | None = None,
    custom_payout_bps: int | None = None,
) -> list[str]:
    """What is wrong with a webmaster's custom payout on an offer, checked when it is set.

    It must fit every terms it can be combined with: the base terms and each rule that
    does not name a webmaster (a rule naming this webmaster overrides the custom payout; a
    rule naming another never prices this webmaster's leads). Fixed terms take
    ``custom_payout_minor``, percentage terms ``custom_payout_bps``; either must not
    exceed the rate it is paired with.
    """
    candidates = [("the base terms", base)] + [
        (f"rule {index}", rule.terms) for index, rule in enumerate(rules) if rule.webmaster_id is None
    ]
    problems = []
    for name, terms in candidates:
        problem = _custom_payout_problem(terms, custom_payout_minor, custom_payout_bps)
        if problem:
            problems.append(f"{name}: {problem}")
    return problems


# -- choosing and pricing -------------------------------------------------------------------------


def choose_terms(
    base: PriceTerms,
    rules: Sequence[PayoutRule],
    facts: PricingFacts,
    custom_payout_minor: int | None = None,
    custom_payout_bps: int | None = None,
) -> ChosenTerms:
    """The terms that price a lead with ``facts``, by the precedence in the module's docstring.

    Raises ``PricingError`` when the chosen terms are invalid, are of another model than
    the base terms, or cannot take the custom payout (above the rate, or in the other unit).
    """
    _raise_on(terms_problems(base))
    chosen = ChosenTerms(base)
    matching = [(index, rule) for index, rule in enumerate(rules) if rule.matches(facts)]
    if matching:
        index, rule = min(matching, key=_precedence)
        chosen = ChosenTerms(rule.terms, rule_index=index, rule_id=rule.id)
        _raise_on([f"rule {index}: {problem}" for problem in terms_problems(rule.terms)])
        if rule.terms.model != base.model:
            raise PricingError([f"rule {index}: a {rule.terms.model} rule on a {base.model} offer"])
        if rule.webmaster_id is not None:
            return chosen
    if custom_payout_minor is None and custom_payout_bps is None:
        return chosen
    problem = _custom_payout_problem(chosen.terms, custom_payout_minor, custom_payout_bps)
    if problem:
        raise PricingError([problem])
    terms = chosen.terms
    if terms.is_percentage:
        terms = PriceTerms.percentage(terms.rate_bps, custom_payout_bps)
    else:
        terms = PriceTerms.fixed(terms.model, terms.rate_minor, custom_payout_minor)
    return ChosenTerms(terms, chosen.rule_index, chosen.rule_id, custom_payout=True)


def price_for(terms: PriceTerms, sale_amount_minor: int | None = None) -> Price:
    """The price of one conversion under ``terms``, rounded as the module's docstring says.

    CPS needs the reported sale amount (fixed CPS too: a sale is priced only when reported
    with its amount); CPL and CPA take nothing from it, but an amount given must still be a
    sane one. Raises ``PricingError``.
    """
    _raise_on(terms_problems(terms))
    if sale_amount_minor is None and terms.model == CPS:
        raise PricingError(["a cps conversion needs the sale amount"])
    amount_problem = _bounded_int_problem("sale_amount_minor", sale_amount_minor)
    if amount_problem:
        raise PricingError([amount_problem])
    if terms.rate_bps is not None and terms.payout_bps is not None and sale_amount_minor is not None:
        return Price(
            rate_minor=(sale_amount_minor * terms.rate_bps + BPS_WHOLE // 2) // BPS_WHOLE,
            payout_minor=(sale_amount_minor * terms.payout_bps) // BPS_WHOLE,
        )
    return Price(rate_minor=terms.rate_minor, payout_minor=terms.payout_minor)


# -- helpers --------------------------------------------------------------------------------------


def _precedence(candidate: tuple[int, PayoutRule]) -> tuple:
    """Sort key: the smallest wins. More keys first, then keys in order of precedence
    (naming the webmaster, then the country, then the temperature), then position."""
    index, rule = candidate
    named = tuple(getattr(rule, key) is None for key in MATCH_KEYS)
    return (-len(rule.match_keys), named, index)


def _custom_payout_problem(terms: PriceTerms, payout_minor: int | None, payout_bps: int | None) -> str | None:
    amount_problem = _bounded_int_problem("custom payout", payout_minor)
    bps_problem = _bounded_int_problem("custom payout bps", payout_bps, BPS_WHOLE)
    if amount_problem or bps_problem:
        return amount_problem or bps_problem
    if terms.is_percentage:
        if payout_bps is None:
            return "a percentage rate needs the custom payout in bps, not in minor units"
        if payout_bps > terms.rate_bps:
            return f"custom payout of {payout_bps} bps is above the rate of {terms.rate_bps} bps"
        return None
    if payout_minor is None:
        return "a fixed rate needs the custom payout in minor units, not in bps"
    if payout_minor > terms.rate_minor:
        return f"custom payout of {payout_minor} is above the rate of {terms.rate_minor}"
    return None


def _match_problems(rule: Mapping[str, object]) -> list[str]:
    """Problems with a rule's id and match keys."""
    problems = []
    rule_id = rule.get("id")
    if rule_id is not None and not (
        (isinstance(rule_id, str) and 0 < len(rule_id) <= MAX_RULE_ID_LENGTH)
        or (type(rule_id) is int and 0 < rule_id <= MAX_ID)
    ):
        problems.append(f"id must be a positive integer or a text of 1 to {MAX_RULE_ID_LENGTH} characters")
    webmaster_id = rule.get("webmaster_id")
    if webmaster_id is not None and not (type(webmaster_id) is int and 0 < webmaster_id <= MAX_ID):
        problems.append("webmaster_id must be a user id (a positive integer)")
    country = rule.get("country")
    if country is not None and not _is_country(country):
        problems.append("country must be ISO 3166 alpha-2, upper case")
    temperature = rule.get("temperature")
    if temperature is not None and temperature not in TEMPERATURES:
        problems.append(f"temperature must be one of {', '.join(TEMPERATURES)}")
    if all(rule.get(key) is None for key in MATCH_KEYS):
        problems.append(f"needs at least one of {', '.join(MATCH_KEYS)} (else change the base terms)")
    return problems


def _bounded_int_problem(name: str, value: object, bound: int = MAX_AMOUNT_MINOR) -> str | None:
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= bound:
        return f"{name} must be a whole number from 0 to {bound}"
    return None


def _all_set(values: tuple) -> bool:
    return all(value is not None for value in values)


def _none_set(values: tuple) -> bool:
    return all(value is None for value in values)


def _is_country(value: object) -> bool:
    return isinstance(value, str) and COUNTRY.fullmatch(value) is not None


def _raise_on(problems: list[str]) -> None:
    if problems:
        raise PricingError(problems)
