"""Run the stand-in city portal (a real oidc-provider under Node.js, see provider.mjs) from Python tests.

    provider = UpstreamProvider()
    issuer = provider.start({"clients": [...], "accounts": [...]})
    callback_url = provider.sign_in(authorization_url, login_hint="parent-1")   # no browser needed
    provider.stop()

Only the standard library is used here, so the harness works whether or not requests/httpx are installed.
"""
from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIN_NODE = (18, 12)  # oidc-provider 8.x; 9.x wants Node 22 LTS


def _node_version(node: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.(\d+)", out.strip())
    return tuple(int(x) for x in match.groups()) if match else None


def _installed() -> bool:
    return (HERE / "node_modules" / "oidc-provider" / "package.json").is_file()


def upstream_available() -> tuple[bool, str]:
    """Whether the portal can start as things are now, and if not, why."""
    node = shutil.which("node")
    if not node:
        return False, "Node.js is not installed (node not on PATH)"
    version = _node_version(node)
    if version is None or version < MIN_NODE:
        return False, f"Node.js >= {'.'.join(map(str, MIN_NODE))} is needed, found {version}"
    if not _installed():
        return False, f"oidc-provider is not installed: run `npm ci` in {HERE}"
    return True, f"node {'.'.join(map(str, version))}, oidc-provider installed"


def ensure_installed() -> None:
    """Install the locked oidc-provider into tests/upstream/node_modules unless it is there already."""
    if _installed():
        return
    npm = shutil.which("npm")
    if not npm:
        raise RuntimeError(f"npm is not installed, so oidc-provider cannot be installed in {HERE}")
    try:
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True,
                              text=True, timeout=600)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"`npm ci` in {HERE} took longer than {exc.timeout}s") from exc
    if proc.returncode != 0 or not _installed():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise RuntimeError(f"`npm ci --no-audit --no-fund` failed in {HERE} (exit {proc.returncode}):\n{tail}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # sign_in() walks the redirects itself, to stop where the portal hands back to the client.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class UpstreamProvider:
    """One oidc-provider process on 127.0.0.1; ``issuer`` is set while it runs."""

    def __init__(self, node: str = "node", startup_timeout: float = 30.0) -> None:
        self.node, self.startup_timeout = node, startup_timeout
        self.issuer: str | None = None
        self.config: dict | None = None
        self._proc: subprocess.Popen | None = None
        self._dir: Path | None = None

    @property
    def port(self) -> int | None:
        return urllib.parse.urlsplit(self.issuer).port if self.issuer else None

    @property
    def log(self) -> str:
        """What the Node process printed (stdout and stderr), for failure messages."""
        path = self._dir / "provider.log" if self._dir else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def start(self, config: dict, port: int = 0) -> str:
        """Start with ``config`` (see provider.mjs for its keys); port 0 lets the OS pick. Returns the issuer."""
        if self._proc:
            raise RuntimeError("already running; stop() first")
        self._dir = Path(tempfile.mkdtemp(prefix="jizuo-upstream-"))
        config_path = self._dir / "config.json"
        config_path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
        log_path = self._dir / "provider.log"
        with open(log_path, "wb") as log:
            # A file, not a pipe: nobody drains a pipe after start-up, and a full one would stall Node.
            self._proc = subprocess.Popen([self.node, str(HERE / "provider.mjs"), str(config_path), str(port)],
                                          cwd=HERE, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            ready = re.search(r"^READY (\S+)$", log_path.read_text(errors="replace"), re.M)
            if ready:
                self.issuer, self.config = ready.group(1), config
                return self.issuer
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        log_text = self.log
        self.stop()
        raise RuntimeError(f"the upstream OpenID provider did not start:\n{log_text}")

    def stop(self) -> None:
        proc, self._proc, self.issuer = self._proc, None, None
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> UpstreamProvider:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def sign_in(self, authorization_url: str, login_hint: str | None = None,
                cookies: CookieJar | None = None, max_hops: int = 10) -> str:
        """Play the parent's browser: follow the portal's redirects from ``authorization_url`` and return the
        URL it sends the browser to outside the portal (the client's redirect_uri with code/state, or error).

        ``login_hint`` is added to the request when given; the portal then signs that account in without a
        form. Pass ``cookies`` to keep the portal's session across calls, as a browser would.
        """
        if not self.issuer:
            raise RuntimeError("the upstream provider is not running")
        if login_hint is not None:
            parts = urllib.parse.urlsplit(authorization_url)
            query = urllib.parse.parse_qsl(parts.query) + [("login_hint", login_hint)]
            authorization_url = parts._replace(query=urllib.parse.urlencode(query)).geturl()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies or CookieJar()),
                                             _NoRedirect())
        origin = urllib.parse.urlsplit(self.issuer)[:2]
        url = authorization_url
        for _ in range(max_hops):
            if urllib.parse.urlsplit(url)[:2] != origin:
                return url
            try:
                with opener.open(url, timeout=10) as resp:
                    body = resp.read().decode("utf-8", "replace")
                raise AssertionError(f"the portal answered {url} with a page, not a redirect "
                                     f"(no usable login_hint?):\n{body[:2000]}")
            except urllib.error.HTTPError as exc:
                with exc:
                    location = exc.headers.get("Location")
                    if exc.code not in (302, 303, 307) or not location:
                        raise AssertionError(f"{url} -> HTTP {exc.code}: {exc.read()[:2000]!r}") from None
                url = urllib.parse.urljoin(url, location)
        raise AssertionError(f"more than {max_hops} redirects from {authorization_url}")


def resident_id(first17: str) -> str:
    """Complete a Chinese resident ID number (GB 11643-1999) with its check character."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]
