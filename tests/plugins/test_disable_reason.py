"""Switching a plugin off takes a reason: disabling or uninstalling without one answers 422 naming ``reason``
(zh and en) and changes nothing; the reason lands in the audit log and in the school's record of the plugin,
on the API and on the square page."""
from __future__ import annotations

import sqlalchemy as sa

API = "/api/v1/plugins"


def test_disable_and_uninstall_need_a_reason_which_is_recorded(login, db_session):
    from foundation.models import AuditEntry, PluginInstall

    admin = login("school_admin", 0)
    assert admin.post(f"{API}/hello/install", json={"config": {"greeting": "欢迎"}}).status_code == 201
    for body, lang, words in ((None, "zh", "请写明理由"), ({"reason": "  "}, "en", "Please give a reason"),
                              ({"reason": 7}, "zh", "请写明理由")):
        resp = admin.post(f"{API}/hello/disable", json=body, lang=lang)
        assert resp.status_code == 422 and words in resp.get_json()["error"]["fields"]["reason"], (body, lang)
    too_long = admin.post(f"{API}/hello/disable", json={"reason": "长" * 301})
    assert too_long.status_code == 422 and "reason" in too_long.get_json()["error"]["fields"]
    assert admin.get("/hello/").status_code == 200  # still enabled: nothing half-done

    assert admin.post(f"{API}/hello/disable", json={"reason": "本学期试用结束"}).status_code == 200
    assert admin.get("/hello/").status_code == 404
    assert admin.post(f"{API}/hello/enable").status_code == 200  # switching back on needs no reason

    refused = admin.delete(f"{API}/hello?purge=true", json={}, lang="en")
    assert refused.status_code == 422 and "reason" in refused.get_json()["error"]["fields"]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(PluginInstall)
                             .where(PluginInstall.plugin == "hello")) == 1
    assert admin.delete(f"{API}/hello?purge=true", json={"reason": "改用区里统一的系统"}).status_code == 204

    entries = {e.action: e for e in db_session.scalars(sa.select(AuditEntry).where(
        AuditEntry.resource_type == "plugin", AuditEntry.resource_id == "hello"))}
    assert entries["plugins.disable"].detail == {"reason": "本学期试用结束"}
    assert entries["plugins.uninstall"].detail == {"purge": True, "reason": "改用区里统一的系统"}

    history = admin.get(f"{API}/hello/history").get_json()["items"]
    assert [(h["action"], h["reason"]) for h in history] == [
        ("uninstall", "改用区里统一的系统"), ("enable", None), ("disable", "本学期试用结束"), ("install", None)]
    assert history[0]["purge"] is True and history[0]["by"]
    page = admin.get("/square").get_data(as_text=True)
    assert "本校操作记录" in page and "理由：本学期试用结束" in page and "删除数据" in page
    assert login("school_admin", 1).get(f"{API}/hello/history").get_json()["items"] == []  # the other school's own
