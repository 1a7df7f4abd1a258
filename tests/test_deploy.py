"""A district's deployment, for real: two app processes (``jizuo serve``: gunicorn, two workers each) on two
ports and two ``jizuo worker`` processes, all on one PostgreSQL database and one Redis, built as an
operations team would (``jizuo demo`` on a fresh database; docs/deploy.md). It shows that whichever process
a request reaches makes no difference: a login made on A is valid on B and ends on both; a notice sent
through A appears live in a browser served by B; failed logins on A and B count towards one throttle and
one lockout; and the workers, looking for due jobs every two seconds, run each period of a job once.

Needs PostgreSQL and Redis (JIZUO_TEST_DATABASE_URL, JIZUO_TEST_REDIS_URL; CI sets both)."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.conftest import PASSWORD, browser_login

JIZUO = str(Path(sys.executable).parent / "jizuo")
ROOT = Path(__file__).resolve().parents[1]
RUNS = sa.text("SELECT job, school_id, period_start, worker, finished_at, ok, error FROM job_runs")
CLIENT = "203.0.113.7"  # the address the proxy reports for the throttled client (a documentation range)


class Deployment:
    def __init__(self, workdir: Path) -> None:
        from tests.conftest import _pg_exec, _pg_url

        self.workdir, self.procs, self.logs = workdir, {}, {}
        self.name = f"jizuo_deploy_{uuid.uuid4().hex[:8]}"
        _pg_exec(f'CREATE DATABASE "{self.name}"')
        self.url = _pg_url(self.name)
        self.env = {**os.environ, "JIZUO_DATABASE_URL": self.url,
                    "JIZUO_REDIS_URL": os.environ["JIZUO_TEST_REDIS_URL"],
                    "JIZUO_SECRET_KEY": "deploy-test-secret-not-for-production",
                    "JIZUO_INSTANCE_PATH": str(workdir / "instance"),
                    "JIZUO_MESSAGE_REDIS_PREFIX": f"jizuo-deploy-{uuid.uuid4().hex[:8]}",
                    "JIZUO_MESSAGE_SSE_POLL": "60",  # only Redis pub/sub can bring a notice across in time
                    "JIZUO_LOGIN_IP_MAX_FAILURES": "6", "JIZUO_TRUSTED_PROXIES": "127.0.0.1"}
        built = subprocess.run([JIZUO, "demo", "--schools", "1", "--students-per-school", "40", "--password",
                                PASSWORD, "--json"], env=self.env, cwd=workdir, capture_output=True,
                               text=True, timeout=240)
        assert built.returncode == 0, built.stderr[-2000:]
        self.logins = {e["role"]: e["username"] for e in json.loads(built.stdout.splitlines()[-1])["logins"]}

    def start(self, key: str, args: list[str]) -> None:
        log = open(self.workdir / f"{key}.log", "w")  # noqa: SIM115 - closed in stop()
        self.logs[key] = log
        self.procs[key] = subprocess.Popen([JIZUO, *args], env=self.env, cwd=self.workdir, stdout=log,
                                           stderr=subprocess.STDOUT)

    def serve(self, key: str) -> str:
        from tests.afterschool.rush import free_port

        port = free_port()
        self.start(key, ["serve", "--port", str(port), "--workers", "2", "--threads", "4"])
        return f"http://127.0.0.1:{port}"

    def log(self, key: str) -> str:
        return (self.workdir / f"{key}.log").read_text(errors="replace")

    def wait_up(self, base: str, key: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.procs[key].poll() is None, self.log(key)[-3000:]
            try:
                if requests.get(base + "/healthz", timeout=3).json()["status"] == "ok":
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.3)
        raise AssertionError(f"{key} did not answer: {self.log(key)[-3000:]}")

    def stop(self) -> None:
        from tests.conftest import _pg_exec

        for proc in self.procs.values():
            if proc.poll() is None:  # the graceful stop systemd sends; open live streams end at once
                proc.send_signal(signal.SIGTERM)
        slow = []
        for key, proc in self.procs.items():
            try:
                proc.wait(timeout=20)  # gunicorn's graceful timeout is 30 s: a stream held open would show
            except subprocess.TimeoutExpired:
                slow.append(key)
                proc.kill()
                proc.wait()
            self.logs[key].close()
        self.slow_to_stop = slow
        _pg_exec(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        import redis

        r = redis.Redis.from_url(self.env["JIZUO_REDIS_URL"])
        try:  # the delivery stream and the locks of this deployment
            for name in r.scan_iter(self.env["JIZUO_MESSAGE_REDIS_PREFIX"] + ":*"):
                r.delete(name)
        finally:
            r.close()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    if not (os.environ.get("JIZUO_TEST_DATABASE_URL") and os.environ.get("JIZUO_TEST_REDIS_URL")):
        pytest.skip("the deployment test needs PostgreSQL and Redis "
                    "(JIZUO_TEST_DATABASE_URL, JIZUO_TEST_REDIS_URL)")
    d = Deployment(tmp_path_factory.mktemp("deploy"))
    try:
        d.a, d.b = d.serve("A"), d.serve("B")
        d.started = time.monotonic()
        for key in ("W1", "W2"):  # jobs looked for every 2 s by both: many chances to run one twice
            d.start(key, ["worker", "--jobs-every", "2"])
        d.wait_up(d.a, "A")
        d.wait_up(d.b, "B")
        yield d
    finally:
        d.stop()
    assert not d.slow_to_stop, f"{d.slow_to_stop} did not stop within 20 s of SIGTERM"


def login(base: str, username: str, password: str = PASSWORD, client: str | None = None):
    """A browser-like login (form + CSRF token) with requests; returns (session, response)."""
    http = requests.Session()
    if client:
        http.headers["X-Forwarded-For"] = client  # as the trusted reverse proxy would report it
    page = http.get(base + "/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = http.post(base + "/login", data={"username": username, "password": password, "csrf_token": token},
                     allow_redirects=False, timeout=30)
    return http, resp


def test_a_login_on_one_process_is_valid_on_the_other_and_ends_on_both(deployment):
    d = deployment
    http, resp = login(d.a, d.logins["school_admin"])
    assert resp.status_code == 302, resp.text[:500]
    me_a = http.get(d.a + "/api/v1/me", timeout=30).json()
    me_b = http.get(d.b + "/api/v1/me", timeout=30).json()  # the same cookie, the other process
    assert me_b["username"] == me_a["username"] == d.logins["school_admin"]
    # a write on B with the CSRF token A gave: the token is bound to the session, not to the process
    r = http.put(d.b + "/api/v1/messages/preferences", json={"email": "office@example.edu.cn"},
                 headers={"X-CSRFToken": me_a["csrf_token"]}, timeout=30)
    assert r.status_code == 200, r.text[:300]
    prefs = http.get(d.a + "/api/v1/messages/preferences", timeout=30).json()
    assert prefs["email"] == "office@example.edu.cn"
    out = http.post(d.b + "/logout", headers={"X-CSRFToken": me_a["csrf_token"]}, allow_redirects=False,
                    timeout=30)  # sign out through B
    assert out.status_code == 302
    assert http.get(d.a + "/api/v1/me", timeout=30).status_code == 401  # ended on A too


@pytest.mark.browser
def test_a_notice_sent_through_one_process_reaches_a_browser_on_the_other(deployment, page, shot):
    d = deployment
    browser_login(page, d.b, d.logins["homeroom_teacher"])
    page.goto(f"{d.b}/messages")
    page.wait_for_selector("#live-status:has-text('无需刷新')")
    page.evaluate("window.__notReloaded = true")
    http, resp = login(d.a, d.logins["school_admin"])
    assert resp.status_code == 302
    me = http.get(d.a + "/api/v1/me", timeout=30).json()
    school = next(r["org_unit_id"] for r in me["roles"] if r["role"] == "school_admin")
    r = http.post(d.a + "/api/v1/messages", headers={"X-CSRFToken": me["csrf_token"]}, timeout=30,
                  json={"subject": "两个进程之间的通知", "body": "经 A 发出，在 B 上实时到达。",
                        "audience": {"kind": "school", "school_id": school, "role": "homeroom_teacher"}})
    assert r.status_code == 201, r.text[:300]
    start = time.monotonic()
    page.locator("li.msg.fresh", has_text="两个进程之间的通知").wait_for(timeout=8000)  # the poll is 60 s
    took = time.monotonic() - start
    assert page.evaluate("window.__notReloaded") is True
    shot(page, "deploy-live-notice-on-b")
    print(f"notice through A shown by the browser on B after {took:.2f} s")


def nginx_conf(d: Deployment, http_port: int, https_port: int) -> Path:
    """docs/deploy.md's nginx example, as written there, on free ports, A and B upstream and a throwaway
    self-signed certificate: the document's configuration is what is tested."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    root = d.workdir / "nginx"
    (root / "logs").mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    (root / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    (root / "key.pem").write_bytes(pem)
    doc = (ROOT / "docs" / "deploy.md").read_text()
    conf = re.search(r"```nginx\n(.*?)```", doc, re.S).group(1)
    port = lambda url: url.rsplit(":", 1)[1]  # noqa: E731
    for old, new in (("listen 80;", f"listen 127.0.0.1:{http_port};"),
                     ("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl"),
                     ("/etc/ssl/jizuo/fullchain.pem", str(root / "cert.pem")),
                     ("/etc/ssl/jizuo/privkey.pem", str(root / "key.pem")),
                     ("127.0.0.1:8001", f"127.0.0.1:{port(d.a)}"),
                     ("127.0.0.1:8002", f"127.0.0.1:{port(d.b)}"),
                     ("server_name jizuo.example.edu.cn;", "server_name localhost;"),
                     ("allow 10.0.0.0/8;", "allow 127.0.0.1;")):
        assert old in conf, old
        conf = conf.replace(old, new)
    temp = " ".join(f"{k}_temp_path {root / k};"
                    for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    path = root / "nginx.conf"
    path.write_text(f"pid {root / 'nginx.pid'};\nerror_log {root / 'logs' / 'error.log'};\n"
                    f"events {{ worker_connections 128; }}\n"
                    f"http {{ access_log {root / 'logs' / 'access.log'}; {temp}\n{conf}\n}}\n")
    return path


@pytest.mark.browser
def test_through_the_documented_nginx_a_browser_signs_in_over_tls_and_gets_live_notices(deployment, browser):
    """docs/deploy.md's nginx in front of A and B: TLS, the forwarded scheme (the CSRF check's https rules
    hold), and the live stream unbuffered — with the streams' poll at 60 s a buffered proxy would hold the
    notice back."""
    import shutil

    from tests.afterschool.rush import free_port

    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install -y nginx-light)")
    d = deployment
    http_port, https_port = free_port(), free_port()
    conf = nginx_conf(d, http_port, https_port)
    checked = subprocess.run([nginx, "-t", "-p", str(conf.parent), "-c", str(conf)], capture_output=True,
                             text=True)
    assert checked.returncode == 0, checked.stderr
    proc = subprocess.Popen([nginx, "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"])
    base = f"https://localhost:{https_port}"
    ctx = browser.new_context(ignore_https_errors=True, locale="zh-CN")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                http = requests.Session()
                http.trust_env = False  # no CA bundle from the environment: trust the test's certificate
                http.verify = str(conf.parent / "cert.pem")
                if http.get(base + "/healthz", timeout=5).json()["status"] == "ok":
                    break
            except (requests.RequestException, ValueError):
                assert time.monotonic() < deadline and proc.poll() is None, "nginx did not answer"
                time.sleep(0.2)
        moved = http.get(f"http://localhost:{http_port}/login", allow_redirects=False, timeout=5)
        assert moved.status_code == 301 and moved.headers["Location"].startswith("https://")
        page = ctx.new_page()
        browser_login(page, base, d.logins["homeroom_teacher"])  # a form POST over https: Referer checked
        page.goto(f"{base}/messages")
        page.wait_for_selector("#live-status:has-text('无需刷新')")
        admin, _ = login(d.a, d.logins["school_admin"])
        me = admin.get(d.a + "/api/v1/me", timeout=30).json()
        school = next(r["org_unit_id"] for r in me["roles"] if r["role"] == "school_admin")
        r = admin.post(d.a + "/api/v1/messages", headers={"X-CSRFToken": me["csrf_token"]}, timeout=30,
                       json={"subject": "经过反向代理的通知", "body": "TLS 与 nginx 之后实时到达。",
                             "audience": {"kind": "school", "school_id": school, "role": "homeroom_teacher"}})
        assert r.status_code == 201, r.text[:300]
        page.locator("li.msg.fresh", has_text="经过反向代理的通知").wait_for(timeout=8000)
        with requests.get(f"http://127.0.0.1:{https_port}", timeout=5) as plain:  # TLS only on that port
            assert plain.status_code == 400
    finally:
        ctx.close()
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=20)


