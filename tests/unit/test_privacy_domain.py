"""The pure rules of erasure (exchange/privacy/domain.py): keyed hashes, what is looked for
in free text and how it is overwritten."""

from __future__ import annotations

import hashlib

from exchange.privacy.domain import (
    ERASED,
    Counts,
    contact_hash,
    erased_fields,
    hash_key,
    redact,
    redact_bytes,
    redact_json,
    searched_values,
)


def test_contact_hashes_are_keyed_by_the_secret_and_differ_by_kind():
    key, other = hash_key("one secret" * 4), hash_key("another secret" * 4)
    email = contact_hash(key, "email", "ann@example.com")
    assert email == contact_hash(key, "email", "ann@example.com")
    assert email != contact_hash(other, "email", "ann@example.com")
    assert email != hashlib.sha256(b"email:ann@example.com").hexdigest()  # not a plain hash
    assert contact_hash(key, "phone", "ann@example.com") != email
    assert contact_hash(key, "email", None) is None and contact_hash(key, "email", "") is None


def test_every_value_of_a_lead_is_looked_for_longest_first_and_short_ones_are_not():
    values = searched_values(
        {"name": " Ann Lee ", "age": 42, "state": "NY", "x": None}, "ann@example.com", None
    )
    assert values == ["ann@example.com", "Ann Lee"]
    assert searched_values({"name": ERASED}) == []


def test_redact_overwrites_every_occurrence_in_any_case_and_keeps_the_rest():
    text = "Called ANN LEE at ann@example.com; ann lee said no."
    assert redact(text, ["ann@example.com", "Ann Lee"]) == f"Called {ERASED} at {ERASED}; {ERASED} said no."
    assert redact("nothing here", ["Ann Lee"]) == "nothing here"
    assert redact(None, ["x"]) is None and redact("", ["x"]) == ""


def test_redact_json_and_bytes_change_only_what_holds_a_value():
    findings = [{"code": "invalid_email", "message": "ann@example.com bounced"}]
    assert redact_json(findings, ["ann@example.com"]) == [
        {"code": "invalid_email", "message": f"{ERASED} bounced"}
    ]
    same = {"a": 1}
    assert redact_json(same, ["ann@example.com"]) is same
    csv = b"id,email\r\n1,ann@example.com\r\n2,bob@example.com\r\n"
    assert (
        redact_bytes(csv, ["ann@example.com"]) == f"id,email\r\n1,{ERASED}\r\n2,bob@example.com\r\n".encode()
    )


def test_erased_fields_keep_the_names_and_lose_the_values():
    assert erased_fields({"name": "Ann", "phone": "+1"}) == {"name": ERASED, "phone": ERASED}


def test_counts_leave_out_tables_where_nothing_was_erased():
    counts = Counts()
    counts.add("leads", 2)
    counts.add("clicks", 0)
    counts.add("leads", 1)
    assert counts == {"leads": 3} and counts.total == 3
