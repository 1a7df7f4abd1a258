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
     "variables": ["student_name", "appellant", "rule", "rule_en", "points", "reason"], "channels": ["inbox", "push"],
     "template": {"zh": {"subject": "{student_name} 对一条德育积分记录提出申诉",
                         "body": "{appellant} 对记录「{rule}」（{points} 分）提出申诉。申诉理由：{reason}"},
                  "en": {"subject": "{student_name} appealed a conduct entry",
                         "body": "{appellant} appealed the entry \"{rule_en}\" ({points} points). Reason: {reason}"}},
     "link_label": {"zh": "处理申诉", "en": "Decide the appeal"}},
    {"key": "points.appeal.decided", "title": {"zh": "德育积分申诉结果", "en": "Conduct appeal decided"},
     "variables": ["student_name", "rule", "rule_en", "decision", "decision_en", "decider", "note"],
     "channels": ["inbox", "push"],
     "template": {"zh": {"subject": "{student_name} 的德育积分申诉：{decision}",
                         "body": "记录「{rule}」的申诉由 {decider} 处理：{decision}。处理意见：{note}"},
                  "en": {"subject": "The conduct appeal for {student_name}: {decision_en}",
                         "body": "{decider} decided the appeal on \"{rule_en}\": {decision_en}. Note: {note}"}},
     "link_label": {"zh": "查看德育积分", "en": "View the conduct points"}},
]


def send(sess: so.Session, key: str, *, recipients: list[dict], variables: dict, school_id: int, link: str,
         dedupe_key: str, sender_account_id: int | None = None) -> None:
    """``link``: a page every recipient can open (the appeals list for staff, the student's points for the
    family); ``sender_account_id``: the person whose act this tells of (who appealed, who decided)."""
    deliver = getattr(plugin_api, "send_message", None)
    if deliver is None:
        return
    try:
        with sess.begin_nested():
            deliver(sess, key, recipients=recipients, variables=variables, school_id=school_id, link=link,
                    dedupe_key=dedupe_key, sender_account_id=sender_account_id)
    except Exception:  # noqa: BLE001 - logged; the appeal stands and is on the pages
        log.exception("message %s could not be sent", key)