def test_failed_logins_on_both_processes_count_towards_one_throttle_and_one_lockout(deployment):
    d = deployment
    # the address throttle (6 here): three failures through A and three through B, all from one client
    for i, base in enumerate([d.a, d.b] * 3):
        _, r = login(base, f"nobody.{i}", "wrong-Password-1", client=CLIENT)
        assert r.status_code == 401 and "用户名或密码错误" in r.text
    _, r = login(d.b, d.logins["parent"], client=CLIENT)  # the right password, refused before it is checked
    assert r.status_code == 401 and "此网络地址登录失败次数过多" in r.text
    _, r = login(d.a, d.logins["parent"], client=CLIENT)
    assert r.status_code == 401 and "此网络地址登录失败次数过多" in r.text
    _, r = login(d.a, d.logins["parent"], client="203.0.113.8")  # another client is not held up
    assert r.status_code == 302
    # the account lockout (5): failures alternate between the processes
    victim = d.logins["student"]
    for i in range(5):
        _, r = login([d.a, d.b][i % 2], victim, "wrong-Password-1", client=f"198.51.100.{i + 1}")
        assert r.status_code == 401 and "用户名或密码错误" in r.text
    for base in (d.a, d.b):
        _, r = login(base, victim, client="198.51.100.99")
        assert r.status_code == 401 and "账号已临时锁定" in r.text


