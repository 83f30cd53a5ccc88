"""Validation of fake VK API answers against the official VK JSON Schema copy.

The VK schema files are draft-07 documents written in VK's own dialect, so a plain
Draft7Validator would both miss and invent violations. The dialect rules applied here:

* ``"required": true`` on a property (draft-03 style) means the property must be present.
* ``allOf`` is inheritance (VK's code generators merge the branches): a branch with
  ``additionalProperties: false`` (``groups_group``) closes the *merged* object, not itself,
  otherwise no community object with ``members_count`` could ever validate.
* ``inner_type`` is a code-generation discriminator the live API never sends
  (vkbottle-types overrides it as optional), so it is not required.

Quirks of the live API that the schema does not describe are listed in ``KNOWN_QUIRKS`` and
handled in exactly one place each (see ``VKSchema.validate_response`` / ``validate_event``).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, validators
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT7

SCHEMA_ENV = "VK_SCHEMA_DIR"
DEFAULT_SCHEMA_DIR = Path(__file__).resolve().parents[3] / "shared" / "vk-api-schema"

KNOWN_QUIRKS = {
    "utils.resolveScreenName": "an unknown name answers [] (PHP empty array), not an object",
    "execute": "base_undefined_response says object, but execute returns any JSON value",
    "execute_errors": "not in the schema; checked as a list of {method, error_code, error_msg}",
    "message_event.payload": "the live API sends an object, the schema says string",
    "callback_type": "the enum lacks message_event, which Bots Long Poll does deliver",
}

# Variant keys of methods.json `responses` picked by request parameters.
_FIELDS_VARIANT = "fieldsResponse"
_EXTENDED_VARIANT = "extendedResponse"

_EXECUTE_ERROR_ITEM = {
    "type": "object",
    "properties": {
        "method": {"type": "string", "required": True},
        "error_code": {"type": "integer", "required": True},
        "error_msg": {"type": "string", "required": True},
    },
}


def schema_dir() -> Path:
    """The schema folder: VK_SCHEMA_DIR if set, else the shared copy next to the repo."""
    override = os.environ.get(SCHEMA_ENV)
    return Path(override) if override else DEFAULT_SCHEMA_DIR


def _properties_with_required(
    validator: Any, properties: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for name, value in instance.items():
        if name in properties:
            yield from validator.descend(value, properties[name], path=name, schema_path=name)
    for name in _required_names(properties):
        if name not in instance:
            yield ValidationError(f"{name!r} is a required property")


_REQUIRED_CACHE: dict[int, tuple[Mapping[str, Any], tuple[str, ...]]] = {}


def _required_names(properties: Mapping[str, Any]) -> tuple[str, ...]:
    # Keyed by identity and holding the mapping alive, so an id is never reused.
    cached = _REQUIRED_CACHE.get(id(properties))
    if cached is None or cached[0] is not properties:
        names = tuple(
            name
            for name, sub in properties.items()
            if isinstance(sub, Mapping) and sub.get("required") is True
        )
        cached = (properties, names)
        _REQUIRED_CACHE[id(properties)] = cached
    return cached[1]


def _required_list_only(
    validator: Any, required: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    # Boolean `required` belongs to the parent's `properties` (handled above).
    if isinstance(required, list):
        yield from Draft7Validator.VALIDATORS["required"](validator, required, instance, schema)


VKValidator = validators.extend(
    Draft7Validator,
    {"properties": _properties_with_required, "required": _required_list_only},
)


# Keywords a leaf schema may hold; the assertions among them run without a descend.
_LEAF_ASSERTIONS = ("type", "enum", "const", "minimum", "maximum", "minLength", "maxLength")
_LEAF_KEYS = {
    *_LEAF_ASSERTIONS,
    "pattern",
    "description",
    "format",  # no format checker is used, as with a plain descend
    "entity",
    "default",
    "enumNames",
    "required",
    "deprecated_from_version",
    "examples",
    "nullable",
    "name",
}


def _make_validator_class(registry: Registry) -> Any:
    """VKValidator with refs (all absolute after loading) resolved once, and leaf fast path.

    Validating 1000 members of a page means ~20,000 leaf values; checking a leaf with
    jsonschema's own keyword functions instead of a full `descend` (which builds a new
    validator each time) is what makes that affordable. Results are identical.
    """
    resolved: dict[str, Any] = {}
    leaves: dict[int, tuple[Any, list[tuple[str, Any, Mapping[str, Any]]] | None]] = {}
    resolver = registry.resolver()

    def target_of(ref: str) -> Any:
        target = resolved.get(ref)
        if target is None:
            target = resolved[ref] = resolver.lookup(ref).contents
        return target

    def leaf_checks(subschema: Any) -> list[tuple[str, Any, Mapping[str, Any]]] | None:
        """The (keyword, value, schema) assertions of a leaf schema; None if not a leaf."""
        cached = leaves.get(id(subschema))
        if cached is not None and cached[0] is subschema:
            return cached[1]
        schema = subschema
        if isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
            schema = target_of(schema["$ref"])  # draft 7: siblings of $ref do not apply
        checks = None
        if isinstance(schema, Mapping) and set(schema) <= _LEAF_KEYS and "pattern" not in schema:
            checks = [(k, schema[k], schema) for k in _LEAF_ASSERTIONS if k in schema]
        leaves[id(subschema)] = (subschema, checks)
        return checks

    def ref(validator: Any, ref: str, instance: Any, schema: Mapping[str, Any]) -> Any:
        yield from validator.descend(instance, target_of(ref))

    def properties(
        validator: Any, props: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
    ) -> Iterator[ValidationError]:
        if not validator.is_type(instance, "object"):
            return
        # VK objects declare ~100 properties and carry ~10: walk the instance, not the schema.
        for name, value in instance.items():
            if name not in props:
                continue
            checks = leaf_checks(props[name])
            if checks is None:
                yield from validator.descend(value, props[name], path=name, schema_path=name)
                continue
            for keyword, expected, leaf in checks:
                for error in validator.VALIDATORS[keyword](validator, expected, value, leaf):
                    error.path.appendleft(name)
                    yield error
        for name in _required_names(props):
            if name not in instance:
                yield ValidationError(f"{name!r} is a required property")

    return validators.extend(VKValidator, {"$ref": ref, "properties": properties})


def _split_ref(ref: str) -> tuple[str, str]:
    file_part, _, pointer = ref.partition("#")
    return file_part, pointer


class VKSchema:
    """Every schema file of the folder, loaded into one `referencing` registry."""

    def __init__(self, root: Path | None = None, *, flatten: bool = True) -> None:
        self.root = (root or schema_dir()).resolve()
        if not (self.root / "errors.json").is_file():
            msg = f"VK schema folder not found at {self.root} (set {SCHEMA_ENV})"
            raise FileNotFoundError(msg)
        self._docs: dict[str, dict[str, Any]] = {}
        for path in sorted(self.root.rglob("*.json")):
            rel = path.relative_to(self.root).as_posix()
            self._docs[rel] = json.loads(path.read_text(encoding="utf-8"))
        self._normalise()
        self._absolutise_refs()
        if flatten:
            self._flatten_all()
        self.registry: Registry = Registry().with_resources(
            (self.uri(rel), DRAFT7.create_resource(doc)) for rel, doc in self._docs.items()
        )
        self._validator_class = _make_validator_class(self.registry)
        self.methods: dict[str, dict[str, Any]] = {}
        for rel, doc in self._docs.items():
            if rel.endswith("methods.json"):
                for method in doc.get("methods", []):
                    method["_file"] = rel
                    self.methods[method["name"]] = method
        self.errors: dict[int, dict[str, Any]] = {}
        self.error_keys: dict[str, int] = {}
        for key, error in self._docs["errors.json"]["errors"].items():
            self.errors.setdefault(error["code"], error)
            self.error_keys[key] = error["code"]
        self._validators: dict[str, Any] = {}
        error_envelope = {
            "type": "object",
            "properties": {
                "error": {
                    "$ref": f"{self.uri('base/objects.json')}#/definitions/base_error",
                    "required": True,
                }
            },
        }
        self._error_validator = self._validator_class(error_envelope, registry=self.registry)
        self._execute_error_validator = self._validator_class(_EXECUTE_ERROR_ITEM)

    # -- loading ---------------------------------------------------------------------

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    def _resolve_local(self, rel: str, ref: str) -> tuple[str, str, dict[str, Any]]:
        """(file, definition name, schema) a `$ref` written in file `rel` points to."""
        file_part, pointer = _split_ref(ref)
        target_rel = rel
        if file_part:
            target_rel = (Path(rel).parent / file_part).as_posix()
            target_rel = os.path.normpath(target_rel)
        node: Any = self._docs[target_rel]
        parts = [p for p in pointer.split("/") if p]
        for part in parts:
            node = node[part]
        return target_rel, parts[-1] if parts else "", node

    def _property_names(self, rel: str, schema: Mapping[str, Any]) -> tuple[set[str], bool]:
        """Property names a schema (following refs and nested allOf) declares, and if closed."""
        if "$ref" in schema:
            target_rel, _, target = self._resolve_local(rel, schema["$ref"])
            return self._property_names(target_rel, target)
        names = set(schema.get("properties", {}))
        closed = schema.get("additionalProperties") is False
        for branch in schema.get("allOf", []):
            branch_names, _ = self._property_names(rel, branch)
            names |= branch_names
        return names, closed

    def _open_copy_ref(self, rel: str, ref: str) -> str:
        """A ref to a copy of the target without `additionalProperties: false`."""
        target_rel, name, target = self._resolve_local(rel, ref)
        open_name = f"{name}__open_for_allOf"
        definitions = self._docs[target_rel]["definitions"]
        if open_name not in definitions:
            opened = copy.deepcopy(target)
            opened.pop("additionalProperties", None)
            definitions[open_name] = opened
        file_part, _ = _split_ref(ref)
        return f"{file_part}#/definitions/{open_name}"

    def _absolutise_refs(self) -> None:
        """Rewrite every schema `$ref` as an absolute URI so a lookup needs no context."""

        def walk(rel: str, node: Any, in_schema: bool) -> None:
            if isinstance(node, list):
                for item in node:
                    walk(rel, item, in_schema)
            elif isinstance(node, dict):
                ref = node.get("$ref")
                if in_schema and isinstance(ref, str) and not ref.startswith("file:"):
                    file_part, pointer = _split_ref(ref)
                    target = os.path.normpath((Path(rel).parent / file_part).as_posix())
                    node["$ref"] = f"{self.uri(target if file_part else rel)}#{pointer}"
                for key, value in node.items():
                    walk(rel, value, in_schema or key == "definitions")

        for rel, doc in self._docs.items():
            if rel.endswith("methods.json"):
                continue  # methods.json keeps relative refs; response_refs() reads them
            walk(rel, doc, False)

    def _flatten_all(self) -> None:
        """Merge allOf branches into one `properties` where that means the same.

        allOf[{properties: A}, {properties: B}] accepts exactly what {properties: A+B}
        accepts (a name in both keeps both subschemas under an allOf). Merging spares the
        validator two descends per branch, which dominate the cost of member pages.
        """
        originals: list[dict[str, Any]] = []
        for doc in self._docs.values():
            self._collect_all_of(doc.get("definitions", {}), originals)
        # Only allOf nodes written in the files: inlining the wrappers made while merging
        # would unroll recursive types (a message's reply_message is a message) forever.
        done: dict[int, bool] = {}
        for node in originals:
            self._flatten(node, done)

    def _collect_all_of(self, node: Any, found: list[dict[str, Any]]) -> None:
        if isinstance(node, list):
            for item in node:
                self._collect_all_of(item, found)
        elif isinstance(node, dict):
            if "allOf" in node:
                found.append(node)
            for value in node.values():
                self._collect_all_of(value, found)

    def _target(self, ref: str) -> Any:
        file_uri, pointer = _split_ref(ref)
        rel = Path(file_uri.removeprefix(self.root.as_uri() + "/")).as_posix()
        node: Any = self._docs[rel]
        for part in (p for p in pointer.split("/") if p):
            node = node[part]
        return node

    def _flatten(self, node: dict[str, Any], done: dict[int, bool]) -> bool:
        """Flatten `node` in place if it is an allOf of plain object schemas; True if plain."""
        if id(node) in done:
            return done[id(node)]
        done[id(node)] = False  # a cycle through allOf is left alone
        plain_keys = {"type", "properties", "description", "additionalProperties"}
        merged: dict[str, Any] = dict(node.get("properties", {}))
        for branch in node.get("allOf", []):
            target = self._target(branch["$ref"]) if "$ref" in branch else branch
            if "allOf" in target and not self._flatten(target, done):
                return False
            if not set(target) <= plain_keys or target.get("type", "object") != "object":
                return False
            if "additionalProperties" in target:
                return False  # closed branches were opened by _close_merged_all_of
            for name, sub in target.get("properties", {}).items():
                old = merged.get(name)
                if old is None or old == {}:
                    merged[name] = sub
                elif old is not sub:
                    required = old.get("required") is True or sub.get("required") is True
                    merged[name] = {"allOf": [old, sub], **({"required": True} if required else {})}
        node.pop("allOf", None)
        node["properties"] = merged
        node["type"] = "object"
        done[id(node)] = not set(node) - plain_keys
        return done[id(node)]

    def _normalise(self) -> None:
        for rel, doc in list(self._docs.items()):
            self._normalise_node(rel, doc)

    def _normalise_node(self, rel: str, node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                self._normalise_node(rel, item)
            return
        if not isinstance(node, dict):
            return
        props = node.get("properties")
        if isinstance(props, dict) and isinstance(props.get("inner_type"), dict):
            props["inner_type"].pop("required", None)
        if isinstance(node.get("allOf"), list):
            self._close_merged_all_of(rel, node)
        for value in list(node.values()):
            self._normalise_node(rel, value)

    def _close_merged_all_of(self, rel: str, node: dict[str, Any]) -> None:
        union: set[str] = set(node.get("properties", {}))
        closed = False
        branches = node["allOf"]
        for index, branch in enumerate(branches):
            names, branch_closed = self._property_names(rel, branch)
            union |= names
            if not branch_closed:
                continue
            closed = True
            if "$ref" in branch:
                branches[index] = {**branch, "$ref": self._open_copy_ref(rel, branch["$ref"])}
            else:
                branches[index] = {k: v for k, v in branch.items() if k != "additionalProperties"}
        if closed:
            merged = dict(node.get("properties", {}))
            for name in union:
                merged.setdefault(name, {})
            node["properties"] = merged
            node["additionalProperties"] = False

    # -- validators ------------------------------------------------------------------

    def validator_for(self, ref: str) -> Any:
        """A validator for an absolute ref such as 'groups/objects.json#/definitions/x'."""
        if ref not in self._validators:
            file_part, pointer = _split_ref(ref)
            schema = {"$ref": f"{self.uri(file_part)}#{pointer}"}
            self._validators[ref] = self._validator_class(schema, registry=self.registry)
        return self._validators[ref]

    def _check(self, ref: str, instance: Any, where: str) -> list[str]:
        found = self.validator_for(ref).iter_errors(instance)
        return [_describe(where, error) for error in found]

    def response_refs(self, method: str) -> dict[str, str]:
        """Variant name -> absolute ref of that response schema, from methods.json."""
        spec = self.methods[method]
        refs = {}
        for variant, value in spec["responses"].items():
            if isinstance(value, dict) and "$ref" in value:
                target_rel, name, _ = self._resolve_local(spec["_file"], value["$ref"])
                refs[variant] = f"{target_rel}#/definitions/{name}"
        return refs

    def check_object(self, file: str, definition: str, instance: Any) -> list[str]:
        """Violations of `instance` against one definition, e.g. ("messages/objects.json", ..)."""
        return self._check(f"{file}#/definitions/{definition}", instance, definition)

    # -- public checks ---------------------------------------------------------------

    def allowed_token_types(self, method: str) -> list[str]:
        return list(self.methods[method]["access_token_type"])

    def error_allowed(self, method: str | None, code: int) -> bool:
        """A method may answer an error that is global or listed in its `errors`."""
        error = self.errors.get(code)
        if error is None:
            return False
        if error.get("global"):
            return True
        if method is None or method not in self.methods:
            return False
        listed = {
            self.error_keys.get(item["$ref"].rsplit("/", 1)[-1])
            for item in self.methods[method].get("errors", [])
        }
        return code in listed

    def validate_response(
        self, method: str, body: Any, params: Mapping[str, Any] | None = None
    ) -> list[str]:
        """Violations of one answer of `method` ({"response": ...} or {"error": ...})."""
        if isinstance(body, str | bytes):
            body = json.loads(body)
        if not isinstance(body, dict):
            return [f"{method}: the body is {type(body).__name__}, not an object"]
        if "error" in body:
            return self.validate_error(method, body)
        if method not in self.methods:
            return [f"{method}: not a method of the schema"]
        if "response" not in body:
            return [f"{method}: neither 'response' nor 'error' in the body"]
        if method == "execute":
            return self._validate_execute(body)
        if method == "utils.resolveScreenName" and body["response"] == []:
            return []
        refs = self.response_refs(method)
        variant = self.pick_variant(method, params or {}, refs)
        if params is None:
            # Without the request, any documented variant may be the right one.
            for other, ref in refs.items():
                if other != variant and not self._check(ref, body, method):
                    return []
        return self._check(refs[variant], body, f"{method}[{variant}]")

    @staticmethod
    def pick_variant(method: str, params: Mapping[str, Any], refs: Mapping[str, str]) -> str:
        def flag(name: str) -> bool:
            return str(params.get(name, "0")).lower() in {"1", "true"}

        if method == "groups.getMembers":
            if params.get("filter") and "filterResponse" in refs:
                return "filterResponse"
            if params.get("fields"):
                return _FIELDS_VARIANT
        if method == "groups.isMember" and params.get("user_ids"):
            return "userIdsResponse"
        if method == "messages.send":
            return "userIdsResponse" if params.get("peer_ids") else "deprecatedResponse"
        if _EXTENDED_VARIANT in refs and flag("extended"):
            return _EXTENDED_VARIANT
        return "response" if "response" in refs else next(iter(refs))

    def _validate_execute(self, body: Mapping[str, Any]) -> list[str]:
        problems = []
        errors = body.get("execute_errors")
        if errors is not None:
            if not isinstance(errors, list) or not errors:
                problems.append("execute: execute_errors must be a non-empty list")
            else:
                check = self._execute_error_validator
                for index, item in enumerate(errors):
                    problems += [
                        _describe(f"execute.execute_errors[{index}]", e)
                        for e in check.iter_errors(item)
                    ]
                    code = item.get("error_code") if isinstance(item, dict) else None
                    if isinstance(code, int) and code not in self.errors:
                        problems.append(f"execute.execute_errors[{index}]: unknown code {code}")
        extra = set(body) - {"response", "execute_errors"}
        if extra:
            problems.append(f"execute: unexpected keys {sorted(extra)}")
        return problems

    def validate_error(self, method: str | None, body: Mapping[str, Any]) -> list[str]:
        where = f"{method or '?'}: error"
        problems = [_describe(where, e) for e in self._error_validator.iter_errors(body)]
        if set(body) != {"error"}:
            problems.append(f"{where}: unexpected keys {sorted(set(body) - {'error'})}")
        error = body.get("error")
        if not isinstance(error, dict):
            return problems
        code, message = error.get("error_code"), error.get("error_msg")
        if isinstance(code, int):
            known = self.errors.get(code)
            if known is None:
                problems.append(f"{where}: code {code} is not in errors.json")
            else:
                if not self.error_allowed(method, code):
                    problems.append(f"{where}: code {code} is neither global nor listed for it")
                if not isinstance(message, str) or not message.startswith(known["description"]):
                    problems.append(
                        f"{where}: error_msg {message!r} does not start with "
                        f"{known['description']!r} (errors.json, code {code})"
                    )
        return problems

    def validate_event(self, event: Mapping[str, Any]) -> list[str]:
        """Violations of one Bots Long Poll / Callback API event {type, object, group_id, ...}."""
        event_type = event.get("type")
        where = f"event {event_type}"
        problems = []
        base = self.validator_for("callback/objects.json#/definitions/callback_base")
        enum = self._docs["callback/objects.json"]["definitions"]["callback_type"]["enum"]
        for error in base.iter_errors(event):
            # message_event is missing from callback_type (see KNOWN_QUIRKS).
            if event_type == "message_event" and list(error.absolute_path) == ["type"]:
                continue
            problems.append(_describe(where, error))
        if event_type not in enum and event_type != "message_event":
            problems.append(f"{where}: unknown event type")
        if "object" not in event:
            problems.append(f"{where}: no 'object'")
            return problems
        obj = event["object"]
        definitions = self._docs["callback/objects.json"]["definitions"]
        name = f"callback_{event_type}"
        if name in definitions:
            if event_type == "message_event" and isinstance(obj, dict):
                payload = obj.get("payload")
                if not isinstance(payload, dict):
                    problems.append(f"{where}: payload must be an object as VK sends it")
                obj = {**obj, "payload": json.dumps(payload)}
            problems += self._check(f"callback/objects.json#/definitions/{name}", obj, where)
        return problems


def _describe(where: str, error: ValidationError) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: at /{path}: {error.message}"


@cache
def load_schema(root: str | None = None) -> VKSchema:
    """The schema of `root` (default: schema_dir()), loaded once per process."""
    return VKSchema(Path(root) if root else None)


def validate_response(method: str, body: Any, params: Mapping[str, Any] | None = None) -> list[str]:
    """Violations of a whole answer body of `method`; [] when it is valid."""
    return load_schema(str(schema_dir())).validate_response(method, body, params)


__all__ = [
    "DEFAULT_SCHEMA_DIR",
    "KNOWN_QUIRKS",
    "SCHEMA_ENV",
    "VKSchema",
    "load_schema",
    "schema_dir",
    "validate_response",
]
