"""The enrolment forecast (招生预警, /cockpit/forecast) and the balanced-development map (均衡发展地图,
/cockpit/balance): district staff at district level see every school side by side; a school's principal (or
anyone who sees the whole school, district staff after entering it) sees that school only. Figures by school
and grade, never by student (foundation/cockpit/forecast.py, balance.py). Each chart has its table; every
table exports to CSV and Excel. The tiles for the cockpits are ``forecast_tile`` and ``balance_tile``."""
from __future__ import annotations

import csv
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from admin.context import is_staff
from foundation import db
from foundation.audit import record
from foundation.cockpit import balance as B
from foundation.cockpit import forecast as F
from foundation.cockpit.export import csv_bytes, xlsx_bytes
from foundation.i18n import current_lang, t
from foundation.models import OrgUnit
from foundation.permissions import Forbidden

plan = Blueprint("cockpit_plan", __name__, template_folder="templates")
FORMATS = ("csv", "xlsx")


@plan.before_request
def _guard():
    if g.get("principal") is None:
        return redirect(url_for("admin.login", next=request.full_path if request.method == "GET" else None))
    return None


def reach(p, asked: int | None = None) -> tuple[list[int], bool]:
    """(the schools ``p`` sees here, whether at district level). District staff at district level: every
    school (they need ``district.figures.read``); anyone else: one school whose every student they see (the
    principal's, a school admin's, district staff's after the audited enter-school step), ``asked`` if theirs."""
    if p.is_district and not p.district_school_id:
        if not p.can("district.figures.read"):
            raise Forbidden("district.figures.read")
        ids = db.session().scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school"))
        return sorted(ids), True
    full = sorted(p.scope().full_school_ids)
    if not full or not is_staff(p):
        raise Forbidden("cockpit")
    return [asked if asked in full else full[0]], False


def _asked() -> int | None:
    return request.args.get("school", type=int)


def _name(s: dict[str, Any], lang: str) -> str:
    return s["name_en"] if lang == "en" and s.get("name_en") else s["name"]


def _can_load(p, district: bool) -> bool:
    """Loading figures: the district's data office (standards.manage) or a school's admin for their school."""
    if district:
        return p.can("standards.manage")
    return p.can("org.manage", sorted(p.scope().full_school_ids)[0]) if p.scope().full_school_ids else False


# ---- the forecast ------------------------------------------------------------------------------------------

def _forecast_tables(data: dict[str, Any], lang: str) -> dict[str, Any]:
    """The page's two tables (schools; grades) as header + rows, the same for the page and the exports."""
    year, base = data["year"], data["base_year"]
    no = t("plan.no", lang)
    head = [t("plan.col.school", lang), t("plan.col.stage", lang), t("plan.col.now", lang, year=base),
            t("plan.col.forecast", lang, year=year), t("plan.col.entry", lang), t("plan.col.places", lang),
            t("plan.col.entry_places", lang), t("plan.col.over", lang), t("plan.col.mae", lang),
            t("plan.col.mape", lang)]
    schools = []
    for s in data["schools"]:
        fc = s.get("forecast") or {}
        bt = s.get("backtest") or {}
        over = s.get("over") or []
        schools.append([_name(s, lang), t(f"plan.stage.{s['stage']}", lang), s.get("current"), fc.get("total"),
                        (fc.get("grades") or {}).get(s["grades"][0]), s["places"]["total_places"],
                        s["places"]["entry_places"],
                        ("、" if lang == "zh" else ", ").join(t(f"plan.over.{k}", lang) for k in over) if over else no, bt.get("mae"),
                        bt.get("mape")])
    years = sorted({y for s in data["schools"] for y in s["history"]})
    ghead = [t("plan.col.school", lang), t("plan.col.grade", lang), *[str(y) for y in years],
             t("plan.col.forecast", lang, year=year), t("plan.col.ratio", lang)]
    grades = []
    for s in data["schools"]:
        fc = s.get("forecast") or {"grades": {}, "ratios": {}}
        for gr in s["grades"]:
            ratio = fc["ratios"].get(gr)
            how = (t("plan.intake", lang) if gr == s["grades"][0] else
                   "" if ratio is None else f"{ratio['ratio']:.3f}" + (f" ({t('plan.district_ratio', lang)})"
                                                                        if ratio["district"] else ""))
            grades.append([_name(s, lang), t("plan.grade", lang, n=gr),
                           *[s["history"].get(y, {}).get(gr) for y in years], fc["grades"].get(gr), how])
    return {"schools": {"head": head, "rows": schools}, "grades": {"head": ghead, "rows": grades}}


