"""Reading the project's YAML data files (knowledge, texts, audit rules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# libyaml's parser reads our data files about ten times faster than the pure-Python one; every
# process start (bots, CLI, each test's subprocess) parses them all. Same resolver, same results.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """The document in ``path``; raises ``yaml.YAMLError`` when it is not valid YAML."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
