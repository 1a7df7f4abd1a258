"""The worker makes the alert engine's scheduled pass: a red case whose contact deadline passed an hour ago
is escalated by a running ``jizuo worker`` without anyone calling ``jizuo alerts run``."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from tests.alerts.conftest import PSY
from tests.conftest import SECRET

JIZUO = shutil.which("jizuo") or str(Path(sys.executable).with_name("jizuo"))


def test_a_running_worker_escalates_an_overdue_case(app, sys_sess, k0, db_session, tmp_path):
    from foundation.alerts import trigger
    from foundation.db import utcnow
    from foundation.models import AlertEscalation

    case = trigger(sys_sess, PSY, student_id=k0.students[0], school_id=k0.school_id,
                   now=utcnow() - timedelta(hours=2))  # contact was due an hour ago
    sys_sess.commit()
    env = os.environ | {"JIZUO_DATABASE_URL": app.config["DATABASE_URL"], "JIZUO_SECRET_KEY": SECRET,
                        "JIZUO_PLUGINS": "", "JIZUO_INSTANCE_PATH": str(tmp_path / "worker")}
    env.pop("JIZUO_REDIS_URL", None)
    worker = subprocess.Popen([JIZUO, "worker", "--alerts-every", "60"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    try:
        deadline, steps = time.monotonic() + 60, []
        while time.monotonic() < deadline and not steps:
            time.sleep(0.5)
            db_session.expire_all()
            steps = db_session.scalars(sa.select(AlertEscalation).where(AlertEscalation.case_id == case.id)).all()
    finally:
        worker.terminate()
        out = worker.communicate(timeout=30)[0].decode()
    assert steps, out