@plan.get("/cockpit/forecast")
def forecast_page():
    p, lang = g.principal, current_lang()
    ids, district = reach(p, _asked())
    data = F.district_forecast(db.session(), ids, district=district)
    tables = _forecast_tables(data, lang)
    chart = {"schools": [{"id": s["id"], "name": _name(s, lang), "now": s.get("current"),
                          "forecast": (s.get("forecast") or {}).get("total"), "places": s["places"]["total_places"],
                          "over": bool(s.get("over")), "history": {str(y): sum(v.values()) for y, v in s["history"].items()},
                          "grades": s["grades"], "now_grades": s["history"].get(data["base_year"], {}),
                          "forecast_grades": (s.get("forecast") or {}).get("grades", {})} for s in data["schools"]],
             "year": data["year"], "base_year": data["base_year"], "words": {
                 k: t(f"plan.chart.{k}", lang) for k in ("now", "forecast", "places", "students", "over", "total",
                                                          "grade", "mape")} | {"lang": lang}, "page": "forecast"}
    totals = [(s.get("forecast") or {}).get("total") for s in data["schools"]]
    return render_template("admin/cockpit_forecast.html", data=data, tables=tables, chart=chart, district=district,
                           can_load=_can_load(p, district), school=None if district else ids[0],
                           forecast_total=sum(totals) if totals and None not in totals else None)


# ---- the balanced-development map -----------------------------------------------------------------------

def _fmt(v: float | None) -> float | int | None:
    if v is None:
        return None
    return int(v) if float(v).is_integer() else round(v, 2)


def _balance_tables(data: dict[str, Any], lang: str) -> dict[str, Any]:
    keys = list(B.INDICATORS)
    title = {k: B.INDICATORS[k][2 if lang == "zh" else 3] for k in keys}
    head = [t("plan.col.school", lang), t("plan.col.stage", lang), t("plan.col.students", lang),
            *[title[k] for k in keys], t("plan.col.below", lang)]
    rows = []
    for s in data["schools"]:
        rows.append([_name(s, lang), t(f"plan.stage.{s['stage']}", lang), s.get("students"),
                     *[_fmt(s["indicators"][k]["value"]) for k in keys],
                     ("、" if lang == "zh" else ", ").join(title[k] for k in s["below"]) or t("plan.no", lang)])
    chead = [t("plan.col.stage", lang), t("plan.col.indicator", lang), t("plan.col.standard", lang),
             t("plan.col.mean", lang), t("plan.col.cv", lang), t("plan.col.limit", lang), t("plan.col.ok", lang)]
    crows = []
    for stage, group in data["groups"].items():
        for k in keys:
            v = group[k]
            if v["cv"] is None and data["standards"].get(stage, {}).get(k) is None:
                continue  # neither a standard nor two schools to compare: nothing to say
            ok = "" if v["ok"] is None else t("plan.yes" if v["ok"] else "plan.no", lang)
            crows.append([t(f"plan.stage.{stage}", lang), title[k], _fmt(data["standards"].get(stage, {}).get(k)),
                          v["mean"], v["cv"], v["limit"], ok])
    return {"schools": {"head": head, "rows": rows, "keys": keys}, "cv": {"head": chead, "rows": crows}}


