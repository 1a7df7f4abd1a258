"""The cockpits (局长看板, 校长看板): the district's, every school side by side, is the district staff's home at
district level; a school's (the principal's), down to grade and class, is ``/cockpit`` inside the school —
for district staff only after the audited enter-school step. Each tile opens a page with a chart and a
table per figure, a term or month selector, and CSV and Excel exports of every table with the page's
suppression. The figures, their cache and their suppression are foundation/cockpit (docs/cockpit.md)."""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import Response, abort, current_app, g, redirect, render_template, request, url_for

from admin.blueprint import bp
from admin.context import is_staff
from foundation import db
from foundation.audit import record
from foundation.cockpit import TILE_KEYS, TILES, export, pipeline
from foundation.cockpit.cache import subscribe
from foundation.cockpit.periods import PeriodError, local_today, options, parse
from foundation.i18n import add_messages, current_lang
from foundation.models import OrgUnit
from foundation.permissions import Forbidden

log = logging.getLogger("jizuo.cockpit")
subscribe()  # domain events mark their schools' cached figures stale
add_messages("zh", {"nav.cockpit": "校长看板", "home.do.admin.cockpit": "本校各项统计，细到年级和班级",
                    "audit.do.district.cockpit.read": "查看局长看板", "audit.do.district.cockpit.export": "导出局长看板表格",
                    "audit.do.district.cockpit.refresh": "刷新局长看板"})
add_messages("en", {"nav.cockpit": "Cockpit", "home.do.admin.cockpit": "The school's figures, by grade and class",
                    "audit.do.district.cockpit.read": "Viewed the district cockpit",
                    "audit.do.district.cockpit.export": "Exported a district cockpit table",
                    "audit.do.district.cockpit.refresh": "Refreshed the district cockpit"})
W = {
    "zh": {"district": "局长看板", "school": "校长看板", "period": "统计期间", "show": "查看", "computed": "数据计算于",
           "refresh": "刷新", "schools": "各校对比", "school_col": "学校", "enter": "进入本校", "hidden": "*",
           "privacy": "全区层面不显示任何学生信息；涉及学生的统计中少于 5 人的格子隐去，可由其他格子推算出的格子也一并隐去。",
           "legend": "* 表示已隐去：该格少于 5 人，或可由其他格子和合计推算出。",
           "school_privacy": "本页为本校数据，可细到年级和班级；心理、资助等敏感统计只对有权查看的岗位显示。",
           "enter_note": "进入某校查看明细前须经过留痕的进校步骤。", "table": "表格", "chart": "图表",
           "csv": "导出 CSV", "xlsx": "导出 Excel", "none": "暂无数据", "off": "未启用该应用的学校",
           "failed": "部分学校的该项统计计算失败", "nobody": "尚无学校启用", "back": "返回看板", "more": "详情", "total": "合计",
           "sensitive": "敏感", "interval": "区间", "mean": "均值", "stale_note": "数据每晚重算，事件发生后自动过期；超过一小时自动重算。"},
    "en": {"district": "District cockpit", "school": "Principal's cockpit", "period": "Period", "show": "Show",
           "computed": "Figures computed at", "refresh": "Refresh", "schools": "Schools side by side",
           "school_col": "School", "enter": "Enter school", "hidden": "*",
           "privacy": "No student is named above school level; in figures counting students, cells under 5 show "
                      "are hidden, and so is any cell that could be worked out from the others.",
           "legend": "* hidden: fewer than 5, or derivable from the other cells and the totals.",
           "school_privacy": "This school's figures, down to grade and class; sensitive figures (wellbeing, aid) "
                             "only for the roles that may see them.",
           "enter_note": "Seeing one school's details takes the audited enter-school step.", "table": "Table",
           "chart": "Chart", "csv": "Export CSV", "xlsx": "Export Excel", "none": "No figures yet",
           "off": "Schools without this app", "nobody": "No school has enabled it", "failed": "This figure failed in some schools", "back": "Back to the cockpit",
           "more": "Details", "total": "Total", "sensitive": "sensitive", "interval": "interval", "mean": "mean",
           "stale_note": "Recomputed nightly, expired by the events that change them, and after an hour."},
}


