"""Loads and validates the knowledge base; a malformed file stops start-up with file and field."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from advisor.knowledge.models import Knowledge, KnowledgeFile
from advisor.yaml_files import read_yaml

KNOWLEDGE_DIR = Path(__file__).parent
DEFAULT_LANG = "ru"


class KnowledgeError(RuntimeError):
    """A knowledge file is malformed; the message names the file and the field."""


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"knowledge file {source} is invalid:"]
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {source}: field {where}: {item['msg']}")
    return "\n".join(lines)


def parse_file(path: Path) -> KnowledgeFile:
    try:
        raw = read_yaml(path)
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"knowledge file {path.name} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise KnowledgeError(f"knowledge file {path.name}: top level must be a mapping")
    try:
        return KnowledgeFile.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeError(_describe(exc, path.name)) from exc


def load_from(folder: Path) -> Knowledge:
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise KnowledgeError(f"no knowledge files in {folder}")
    for path in files:
        part = parse_file(path)
        for name in part.model_fields_set:
            value = getattr(part, name)
            if isinstance(value, list):
                merged.setdefault(name, []).extend(value)
            else:
                if name in merged:
                    raise KnowledgeError(
                        f"knowledge file {path.name}: field {name} is already set "
                        f"in {sources[name]}"
                    )
                merged[name] = value
            sources.setdefault(name, path.name)
    try:
        return Knowledge.model_validate(merged)
    except ValidationError as exc:
        raise KnowledgeError(_describe(exc, f"{folder.name}/*.yaml")) from exc


@lru_cache(maxsize=4)
def load_knowledge(lang: str = DEFAULT_LANG) -> Knowledge:
    return load_from(KNOWLEDGE_DIR / lang)
