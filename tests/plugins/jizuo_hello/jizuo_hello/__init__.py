"""Hello (问候墙): a small third-party Jizuo plugin. ``plugin`` is what the ``jizuo.plugins`` entry point
names; every hook it implements comes from ``foundation.hookspecs``."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from foundation.plugin_api import hookimpl

log = logging.getLogger("jizuo.plugins.hello")
CREATE, READ = "hello.greeting.create", "hello.greeting.read"


class Hello:
    @hookimpl
    def jizuo_manifest(self) -> dict[str, Any]:
        return {
            "name": "hello", "version": "0.1.0", "vendor": "Jizuo examples",
            "title": {"zh": "问候墙", "en": "Greeting wall"},
            "description": {"zh": "教师在本校的问候墙上留言；统计本校的迟到次数。",
                            "en": "Teachers post greetings on their school's wall; counts the school's late arrivals."},
            "foundation": ">=0.1,<1.0",
            "capabilities": [CREATE, READ],
            "config_schema": {
                "type": "object", "required": ["greeting"], "additionalProperties": False,
                "properties": {"greeting": {"type": "string", "minLength": 1, "maxLength": 40},
                               "max_per_day": {"type": "integer", "minimum": 1, "maximum": 100}},
            },
            "default_config": {"greeting": "你好", "max_per_day": 10},
        }

    @hookimpl
    def jizuo_capabilities(self) -> dict[str, dict[str, str]]:
        return {CREATE: {"zh": "发布问候", "en": "Post greetings"},
                READ: {"zh": "查看问候", "en": "Read greetings"}}

    @hookimpl
    def jizuo_role_grants(self) -> dict[str, list[str]]:
        return {"homeroom_teacher": [CREATE, READ], "school_admin": [CREATE, READ], "subject_teacher": [READ]}

    @hookimpl
    def jizuo_scopes(self) -> list[dict[str, Any]]:
        return [{"name": "hello.read", "zh": "读取问候墙", "en": "Read the greeting wall", "capabilities": [READ]}]

    @hookimpl
    def jizuo_migrations(self) -> str:
        return str(Path(__file__).parent / "migrations")

    @hookimpl
    def jizuo_blueprints(self) -> list[Any]:
        from jizuo_hello.views import blueprint

        return [blueprint()]

    @hookimpl
    def jizuo_event_subscriptions(self) -> dict[str, Any]:
        from jizuo_hello import store

        return {"attendance.late": lambda _event, payloads: store.add_late(payloads)}

    @hookimpl
    def jizuo_form_templates(self) -> list[dict[str, Any]]:
        return [{"id": "hello_feedback", "title": {"zh": "问候反馈", "en": "Greeting feedback"},
                 "schema": {"type": "object", "required": ["comment"],
                            "properties": {"comment": {"type": "string", "title": "留言", "maxLength": 200}}}}]

    @hookimpl
    def jizuo_install(self, school_id: int, config: dict[str, Any]) -> None:
        log.info("hello installed for school %s with greeting %r", school_id, config.get("greeting"))

    @hookimpl
    def jizuo_uninstall(self, school_id: int, purge: bool) -> None:
        if purge:
            from jizuo_hello import store

            store.purge(school_id)


plugin = Hello()