@plan.get("/cockpit/balance")
def balance_page():
    p, lang = g.principal, current_lang()
    ids, district = reach(p, _asked())
    data = B.district_balance(db.session(), ids, district=district)
    tables = _balance_tables(data, lang)
    indicators = [{"key": k, "title": v[2 if lang == "zh" else 3], "unit": v[4 if lang == "zh" else 5]}
                  for k, v in B.INDICATORS.items()]
    chart = {"indicators": indicators, "schools": [
        {"name": _name(s, lang), "stage": s["stage"], "values": {k: v["value"] for k, v in s["indicators"].items()},
         "standard": {k: v["standard"] for k, v in s["indicators"].items()}, "below": s["below"]}
        for s in data["schools"]], "words": {k: t(f"plan.chart.{k}", lang) for k in (
            "standard", "below", "value", "ratio")} | {"lang": lang}, "page": "balance"}
    stages = sorted({s["stage"] for s in data["schools"]}) or ["primary", "junior"]
    marks = [i for i, s in enumerate(data["schools"]) if s["below"]]
    return render_template("admin/cockpit_balance.html", data=data, tables=tables, chart=chart, district=district,
                           indicators=indicators, stages=stages, can_set=district and p.can("standards.manage"),
                           can_load=_can_load(p, district), school=None if district else ids[0], marks=marks)


# ---- exports -------------------------------------------------------------------------------------------------

def _export(table: dict[str, Any], fmt: str, name: str) -> Response:
    lines = [table["head"], *table["rows"]]
    if fmt == "csv":
        body, mime = csv_bytes(lines), "text/csv; charset=utf-8"
    else:
        body, mime = xlsx_bytes(lines, name, width=28), \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


@plan.get("/cockpit/forecast/export.<fmt>")
def forecast_export(fmt: str):
    if fmt not in FORMATS:
        abort(404)
    which = request.args.get("table", "schools")
    if which not in ("schools", "grades"):
        abort(400, description="table: schools or grades")
    ids, district = reach(g.principal, _asked())
    data = F.district_forecast(db.session(), ids, district=district)
    return _export(_forecast_tables(data, current_lang())[which], fmt, f"forecast-{which}-{data['year']}")


@plan.get("/cockpit/balance/export.<fmt>")
def balance_export(fmt: str):
    if fmt not in FORMATS:
        abort(404)
    which = request.args.get("table", "schools")
    if which not in ("schools", "cv"):
        abort(400, description="table: schools or cv")
    ids, district = reach(g.principal, _asked())
    data = B.district_balance(db.session(), ids, district=district)
    return _export(_balance_tables(data, current_lang())[which], fmt, f"balance-{which}")


# ---- loading a district's own figures and setting its standard -----------------------------------------------

@plan.post("/cockpit/plan/import")
def plan_import():
    """A CSV of enrolment (school_code, school_year, grade, students) or facilities (school_code and the school
    base library's facility elements): all rows or none; problems named by line and field (422)."""
    p = g.principal
    ids, district = reach(p)
    if not _can_load(p, district):
        raise Forbidden("standards.manage" if district else "org.manage")
    kind = request.form.get("kind", "")
    if kind not in ("enrolment", "facilities"):
        abort(400, description="kind: enrolment or facilities")
    upload = request.files.get("file")
    text = upload.read().decode("utf-8-sig", errors="replace") if upload else request.form.get("csv", "")
    sess = db.session()
    codes = F.school_codes(sess, ids, district)
    try:
        rows = F.read_csv(text)
        parsed = (F.parse_enrolment if kind == "enrolment" else B.parse_facilities)(
            rows, codes, None if district else ids[0])
    except F.PlanningInputError as err:
        return render_template("admin/cockpit_plan_problems.html", problems=err.problems[:50],
                               more=max(0, len(err.problems) - 50), kind=kind), 422
    except (csv.Error, UnicodeError):
        return render_template("admin/cockpit_plan_problems.html", problems=[
            {"line": 1, "field": "file", "error": "not a CSV file"}], more=0, kind=kind), 422
    got = (F.store_enrolment if kind == "enrolment" else B.store_facilities)(sess, parsed, district)
    record("org.planning.import", "school", None if district else ids[0],
           detail={"kind": kind, **got, "schools": len({r["school_id"] for r in parsed})})
    sess.commit()
    flash(t("plan.loaded", created=got["created"], updated=got["updated"]))
    return redirect(url_for("cockpit_plan.forecast_page" if kind == "enrolment" else "cockpit_plan.balance_page"))


