"""The README's signature check, run as the advertiser would run it (copied out of README.md)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def verify_delivery_from_readme():
    """``verify_delivery`` as defined by the README's first python block that defines it."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    (snippet,) = [block for block in blocks if "def verify_delivery(" in block]
    namespace: dict = {}
    exec(compile(snippet, "README.md", "exec"), namespace)  # noqa: S102  (our own README)
    return namespace["verify_delivery"]
