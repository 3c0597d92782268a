"""An offer's own field patterns: which regular expressions it may set. Pure.

A pattern runs on every lead's value in the validation worker, so it must
compile, stay short, and not be able to backtrack for ever: quantifiers
nested inside quantified groups (``(a+)+``) and back-references are refused.
"""

from __future__ import annotations

import re
from functools import lru_cache

try:  # the parser behind re (Python 3.11+); only used to look at a pattern's shape
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - an older or other Python: the checks below still run
    _sre = _sre_parse = None

MAX_PATTERN_LENGTH = 200
MAX_CHOICES = 100
MAX_CHOICE_LENGTH = 200


def pattern_problem(pattern: str) -> str | None:
    """What is wrong with ``pattern`` as a field pattern, or None."""
    if not pattern:
        return "a pattern may not be empty"
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"a pattern may be at most {MAX_PATTERN_LENGTH} characters"
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as error:
        return f"not a valid regular expression ({error})"
    if _sre_parse is not None and _risky(_sre_parse.parse(pattern), inside_repeat=False):
        return "nested quantifiers and back-references are not allowed (they can take for ever)"
    return None


def _risky(parsed, inside_repeat: bool) -> bool:
    for op, argument in parsed:
        if op in (_sre.GROUPREF, _sre.GROUPREF_EXISTS):
            return True
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            low, high, body = argument
            repeats = high is _sre.MAXREPEAT or high > 1
            if inside_repeat and repeats:
                return True
            if _risky(body, inside_repeat or repeats):
                return True
        elif op == _sre.SUBPATTERN:
            if _risky(argument[-1], inside_repeat):
                return True
        elif op == _sre.BRANCH:
            if any(_risky(branch, inside_repeat) for branch in argument[1]):
                return True
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            if _risky(argument[1], inside_repeat):
                return True
        elif op == _sre.ATOMIC_GROUP and _risky(argument, inside_repeat):
            return True
    return False


@lru_cache(maxsize=256)
def compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def matches(pattern: str, value: str) -> bool:
    """The whole value matches the pattern."""
    return compiled(pattern).fullmatch(value) is not None
