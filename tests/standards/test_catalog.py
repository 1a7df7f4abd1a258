"""The data standard (standards/): the shipped files are valid and consistent, and broken copies are caught
with the file and the JSON pointer of every problem."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from foundation.cli.standards import standards_cmd
from foundation.standards import Catalog, Problem, catalog, load_catalog
from foundation.standards.catalog import LEVELS, SCHEMAS
from standards import ROOT


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog()


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "standards"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return root


def _edit(root: Path, file: str, change) -> None:
    path = root / file
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")


def _problems_at(cat: Catalog, file: str, path: str) -> list[Problem]:
    return [p for p in cat.problems if p.file == file and p.path == path]


# ---- the shipped standard ---------------------------------------------------------------------------
def test_the_schemas_are_valid_draft_2020_12():
    for name in ("dictionary", "library", "iot-template"):
        schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


def test_the_shipped_standard_has_no_problems(shipped):
    assert shipped.problems == []
    assert {"school", "staff", "student", "guardian_relation"} == {
        i for i, lib in shipped.libraries.items() if lib["kind"] == "base"}
    assert {"attendance", "conduct_event", "card_transaction", "canteen_meal", "dorm_access", "homework",
            "test_score", "psych_screening", "activity", "afterschool_course", "afterschool_attendance",
            "health_check"} <= set(shipped.libraries)
    assert {"access_gate", "canteen_pos", "classroom_checkin", "answer_device"} <= set(shipped.iot_templates)
    assert catalog() is catalog() and catalog().problems == []


def test_every_element_declares_source_sensitivity_and_both_descriptions(shipped):
    for lib_id, lib in shipped.libraries.items():
        assert lib["elements"], lib_id
        assert lib["title"]["zh"] and lib["title"]["en"] and lib["description"]["zh"] and lib["description"]["en"]
        for name, el in lib["elements"].items():
            assert el["source"] and el["sensitivity"] in LEVELS, (lib_id, name)
            assert el["description"]["zh"].strip() and el["description"]["en"].strip(), (lib_id, name)
            assert re.search(r"[\u4e00-\u9fff]", el["description"]["zh"]), (lib_id, name)  # Chinese first


def test_dictionaries_used_by_code_and_all_ethnicities(shipped):
    from foundation import codes

    for dictionary_id in ("sex", "ethnicity", "family_relation", "student_status"):
        assert shipped.dictionary(dictionary_id)["codes"]
    ethnicity = [c["code"] for c in shipped.dictionary("ethnicity")["codes"]]
    assert ethnicity == [f"{n:02d}" for n in range(1, 57)] + ["97", "98"]
    for name, d in shipped.dictionaries.items():  # the runtime lookup serves every shipped dictionary, whole
        assert set(codes.codes_of(name)) == {c["code"] for c in d["codes"]}
    for d in shipped.dictionaries.values():
        assert re.fullmatch(r"\d+\.\d+\.\d+", d["version"]) and d["title"]["zh"] and d["title"]["en"]
        if d["standard"] == "Jizuo":
            assert d["description"]["zh"] and d["description"]["en"], d["id"]


def test_base_libraries_match_the_core_tables(shipped):
    from foundation.models import GuardianLink, OrgUnit, SchoolFacility, Staff, Student

    def columns(model, drop, add=()):
        return {c.name for c in model.__table__.columns} - {"id", "school_id", "created_at", "updated_at", *drop} | set(add)

    assert set(shipped.library("student")["elements"]) == columns(
        Student, {"id_number_enc", "id_number_hash", "class_id"}, {"id_number", "class"})
    assert set(shipped.library("staff")["elements"]) == columns(Staff, {"department_id"}, {"department"})
    assert set(shipped.library("school")["elements"]) == columns(  # a class's own columns are not a school's
        OrgUnit, {"kind", "parent_id", "entry_year", "seq", "class_type", "course_id"}) | columns(
        SchoolFacility, {"source"})  # the facility elements live in school_facilities (issue 21)
    assert {"relation_code", "is_primary"} <= set(shipped.library("guardian_relation")["elements"])
    assert columns(GuardianLink, {"guardian_id", "student_id"}) == {"relation_code", "is_primary"}
    student = shipped.library("student")["elements"]
    assert student["id_number"]["sensitivity"] == "highly_sensitive" and student["name"]["sensitivity"] == "internal"
    assert student["birth_date"]["sensitivity"] == "sensitive" and student["class"]["type"] == "class"
    stages = {c["code"] for c in shipped.dictionary("school_stage")["codes"]}
    from foundation.models.org import STAGES

    assert stages == set(STAGES)


def test_events_are_well_formed(shipped):
    for lib_id, lib in shipped.libraries.items():
        names = [e["event"] for e in lib["events"]]
        assert len(names) == len(set(names)), lib_id
        if lib["kind"] == "business":
            assert names, f"{lib_id} raises no event"
        for event in lib["events"]:
            assert re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+", event["event"])
            assert set(event) <= {"event", "when"}
            if "when" in event:
                el = lib["elements"][event["when"]["element"]]
                if el["type"] == "code":
                    codes = {c["code"] for c in shipped.dictionary(el["dictionary"])["codes"]}
                    assert event["when"]["equals"] in codes
    attendance = {e["event"]: e.get("when") for e in shipped.library("attendance")["events"]}
    assert attendance == {"attendance.recorded": None,
                          "attendance.late": {"element": "status", "equals": "late"},
                          "attendance.early_leave": {"element": "status", "equals": "early_leave"},
                          "attendance.absent": {"element": "status", "equals": "absent"}}


def test_highly_sensitive_libraries_declare_readable_by(shipped):
    from foundation.permissions import ROLES

    for lib_id, lib in shipped.libraries.items():
        highest = max(LEVELS.index(el["sensitivity"]) for el in lib["elements"].values())
        assert lib["sensitivity"] == LEVELS[highest], lib_id
        if lib["sensitivity"] == "highly_sensitive":
            assert lib["readable_by"] and set(lib["readable_by"]) <= set(ROLES), lib_id
    assert shipped.library("psych_screening")["readable_by"] == ["psychology_teacher", "homeroom_teacher"]


def test_every_payload_example_maps_into_a_valid_record(shipped):
    iot = pytest.importorskip("foundation.ingest.iot")
    validate = pytest.importorskip("foundation.ingest.validate")
    for template_id, template in shipped.iot_templates.items():
        record = iot.map_payload(template, template["payload_example"])
        library = shipped.library(template["library"])
        clean, errors = validate.Compiled(library, shipped.dictionaries).validate(record)
        assert errors == {}, template_id
        assert set(record) == set(clean) | ({"source_id", "occurred_at", library["subject"]} & set(record)), template_id


def test_catalog_lookups(shipped):
    assert shipped.library("card_transaction")["scope"] == "cards"
    assert shipped.library("card_transaction", "1.0.0") is shipped.library("card_transaction")
    with pytest.raises(KeyError):
        shipped.library("no_such_library")
    with pytest.raises(KeyError):
        shipped.dictionary("no_such_dictionary")


# ---- broken copies ----------------------------------------------------------------------------------
def _set(*keys_and_value):
    *keys, last, value = keys_and_value

    def change(data):
        for k in keys:
            data = data[k]
        data[last] = value
    return change


def _delete(*keys):
    *keys, last = keys

    def change(data):
        for k in keys:
            data = data[k]
        del data[last]
    return change


CARD = "libraries/business/card_transaction.json"
ATTENDANCE = "libraries/business/attendance.json"
BROKEN = {  # name: (file, change, path of the expected problem, words of its message)
    "unknown dictionary": (ATTENDANCE, _set("elements", "status", "dictionary", "attendance_state"),
                           "/elements/status/dictionary", "unknown dictionary 'attendance_state'"),
    "missing description.en": (CARD, _delete("elements", "amount", "description", "en"),
                               "/elements/amount/description", "'en' is a required property"),
    "bad version": ("libraries/business/homework.json", _set("version", "1.0"), "/version", "does not match"),
    "unknown element type": ("libraries/business/test_score.json", _set("elements", "score", "type", "float"),
                             "/elements/score/type", "'float' is not one of"),
    "option of another type": (ATTENDANCE, _set("elements", "period", "pattern", "^[0-9]+$"),
                               "/elements/period/pattern", "not an option of type 'integer'"),
    "code without dictionary": (CARD, _delete("elements", "merchant_type", "dictionary"),
                                "/elements/merchant_type", "'dictionary' is a required property"),
    "bad regex": ("libraries/base/school.json", _set("elements", "code", "pattern", "^[0-9{10}$"),
                  "/elements/code/pattern", "is not a 'regex'"),
    "bad not_before date": ("libraries/base/student.json", _set("elements", "birth_date", "not_before", "1950-13-01"),
                            "/elements/birth_date/not_before", "is not a 'date'"),
    "unknown sensitivity": (CARD, _set("elements", "amount", "sensitivity", "secret"),
                            "/elements/amount/sensitivity", "'secret' is not one of"),
    "library less sensitive than its elements": (CARD, _set("sensitivity", "internal"), "/sensitivity",
                                                 "must be 'sensitive'"),
    "highly sensitive without readable_by": ("libraries/business/psych_screening.json", _delete("readable_by"),
                                             "/", "'readable_by' is a required property"),
    "id not lower_snake_case": ("libraries/business/activity.json", _set("id", "Activity"), "/id", "does not match"),
    "unknown source": (CARD, _set("elements", "amount", "source", "card_sytem"), "/elements/amount/source",
                       "unknown source 'card_sytem'"),
    "when on a missing element": (ATTENDANCE, _set("events", 1, "when", "element", "state"),
                                  "/events/1/when/element", "no element 'state'"),
    "when on an unknown code": (ATTENDANCE, _set("events", 1, "when", "equals", "tardy"),
                                "/events/1/when/equals", "'tardy' is not a code of dictionary 'attendance_status'"),
    "event name not dotted": (ATTENDANCE, _set("events", 0, "event", "recorded"), "/events/0/event", "does not match"),
    "minimum above maximum": (CARD, _set("elements", "amount", "minimum", 20000), "/elements/amount/maximum",
                              "below the minimum"),
    "kind in the wrong folder": ("libraries/base/staff.json", _set("kind", "business"), "/kind",
                                 "the file is in libraries/base/"),
    "IoT mapping to a missing element": ("iot/canteen_pos.json", _set("mapping", "amout", {"from": "amt_fen"}),
                                         "/mapping/amout", "neither an element of library 'card_transaction'"),
    "IoT unknown library": ("iot/access_gate.json", _set("library", "dorm_acess"), "/library",
                            "unknown library 'dorm_acess'"),
    "IoT key not in the payload": ("iot/classroom_checkin.json", _set("mapping", "period", {"from": "lesson_no"}),
                                   "/mapping/period/from", "'lesson_no' is not a key of payload_example"),
    "IoT map to an unknown code": ("iot/access_gate.json",
                                   _set("mapping", "direction", "values", "IN", "inside"),
                                   "/mapping/direction", "'inside' is not a code of dictionary 'dorm_direction'"),
    "IoT transform for another type": ("iot/canteen_pos.json", _set("mapping", "card_no", "transform", "fen_to_yuan"),
                                       "/mapping/card_no/transform", "makes a decimal, not a string"),
    "IoT required element not mapped": ("iot/answer_device.json", _delete("mapping", "submitted_on_time"),
                                        "/mapping", "'submitted_on_time' is not mapped"),
    "IoT const and from together": ("iot/canteen_pos.json", _set("mapping", "merchant_type", "from", "dev"),
                                    "/mapping/merchant_type", "has too many properties"),
    "IoT map without values": ("iot/answer_device.json", _delete("mapping", "subject", "values"),
                               "/mapping/subject", "'values' is a required property"),
    "duplicate dictionary code": ("dictionaries/jizuo_meal_type.json", _set("codes", 1, "code", "breakfast"),
                                  "/codes/1/code", "duplicate code 'breakfast'"),
    "dictionary without English": ("dictionaries/gbt2261_1_sex.json", _delete("codes", 0, "en"), "/codes/0",
                                   "'en' is a required property"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_copy_names_the_file_and_path(tmp_path, case):
    file, change, path, words = BROKEN[case]
    root = _copy(tmp_path)
    _edit(root, file, change)
    cat = load_catalog(root)
    found = _problems_at(cat, file, path)
    assert found, f"{case}: no problem at {file} {path}; got {[str(p) for p in cat.problems]}"
    assert any(words in p.message for p in found), [str(p) for p in found]


def test_duplicate_ids_not_json_and_every_problem_collected(tmp_path):
    root = _copy(tmp_path)
    shutil.copy(root / ATTENDANCE, root / "libraries/business/attendance_copy.json")
    shutil.copy(root / "iot/canteen_pos.json", root / "iot/canteen_pos_2.json")
    (root / "dictionaries/broken.json").write_text('{"id": "broken", ', "utf-8")
    for case in ("unknown dictionary", "bad version", "IoT mapping to a missing element", "missing description.en"):
        _edit(root, BROKEN[case][0], BROKEN[case][1])
    cat = load_catalog(root)
    where = {(p.file, p.path) for p in cat.problems}
    assert ("libraries/business/attendance_copy.json", "/id") in where
    assert ("iot/canteen_pos_2.json", "/id") in where
    assert ("dictionaries/broken.json", "/") in where
    for case in ("unknown dictionary", "bad version", "IoT mapping to a missing element", "missing description.en"):
        assert (BROKEN[case][0], BROKEN[case][2]) in where, case
    assert "duplicate id 'attendance' (also in libraries/business/attendance.json)" in {p.message for p in cat.problems}
    assert cat.library("attendance")["elements"]  # the first file keeps the id


def test_a_repeated_key_is_a_problem_not_a_silent_overwrite(tmp_path):
    root = _copy(tmp_path)
    text = (root / ATTENDANCE).read_text("utf-8")
    (root / ATTENDANCE).write_text(text.replace('"minutes_late":', '"period":'), "utf-8")
    cat = load_catalog(root)
    assert [(p.file, p.path) for p in cat.problems] == [(ATTENDANCE, "/"), ("iot/classroom_checkin.json", "/library")]
    assert "repeated key(s) ['period']" in cat.problems[0].message
    assert "attendance" not in cat.libraries  # unreadable: so its template's library is unknown too


def test_a_library_broken_in_shape_is_reported_not_crashed_on(tmp_path):
    root = _copy(tmp_path)
    _edit(root, ATTENDANCE, _set("elements", "status", ["not", "an", "object"]))
    _edit(root, CARD, _set("events", "card.transaction"))
    _edit(root, "dictionaries/jizuo_dorm_direction.json", _set("codes", "in,out"))
    cat = load_catalog(root)
    files = {p.file for p in cat.problems}
    assert {ATTENDANCE, CARD, "dictionaries/jizuo_dorm_direction.json"} <= files


def test_history_holds_earlier_versions(tmp_path):
    root = _copy(tmp_path)
    old = json.loads((root / ATTENDANCE).read_text("utf-8"))
    old["version"] = "0.9.0"
    del old["elements"]["reason"]
    old["sensitivity"] = "internal"
    (root / "history/attendance").mkdir(parents=True)
    (root / "history/attendance/0.9.0.json").write_text(json.dumps(old), "utf-8")
    (root / "history/attendance/0.8.0.json").write_text(json.dumps(old), "utf-8")  # says 0.9.0 inside
    cat = load_catalog(root)
    assert cat.library("attendance", "0.9.0")["version"] == "0.9.0"
    assert "reason" not in cat.library("attendance", "0.9.0")["elements"]
    assert [(p.file, p.path) for p in cat.problems] == [("history/attendance/0.8.0.json", "/")]


# ---- the command ------------------------------------------------------------------------------------
def test_standards_check_and_list_commands(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(standards_cmd, ["check"])
    assert ok.exit_code == 0, ok.output
    assert re.search(r"\d+ libraries, \d+ dictionaries, \d+ IoT templates: no problems", ok.output)

    root = _copy(tmp_path)
    file, change, path, _ = BROKEN["unknown dictionary"]
    _edit(root, file, change)
    bad = runner.invoke(standards_cmd, ["check", "--root", str(root)])
    assert bad.exit_code == 1
    assert f"{file}: {path}: unknown dictionary 'attendance_state'" in bad.output
    assert "1 problem(s)" in bad.output

    listed = runner.invoke(standards_cmd, ["list"])
    assert listed.exit_code == 0
    line = next(ln for ln in listed.output.splitlines() if ln.startswith("psych_screening "))
    assert line.split()[1:5] == ["business", "1.0.0", "highly_sensitive", "6"]