def test_two_workers_run_each_period_of_each_job_once(deployment):
    from foundation import create_app
    from foundation.jobs import all_jobs
    from foundation.plugin_runtime import enabled_schools

    d = deployment
    app = create_app({"DATABASE_URL": d.url, "SECRET_KEY": "x", "INSTANCE_PATH": str(d.workdir / "probe"),
                      "REDIS_URL": None})
    with app.app_context():
        expected = {(job.key, school) for job in all_jobs().values()
                    for school in enabled_schools(job.plugin)}
    app.extensions["jizuo.engine"].dispose()
    assert len(expected) >= 5, expected  # the first-party plugins' jobs in the demo school
    engine = sa.create_engine(d.url)
    pids = {str(d.procs[k].pid) for k in ("W1", "W2")}
    try:
        deadline = time.monotonic() + 60
        while True:
            with engine.connect() as conn:
                rows = conn.execute(RUNS).all()
            if {(r.job, r.school_id) for r in rows} >= expected and all(r.finished_at for r in rows):
                break
            assert time.monotonic() < deadline, (rows, d.log("W1")[-2000:], d.log("W2")[-2000:])
            time.sleep(0.5)
        time.sleep(6)  # three more looks by each worker: none may run a period again
        with engine.connect() as conn:
            rows = conn.execute(RUNS).all()
    finally:
        engine.dispose()
    per_period = Counter((r.job, r.school_id, r.period_start) for r in rows)
    assert max(per_period.values()) == 1, per_period
    per_job = Counter((r.job, r.school_id) for r in rows)
    every = {job.key: job.every for job in all_jobs_of(app)}
    elapsed = time.monotonic() - d.started
    for (job, school), n in per_job.items():  # one run per period begun since the workers started
        assert n <= 1 + elapsed // every[job] + 1, (job, school, n, elapsed)
    assert {r.worker.rsplit(":", 1)[1] for r in rows} <= pids, {r.worker for r in rows}
    failed = [(r.job, r.error) for r in rows if not r.ok]
    shares = sorted(Counter(r.worker for r in rows).values())
    print(f"job runs: {len(rows)}, by the two workers {shares}; failed {failed}")
    # the workers still deliver: both alive after all those looks
    assert all(d.procs[k].poll() is None for k in ("W1", "W2"))


