"""The data standard as one catalog: dictionaries, libraries and IoT templates (docs/standards.md).

``load_catalog(root)`` validates every file under ``root`` against its JSON Schema in ``schemas/`` and cross-checks
the files, collecting every problem as ``Problem(file relative to root, JSON pointer, message)``; ``catalog()`` is
the shipped standard, loaded once per process."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

import schemas
from standards import ROOT

SCHEMAS = Path(schemas.__file__).parent
LEVELS = ("public", "internal", "sensitive", "highly_sensitive")
ENVELOPE = ("source_id", "school", "student", "staff", "class", "occurred_at")
SOURCES = "data_source"  # the dictionary of source systems every element's `source` is checked against
TRANSFORM_MAKES = {"epoch_seconds": "datetime", "epoch_millis": "datetime", "fen_to_yuan": "decimal"}
WHEN_TYPES = {"code": str, "string": str, "integer": int, "boolean": bool}  # element types `when` can test
KINDS = (  # Catalog attribute, schema, files under the root, cross-check
    ("dictionaries", "dictionary", "dictionaries/*.json", "check_dictionary"),
    ("libraries", "library", "libraries/*/*.json", "check_library"),
    ("iot_templates", "iot-template", "iot/*.json", "check_template"),
)


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


@dataclass
class Catalog:
    root: Path
    dictionaries: dict[str, dict] = field(default_factory=dict)
    libraries: dict[str, dict] = field(default_factory=dict)
    iot_templates: dict[str, dict] = field(default_factory=dict)
    history: dict[tuple[str, str], dict] = field(default_factory=dict)  # (id, version) → an earlier library
    problems: list[Problem] = field(default_factory=list)

    def library(self, library_id: str, version: str | None = None) -> dict:
        """A library (KeyError if unknown); with ``version``, that version of it, current or from history."""
        lib = self.libraries[library_id]
        if version is None or version == lib["version"]:
            return lib
        return self.history[(library_id, version)]

    def dictionary(self, dictionary_id: str) -> dict:
        return self.dictionaries[dictionary_id]


def load_catalog(root: Path | str = ROOT) -> Catalog:
    return _Loader(Path(root)).run()


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """The shipped standard (``catalog.cache_clear()`` reloads it)."""
    return load_catalog(ROOT)


@cache
def _schema(name: str) -> dict:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return schema


def type_options() -> dict[str, set[str]]:
    """Element type → the members an element of that type may have, as the library schema defines them."""
    element = _schema("library")["$defs"]["element"]
    options = {t: set(element["properties"]) for t in element["properties"]["type"]["enum"]}
    for rule in element["allOf"]:
        cond = rule["if"]["properties"]["type"]
        for t in cond.get("enum", [cond.get("const")]):
            options[t] |= set(rule["then"].get("properties", {}))
    return options


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:  # or two elements of one name would lose one
    if len(keys := [k for k, _ in pairs]) != len(set(keys)):
        raise ValueError(f"repeated key(s) {sorted({k for k in keys if keys.count(k) > 1})}")
    return dict(pairs)


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root, self.cat = root, Catalog(root=root)
        self.files: dict[tuple[str, str], str] = {}  # (Catalog attribute, id) → file
        self.invalid: set[str] = set()  # files with schema problems: cross-checks there may meet any shape
        self.options = type_options()

    def problem(self, file: str, path: str, message: str) -> None:
        if (found := Problem(file, path, message)) not in self.cat.problems:  # one fault, one report
            self.cat.problems.append(found)

    @contextmanager
    def guard(self, *files: str) -> Iterator[None]:
        try:
            yield
        except (KeyError, TypeError, AttributeError, ValueError):  # a shape the schema did not promise:
            if not self.invalid.intersection(files):  # fine where it already complained, a bug elsewhere
                raise

    def run(self) -> Catalog:
        for attr, schema, pattern, _ in KINDS:
            for path in sorted(self.root.glob(pattern)):
                self.load(attr, schema, path)
        for path in sorted(self.root.glob("history/*/*.json")):  # earlier versions of libraries
            self.load_history(path)
        if SOURCES not in self.cat.dictionaries:
            self.problem("dictionaries", "/", f"no dictionary '{SOURCES}': element sources cannot be checked")
        for attr, _, _, check in KINDS:
            for item_id, data in getattr(self.cat, attr).items():
                with self.guard(self.files[(attr, item_id)]):
                    getattr(self, check)(self.files[(attr, item_id)], data)
        return self.cat

    def read(self, schema: str, path: Path) -> tuple[str, object]:
        file = path.relative_to(self.root).as_posix()
        try:
            data = json.loads(path.read_text("utf-8"), object_pairs_hook=_unique_keys)
        except (OSError, ValueError) as err:  # ValueError: not UTF-8, not JSON, a repeated key
            self.invalid.add(file)
            self.problem(file, "/", f"not readable as JSON: {err}")
            return file, None
        validator = Draft202012Validator(_schema(schema), format_checker=Draft202012Validator.FORMAT_CHECKER)
        for err in validator.iter_errors(data):
            self.invalid.add(file)
            err = best_match(err.context) if err.context else err  # oneOf: the best branch says more
            where = list(err.absolute_path)
            if err.validator == "unevaluatedProperties" and where[:1] == ["elements"] and len(where) == 2:
                continue  # an option the type does not have: check_element says which, more clearly
            self.problem(file, "/" + "/".join(map(str, where)), err.message)
        return file, data

    def load(self, attr: str, schema: str, path: Path) -> None:
        file, data = self.read(schema, path)
        item_id, items = data.get("id") if isinstance(data, dict) else None, getattr(self.cat, attr)
        if isinstance(item_id, str) and item_id in items:
            self.problem(file, "/id", f"duplicate id '{item_id}' (also in {self.files[(attr, item_id)]})")
        elif isinstance(item_id, str):
            items[item_id], self.files[(attr, item_id)] = data, file

    def load_history(self, path: Path) -> None:  # history/<id>/<version>.json, for records stored under it
        file, data = self.read("library", path)
        key = (path.parent.name, path.stem)
        if isinstance(data, dict) and (data.get("id"), data.get("version")) == key:
            self.cat.history[key] = data
        elif data is not None:  # (None: not JSON, reported)
            self.problem(file, "/", f"must hold version {key[1]} of library {key[0]}")

    def known_codes(self, dictionary_id: str) -> set[str] | None:
        try:
            return {entry["code"] for entry in self.cat.dictionaries[dictionary_id]["codes"]}
        except (KeyError, TypeError):  # missing (reported where referenced) or broken (reported by its schema)
            return None

    def check_dictionary(self, file: str, d: dict) -> None:
        codes = [entry["code"] for entry in d["codes"]]
        for i, code in enumerate(codes):
            if code in codes[:i]:
                self.problem(file, f"/codes/{i}/code", f"duplicate code '{code}'")

    def check_library(self, file: str, lib: dict) -> None:
        if lib.get("kind") != (folder := Path(file).parent.name):
            self.problem(file, "/kind", f"is '{lib.get('kind')}' but the file is in libraries/{folder}/")
        elements, sources = lib["elements"], self.known_codes(SOURCES)
        for name, el in elements.items():
            with self.guard(file):
                self.check_element(file, f"/elements/{name}", el, sources)
        with self.guard(file):
            highest = LEVELS[max((LEVELS.index(el["sensitivity"]) for el in elements.values()), default=0)]
            if lib["sensitivity"] != highest:
                self.problem(file, "/sensitivity", f"must be '{highest}', the level of its most sensitive element")
        names = [event.get("event") if isinstance(event, dict) else None for event in lib["events"]]
        for i, event in enumerate(lib["events"]):
            with self.guard(file):
                if event["event"] in names[:i]:
                    self.problem(file, f"/events/{i}/event", f"duplicate event '{event['event']}'")
                if "when" in event:
                    self.check_when(file, f"/events/{i}/when", elements, event["when"])

    def check_element(self, file: str, at: str, el: dict, sources: set[str] | None) -> None:
        for option in sorted(set(el) - self.options.get(el["type"], set(el))):  # unknown types: the schema says
            self.problem(file, f"{at}/{option}", f"'{option}' is not an option of type '{el['type']}'")
        if "dictionary" in el and el["dictionary"] not in self.cat.dictionaries:
            self.problem(file, f"{at}/dictionary", f"unknown dictionary '{el['dictionary']}'")
        if sources is not None and el["source"] not in sources:
            self.problem(file, f"{at}/source", f"unknown source '{el['source']}' (not a code of '{SOURCES}')")
        if el.get("minimum", float("-inf")) > el.get("maximum", float("inf")):
            self.problem(file, f"{at}/maximum", "is below the minimum")

    def check_when(self, file: str, at: str, elements: dict, when: dict) -> None:
        if (el := elements.get(when["element"])) is None:
            self.problem(file, f"{at}/element", f"no element '{when['element']}' in this library")
            return
        value, kind = when["equals"], WHEN_TYPES.get(el["type"])
        if kind is None or not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
            self.problem(file, f"{at}/equals", f"{value!r} cannot be compared with the {el['type']} '{when['element']}'")
        elif el["type"] == "code" and value not in (self.known_codes(el["dictionary"]) or {value}):
            self.problem(file, f"{at}/equals", f"'{value}' is not a code of dictionary '{el['dictionary']}'")

    def check_template(self, file: str, tpl: dict) -> None:
        if (lib := self.cat.libraries.get(tpl["library"])) is None:
            self.problem(file, "/library", f"unknown library '{tpl['library']}'")
            return
        lib_file, payload, mapping = self.files[("libraries", tpl["library"])], tpl["payload_example"], tpl["mapping"]
        for target, rule in mapping.items():
            with self.guard(file, lib_file):
                self.check_rule(file, f"/mapping/{target}", lib, target, rule, payload)
        with self.guard(file, lib_file):
            subject = [lib["subject"]] if lib["subject"] != "school" else []  # a device's school is implied
            required = [name for name, el in lib["elements"].items() if el.get("required")]
            for name in dict.fromkeys(["source_id", "occurred_at", *subject, *required]):
                if name not in mapping:
                    self.problem(file, "/mapping", f"'{name}' is not mapped, but every '{lib['id']}' record needs it")

    def check_rule(self, file: str, at: str, lib: dict, target: str, rule: dict, payload: dict) -> None:
        el = lib["elements"].get(target)
        if el is None and target not in ENVELOPE:
            self.problem(file, at, f"'{target}' is neither an element of library '{lib['id']}' nor an envelope field")
            return
        keys = rule.get("from", [])
        for key in [keys] if isinstance(keys, str) else keys:
            if key not in payload:
                self.problem(file, f"{at}/from", f"'{key}' is not a key of payload_example")
        target_type = el["type"] if el else "datetime" if target == "occurred_at" else "string"
        makes = TRANSFORM_MAKES.get(rule.get("transform"))
        if makes and makes != target_type:
            self.problem(file, f"{at}/transform", f"'{rule['transform']}' makes a {makes}, not a {target_type}")
        if target_type == "code":
            codes = self.known_codes(el["dictionary"]) or set()
            for value in [rule["const"]] if "const" in rule else rule.get("values", {}).values():
                if codes and value not in codes:
                    self.problem(file, at, f"'{value}' is not a code of dictionary '{el['dictionary']}'")
