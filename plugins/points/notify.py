"""Messages the plugin sends through the message center (``jizuo_message_types``): the homeroom teacher hears
of a new appeal, and whoever appealed hears the decision. Sent in a savepoint: if the message center fails,
the appeal and its decision stand (and are visible on the pages) and the failure is logged."""
from __future__ import annotations

import logging

import sqlalchemy.orm as so

from foundation import plugin_api

log = logging.getLogger("jizuo.plugins.points")

TYPES = [
    {"key": "points.appeal.created", "title": {"zh": "德育积分申诉", "en": "Conduct points appeal"},
     "variables": ["student_name", "rule", "points", "reason"], "channels": ["inbox", "push"],
     "template": {"zh": {"subject": "{student_name} 对一条德育积分记录提出申诉",
                         "body": "记录：{rule}（{points} 分）。申诉理由：{reason}。请在“申诉处理”中处理。"},
                  "en": {"subject": "{student_name} appealed a conduct entry",
                         "body": "Entry: {rule} ({points} points). Reason: {reason}. Decide it under Appeals."}}},
    {"key": "points.appeal.decided", "title": {"zh": "德育积分申诉结果", "en": "Conduct appeal decided"},
     "variables": ["student_name", "rule", "decision", "note"], "channels": ["inbox", "push"],
     "template": {"zh": {"subject": "{student_name} 的德育积分申诉已处理：{decision}",
                         "body": "记录：{rule}。处理意见：{note}"},
                  "en": {"subject": "The conduct appeal for {student_name} was decided: {decision}",
                         "body": "Entry: {rule}. Note: {note}"}}},
]


def send(sess: so.Session, key: str, *, recipients: list[dict], variables: dict, school_id: int, link: str,
         dedupe_key: str) -> None:
    sender = getattr(plugin_api, "send_message", None)
    if sender is None:
        return
    try:
        with sess.begin_nested():
            sender(sess, key, recipients=recipients, variables=variables, school_id=school_id, link=link,
                   dedupe_key=dedupe_key)
    except Exception:  # noqa: BLE001 - logged; the appeal stands and is on the pages
        log.exception("message %s could not be sent", key)