def all_jobs_of(app):
    from foundation.jobs import all_jobs

    with app.app_context():
        return list(all_jobs().values())


def test_forwarded_addresses_are_believed_only_from_the_trusted_proxy(app):
    """Behind nginx every request comes from the proxy: its X-Forwarded-For names the client the throttle
    and the audit log must see; a client reaching the app directly cannot claim an address."""
    from foundation.models import LoginFailure
    from foundation.serve import wrap
    from foundation.tenancy import unscoped

    wrap(app, ["127.0.0.1", "10.1.0.0/16"])
    for peer, claimed in (("10.1.2.3", "203.0.113.50"), ("192.0.2.9", "203.0.113.51")):
        http = app.test_client()
        env = {"REMOTE_ADDR": peer}
        page = http.get("/login", environ_base=env).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = {"username": "nobody", "password": "wrong-Password-1", "csrf_token": token}
        r = http.post("/login", data=form, environ_base=env,  # the Referer: as a browser on https sends it
                      headers={"X-Forwarded-For": claimed, "X-Forwarded-Proto": "https",
                               "Referer": "https://localhost/login"})
        assert r.status_code == 401
    with unscoped("test: the failures' addresses").session(app.extensions["jizuo.engine"]) as sess:
        seen = set(sess.scalars(sa.select(LoginFailure.ip)))
    assert seen == {"203.0.113.50", "192.0.2.9"}  # the proxy's client; the direct caller's own address