@plan.get("/cockpit/plan/<kind>.csv")
def plan_csv(kind: str):
    """The figures held now, in the very format the import takes (edit and load back): a template to fill."""
    if kind not in ("enrolment", "facilities"):
        abort(404)
    ids, district = reach(g.principal, _asked())
    sess = db.session()
    code_of = {v["id"]: code for code, v in F.school_codes(sess, ids, district).items()}
    if kind == "enrolment":
        head = ["school_code", "school_year", "grade", "students"]
        hist = F.histories(sess, ids, district)
        rows = [[code_of.get(s), y, gr, n] for s in ids for y, row in sorted(hist.get(s, {}).items())
                for gr, n in sorted(row.items())]
    else:
        names = list(B.facility_elements())
        head = ["school_code", *names]
        fac = F.facilities(sess, ids, district)
        rows = [[code_of.get(s), *[(fac.get(s) or {}).get(n) for n in names]] for s in ids]
    return _export({"head": head, "rows": rows}, "csv", kind)


@plan.post("/cockpit/balance/standard")
def set_standard():
    p = g.principal
    if not (p.is_district and not p.district_school_id and p.can("standards.manage")):
        raise Forbidden("standards.manage")
    stage, indicator, raw = (request.form.get(k, "").strip() for k in ("stage", "indicator", "value"))
    if stage not in F.STAGE_GRADES:
        abort(400, description="stage: unknown school stage")
    if indicator not in B.INDICATORS:
        abort(400, description="indicator: unknown indicator")
    try:
        value = None if raw == "" else float(raw)
        if value is not None and not 0 <= value <= 1_000_000:
            raise ValueError
    except ValueError:
        abort(400, description="value: a number from 0 to 1000000, or empty for the national default")
    sess = db.session()
    B.set_standard(sess, stage, indicator, value)
    record("org.planning.standard", "district", None, detail={"stage": stage, "indicator": indicator, "value": value})
    sess.commit()
    flash(t("plan.standard_saved"))
    return redirect(url_for("cockpit_plan.balance_page"))


# ---- tiles for the cockpits ----------------------------------------------------------------------------------

def forecast_tile(sess, principal) -> dict[str, Any]:
    """招生预警: how many schools next year's forecast puts over their places, the backtest error, the schools
    nearest their places. Empty for someone with no planning page."""
    try:
        ids, district = reach(principal)
    except Forbidden:
        return {}
    data = F.district_forecast(sess, ids, district=district)
    lang = current_lang()
    ranked = sorted((s for s in data["schools"] if s.get("forecast") and s["places"]["total_places"]),
                    key=lambda s: s["forecast"]["total"] / s["places"]["total_places"], reverse=True)
    mape = data["backtest"]["district"]["mape"]
    note = t("plan.tile.forecast_note", lang, year=data["year"] or "—", mape="—" if mape is None else f"{mape:.1f}")
    return {"title": t("plan.tile.forecast", lang), "value": len(data["over"]), "note": note,
            "link": url_for("cockpit_plan.forecast_page"), "tone": "red" if data["over"] else None,
            "bars": [[_name(s, lang), s["forecast"]["total"]] for s in ranked[:5]]}


def balance_tile(sess, principal) -> dict[str, Any]:
    """均衡发展: how many schools are below the standard on some indicator, and on which indicators."""
    try:
        ids, district = reach(principal)
    except Forbidden:
        return {}
    data = B.district_balance(sess, ids, district=district)
    lang = current_lang()
    below = [s for s in data["schools"] if s["below"]]
    per = {k: sum(1 for s in data["schools"] if k in s["below"]) for k in B.INDICATORS}
    return {"title": t("plan.tile.balance", lang), "value": len(below),
            "note": t("plan.tile.balance_note", lang, n=len(data["schools"])),
            "link": url_for("cockpit_plan.balance_page"), "tone": "red" if below else None,
            "bars": [[B.INDICATORS[k][2 if lang == "zh" else 3], n] for k, n in per.items() if n][:5]}