def _where() -> int | None:
    """None at district level (district staff who may read the district's figures); else the school whose
    cockpit the caller sees: one where they see every student (the principal, a school admin, district staff
    who entered it)."""
    p = g.principal
    if p.is_district and not p.district_school_id:
        if not p.can("district.figures.read"):
            raise Forbidden("district.figures.read")
        return None
    full = sorted(p.scope().full_school_ids)
    if not full or not is_staff(p):
        raise Forbidden("cockpit")
    asked = request.args.get("school", type=int)
    return asked if asked in full else full[0]


def _bad(field: str, why: str):
    """A 400 that names the field (the shell's error page would not say which)."""
    abort(Response(f"{field}: {why}", 400, mimetype="text/plain"))


def _period(value: str | None = None) -> dict:
    try:
        return parse(value if value is not None else request.args.get("period"))
    except PeriodError as err:
        _bad("period", str(err))


def _schools(sess, only: int | None = None) -> list[tuple[int, str]]:
    lang = current_lang()
    q = sa.select(OrgUnit.id, OrgUnit.name, OrgUnit.name_en).where(OrgUnit.kind == "school")
    if only is not None:
        q = q.where(OrgUnit.id == only)
    rows = db.session().execute(q.order_by(OrgUnit.seq, OrgUnit.id)).all()
    return [(i, en if lang == "en" and en else name) for i, name, en in rows]


def _tables(sess, school: int | None, period: dict, tile: str | None = None, force: bool = False):
    """The visible figures' tables (of one tile, or all), and when their oldest cells were computed."""
    lang, p = current_lang(), g.principal
    figs = [s for s in pipeline.specs() if (tile is None or s.tile == tile) and pipeline.visible(s, p, school)]
    schools = _schools(sess, school)
    later: list[tuple[str, int]] | None = [] if current_app.config.get("COCKPIT_BACKGROUND", not current_app.testing) \
        and not force else None
    rows = pipeline.gather(sess, figs, [sid for sid, _ in schools], period, force=force, later=later)
    if later:  # answer with the cached cells now; what went stale is recomputed behind the page
        pipeline.refresh_later(current_app._get_current_object(), later, period["key"])
    if school is None:
        tables = [pipeline.district_table(s, schools, rows, lang) for s in figs]
    else:
        tables = []
        for s in figs:
            row = rows.get((s.key, school))
            if row is None and pipeline.enabled(s) is not None:
                continue  # the school has not enabled the plugin
            tables.append(pipeline.school_table(s, None if row is None else row.cells, schools[0][1], lang))
    return tables, schools, pipeline.computed_at(rows)


def _audit(school: int | None, what: str, period: dict) -> None:
    if school is None:
        record("district.cockpit.read", "district", None, detail={"page": what, "period": period["key"]})