def test_serve_settings_for_a_district(tmp_path):
    from click.testing import CliRunner

    from foundation.cli import main
    from foundation.serve import ServeOptions, gunicorn_settings, warnings

    got = gunicorn_settings(ServeOptions(host="0.0.0.0", port=8100, workers=4, threads=8,
                                         trusted_proxies=["10.0.0.5"]))
    assert got | {"bind": ["0.0.0.0:8100"], "workers": 4, "threads": 8, "worker_class": "gthread",
                  "preload_app": True, "forwarded_allow_ips": "10.0.0.5"} == got
    assert got["max_requests"] and got["max_requests_jitter"] and callable(got["post_fork"])
    assert "%(U)s" in got["access_log_format"] and "%(r)s" not in got["access_log_format"]  # no query strings
    bad = CliRunner().invoke(main, ["serve", "--trusted-proxies", "nginx.local"],
                             env={"JIZUO_DATABASE_URL": "sqlite://", "JIZUO_SECRET_KEY": "x",
                                  "JIZUO_INSTANCE_PATH": str(tmp_path)})
    assert bad.exit_code != 0 and "--trusted-proxies" in bad.output
    # several workers without Redis: live notices would stay within one process; the operator is told
    said = warnings(ServeOptions(workers=2), {"REDIS_URL": None, "ENV": "production"}, secret_from_env=False)
    assert any("JIZUO_REDIS_URL" in w for w in said) and any("JIZUO_SECRET_KEY" in w for w in said)
    assert warnings(ServeOptions(workers=4), {"REDIS_URL": "redis://x", "ENV": "production"}, True) == []
