import re
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

import pytest

from exchange.tracking import geo
from exchange.tracking.geo import country_of, data_version

# Each address sits in a block its registry allocated decades ago to an organisation that has
# never moved, most of them the registries' and root servers' own, so a nightly data refresh
# does not change their answer. (1.1.1.1 is avoided: anycast, and once a research block.)
KNOWN = [
    # Google Public DNS, inside Level 3's 8.0.0.0/8 held at ARIN since 1992.
    ("8.8.8.8", "US"),
    # www.ripe.net, in the RIPE NCC's own 193.0.0.0/21 in Amsterdam.
    ("193.0.6.139", "NL"),
    # registro.br, NIC.br's own 200.160.0.0/20 from LACNIC.
    ("200.160.2.3", "BR"),
    # M-root server, run by the WIDE Project in Tokyo (APNIC).
    ("202.12.27.33", "JP"),
    # www.ripe.net over IPv6: the RIPE NCC's own 2001:67c:2e8::/48.
    ("2001:67c:2e8::1", "NL"),
    # Google Public DNS over IPv6: Google's 2001:4860::/32 from ARIN.
    ("2001:4860:4860::8888", "US"),
    # www.apnic.net over IPv6: APNIC's own block in Brisbane.
    ("2001:dc0:2001:0:4608::25", "AU"),
]

NOT_PUBLIC = [
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "127.0.0.1",
    "169.254.1.1",
    "100.64.0.1",
    "0.0.0.0",
    "192.0.2.1",
    "198.51.100.7",
    "240.0.0.1",
    "255.255.255.255",
    "224.0.0.1",
    "::",
    "::1",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "2001:db8::1",
    "ff02::1",
    "::ffff:10.0.0.1",
]

MALFORMED = [
    "",
    "   ",
    "not-an-ip",
    "300.1.1.1",
    "1.2.3",
    "01.2.3.4",
    "8.8.8.8/32",
    "8.8.8.8:80",
    "[2001:67c:2e8::1]",
    "8.8.8.8\x00",
    "\ud800",
    "1" * 10_000,
]


@pytest.fixture
def fresh_cache(monkeypatch):
    """Forget the loaded data for one test; the real cache comes back afterwards."""
    monkeypatch.setattr(geo, "_lookup", None)


@pytest.fixture
def counted_loads(fresh_cache, monkeypatch):
    """A list that gets one entry per load of the data."""
    loads = []
    real_load = geo._load

    def load():
        loads.append(threading.get_ident())
        time.sleep(0.02)  # keep the door open so racing threads would load twice
        return real_load()

    monkeypatch.setattr(geo, "_load", load)
    return loads


def fake_source(monkeypatch, answer):
    monkeypatch.setattr(geo, "_lookup", None)
    monkeypatch.setattr(geo, "_load", lambda: lambda address: answer)


@pytest.mark.parametrize(("ip", "country"), KNOWN)
def test_well_known_public_addresses_map_to_their_registry_country(ip, country):
    assert country_of(ip) == country


@pytest.mark.parametrize("ip", NOT_PUBLIC)
def test_addresses_that_are_not_globally_routable_have_no_country(ip):
    assert country_of(ip) is None


@pytest.mark.parametrize("ip", MALFORMED)
def test_malformed_input_gives_none_and_does_not_raise(ip):
    assert country_of(ip) is None


@pytest.mark.parametrize("value", [None, b"8.8.8.8", 134744072, ["8.8.8.8"]])
def test_anything_but_a_string_gives_none(value):
    assert country_of(value) is None


def test_surrounding_whitespace_and_ipv4_mapped_ipv6_are_looked_up_as_the_plain_address():
    assert country_of(" 8.8.8.8\n") == "US"
    assert country_of("::ffff:8.8.8.8") == "US"


def test_every_answer_is_none_or_two_upper_case_letters():
    sample = [f"{first}.{second}.3.4" for first in range(1, 224) for second in (0, 37, 128, 200)]
    answers = {country_of(ip) for ip in sample}
    assert {code for code in answers if code is not None and not re.fullmatch(r"[A-Z]{2}", code)} == set()
    assert len(answers - {None}) > 20


@pytest.mark.parametrize(
    ("answer", "country"),
    [
        ("DE", "DE"),
        ("de", "DE"),
        ("EU", None),
        ("AP", None),
        ("", None),
        ("DEU", None),
        ("1A", None),
        (None, None),
    ],
)
def test_the_source_answer_is_normalised_and_region_codes_are_not_countries(monkeypatch, answer, country):
    fake_source(monkeypatch, answer)
    assert country_of("8.8.8.8") == country


def test_data_is_loaded_once_and_reused(counted_loads):
    assert country_of("8.8.8.8") == "US"
    assert country_of("193.0.6.139") == "NL"
    assert country_of("2001:67c:2e8::1") == "NL"
    assert len(counted_loads) == 1


def test_threads_racing_for_the_first_lookup_load_the_data_once(counted_loads):
    start = threading.Barrier(8)
    answers = []

    def look_up():
        start.wait()
        answers.append(country_of("8.8.8.8"))

    threads = [threading.Thread(target=look_up) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["US"] * 8
    assert len(counted_loads) == 1


def test_input_that_is_not_a_public_address_does_not_load_the_data(counted_loads):
    assert country_of("10.0.0.1") is None
    assert country_of("garbage") is None
    assert country_of(None) is None
    assert counted_loads == []


def test_importing_the_module_loads_no_data_and_no_framework():
    module_path = Path(geo.__file__)
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('geo_alone', {str(module_path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(sorted(name for name in ('iptocc', 'flask', 'sqlalchemy') if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_data_version_names_the_package_and_version_in_use():
    version = data_version()
    assert version.startswith(f"iptocc {metadata.version('iptocc')} (RIR delegated stats")
    assert data_version() is version
