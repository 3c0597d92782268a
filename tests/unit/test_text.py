from exchange.text import first_unstorable, is_storable, storable


def test_nul_and_lone_surrogates_are_not_storable_and_everything_else_is():
    assert is_storable("Zoë 李 🙂 tab\there")
    assert not is_storable("a\x00b")
    assert not is_storable("\ud800")


def test_storable_drops_only_what_cannot_be_stored():
    assert storable("a\x00b\udfffc 🙂") == "abc 🙂"


def test_first_unstorable_names_the_path_of_the_bad_key_or_value():
    assert first_unstorable({"fields": {"name": "ok", "city": ["x", "y\x00"]}}) == "fields.city[1]"
    assert first_unstorable({"a\x00": 1}) == "a\x00"
    assert first_unstorable({"fine": [1, 2.5, None, True, "ok"]}) is None
