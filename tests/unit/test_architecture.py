"""The architecture as tests (README "How it is put together"): import-linter's contracts in
``.importlinter`` (imports point one way, billing knows no feature, the pure core imports no
framework), no import cycle between modules, and no module left out of the layers."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".importlinter"
PACKAGES = ("exchange", "billing", "advertisers", "webmasters")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


@pytest.fixture(scope="module")
def contracts() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(inline_comment_prefixes=(";",))
    parser.read(CONFIG)
    return parser


def import_cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import one another, each sorted (Tarjan's strongly connected
    components of more than one module, or of one that imports itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in imports.get(module, ()):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1 or module in imports.get(module, ()):
                found.append(sorted(group))

    for module in sorted(imports):
        if module not in index:
            visit(module)
    return sorted(found)


def test_the_import_contracts_hold(capsys):
    code = lint_imports(config_filename=str(CONFIG), no_cache=True, no_logo=True)

    report = capsys.readouterr().out
    assert "0 broken" in report, report
    assert code == 0, report


def test_no_module_imports_itself_through_others(graph):
    imports = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}

    assert import_cycles(imports) == []


@pytest.mark.parametrize(
    ("imports", "cycles"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}}, [["a", "b", "c"], ["d"]]),
        ({"a": {"b", "c"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}, [["a", "b"], ["c", "d"]]),
    ],
)
def test_the_cycle_finder_names_each_group_that_imports_itself(imports, cycles):
    assert import_cycles(imports) == cycles


def layer_modules(contracts: configparser.ConfigParser) -> set[str]:
    layers = contracts["importlinter:contract:layers"]["layers"]
    return {name for line in layers.split("\n") for name in re.split(r"\s*[:|]\s*", line.strip()) if name}


def test_every_module_of_the_application_has_a_layer(graph, contracts):
    """A new module at the top of ``exchange/`` (or a new top-level package) must be placed in
    a layer, or the contract would not look at it."""
    named = layer_modules(contracts)
    tops = {m for m in graph.modules if m.count(".") == 1 and m.split(".")[0] == "exchange"}
    tops |= {m for m in PACKAGES if m != "exchange"}

    assert sorted(tops - named) == []
    assert sorted(named - graph.modules) == []


def test_every_domain_module_is_held_to_the_pure_core(graph, contracts):
    patterns = contracts["importlinter:contract:pure-core"]["source_modules"].split()
    pure = [re.compile(re.escape(p).replace(r"\*", r"[^.]+") + "$") for p in patterns]
    domains = sorted(m for m in graph.modules if m.rsplit(".", 1)[-1] == "domain")

    assert len(domains) >= 10
    assert [m for m in domains if not any(p.match(m) for p in pure)] == []