def _local(ts) -> str:
    return (ts + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M") if ts else "—"


def _headline(t: dict) -> str:
    if not t["rows"]:
        return "—" if t["off"] else "0"  # no school computes it, or nothing to count yet
    foot = t["foot"] or (t["rows"][0] if len(t["rows"]) == 1 else None)
    if foot is None:
        return "—"
    if t["unit"] in pipeline.THINGS or not t["has_value"]:
        return "*" if foot["total"] is None else f"{foot['total']:,}"
    vals = [c["value"] for c in foot["cells"] if c["value"] is not None]
    return f"{vals[0]:g}" if vals else "—"


def _plan_tiles(sess) -> list[dict]:
    """H's forecast and balanced-development tiles (admin.cockpit_plan), when that module is there."""
    try:
        from admin import cockpit_plan
    except ImportError:
        return []
    out = []
    for name in ("forecast_tile", "balance_tile"):
        fn = getattr(cockpit_plan, name, None)
        if fn is None:
            continue
        try:
            tile = fn(sess, g.principal)
        except Exception:  # noqa: BLE001 - the cockpit shows the rest
            log.exception("cockpit plan tile %s failed", name)
            continue
        if tile:
            out.append({**tile, "key": name.removesuffix("_tile")})
    return out


@bp.get("/cockpit")
def cockpit():
    sess, school, period = db.session(), _where(), _period()
    lang = current_lang()
    tables, schools, at = _tables(sess, school, period)
    tiles = []
    for key, title in TILES:
        mine = [t for t in tables if t["tile"] == key]
        if mine:
            tiles.append({"key": key, "title": title[lang], "first": mine[0], "headline": _headline(mine[0]),
                          "n": len(mine)})
    side = []
    if school is None:
        firsts = [tl["first"] for tl in tiles]
        by_school = {sid: {} for sid, _ in schools}
        for t in firsts:
            for r in t["rows"]:
                by_school[r["school_id"]][t["key"]] = r["total"]
        side = [{"id": sid, "name": name, "totals": [by_school[sid].get(t["key"], "—") for t in firsts]}
                for sid, name in schools]
    _audit(school, "cockpit", period)
    plan = _plan_tiles(sess) if school is None else []
    sess.commit()
    charts = [{"id": f"tile-{tl['key']}", "table": tl["first"], "small": True} for tl in tiles]
    return render_template("admin/cockpit.html", w=W[lang], school=school, tiles=tiles, side=side, plan=plan,
                           periods=options(), period=period, computed=_local(at), charts=charts,
                           school_name=schools[0][1] if school is not None and schools else None)


@bp.get("/cockpit/<tile>")
def cockpit_tile(tile: str):
    if tile not in TILE_KEYS:
        abort(404)
    sess, school, period = db.session(), _where(), _period()
    lang = current_lang()
    tables, schools, at = _tables(sess, school, period, tile)
    _audit(school, tile, period)
    sess.commit()
    charts = [{"id": f"fig-{i}", "table": t, "small": False} for i, t in enumerate(tables)]
    return render_template("admin/cockpit_tile.html", w=W[lang], school=school, tile=tile,
                           tile_title=dict(TILES)[tile][lang], tables=tables, periods=options(), period=period,
                           computed=_local(at), charts=charts)


@bp.get("/cockpit/<tile>/<key>.<fmt>")
def cockpit_export(tile: str, key: str, fmt: str):
    if tile not in TILE_KEYS or fmt not in ("csv", "xlsx"):
        abort(404)
    sess, school, period = db.session(), _where(), _period()
    lang = current_lang()
    tables, _, at = _tables(sess, school, period, tile)
    table = next((t for t in tables if t["key"] == key), None)
    if table is None:
        abort(404)
    if school is None:
        record("district.cockpit.export", "district", None, detail={"figure": key, "period": period["key"], "format": fmt})
    sess.commit()
    label = period["labels"][lang]
    name = f"{key}-{period['key']}.{fmt}"
    if fmt == "csv":
        body, mime = export.to_csv(table, lang), "text/csv; charset=utf-8"
    else:
        note = f"{label} · {W[lang]['computed']} {_local(at)}"
        body, mime = export.to_xlsx(table, lang, note), \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/cockpit/refresh")
def cockpit_refresh():
    """Recompute the figures of the page (its tile, its period) now, for every school in the caller's view."""
    sess, school = db.session(), _where()
    tile = request.form.get("tile") or None
    if tile is not None and tile not in TILE_KEYS:
        _bad("tile", "not a cockpit tile")
    period = _period(request.form.get("period") or "")
    _tables(sess, school, period, tile, force=True)
    if school is None:
        record("district.cockpit.refresh", "district", None, detail={"tile": tile, "period": period["key"]})
    sess.commit()
    target = url_for("admin.cockpit_tile", tile=tile) if tile else url_for("admin.cockpit")
    return redirect(f"{target}?period={period['key']}")


def district_home():
    """The district staff's home at district level: the cockpit (or, without the figures' capability, the
    list of schools to enter)."""
    if not g.principal.can("district.figures.read"):
        return None
    return cockpit()


def today_key() -> str:
    return parse(None, local_today())["key"]
