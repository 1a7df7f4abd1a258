"""The link crawl: every demo role signs in and follows every link on every page it can reach, as a new user
clicking around would. Any answer that is not 2xx, or a redirect landing on a 2xx page, fails, with the page
the link was on. A link to something the viewer cannot open must not be drawn at all."""
from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from tests.conftest import AuthActions, login_of
from tests.points.conftest import installed, schools  # noqa: F401  (fixtures: the points plugin in both schools)

SKIP = re.compile(r"^/(logout|static/|api/|oidc/|\.well-known/|favicon)|/export|/download|\.(csv|xlsx|json|pdf)$")
PER_PATTERN = 2  # /students/84 and /students/85 are the same page: visit two of each shape
MAX_PAGES = 120  # per role, a bound on the crawl


KEY = re.compile(r"^[a-z][a-z_]*(\.[a-z0-9_]+){1,}$")  # a catalogue key shown as is: a text nobody wrote


class _Links(HTMLParser):
    """The page's links, and any visible text that is a bare catalogue key (``points.profile.more``)."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.keys: list[str] = []
        self._quiet = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code", "pre"):
            self._quiet += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "pre"):
            self._quiet = max(0, self._quiet - 1)

    def handle_data(self, data):
        if not self._quiet and KEY.match(data.strip()):
            self.keys.append(data.strip())


def _shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def crawl(client, start: str = "/") -> tuple[int, list[str]]:
    """Visit pages breadth first from ``start``; return (pages visited, problems)."""
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    queue: deque[tuple[str, str]] = deque([(start, "(start)")])
    problems, visited = [], 0
    while queue and visited < MAX_PAGES:
        url, origin = queue.popleft()
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path in seen or SKIP.search(parts.path) or "lang=" in parts.query:
            continue
        seen.add(path)
        keys = sorted({kv.split("=", 1)[0] for kv in parts.query.split("&") if kv})  # ?a=1&b=2 ≡ ?b=3&a=4
        shape = _shape(parts.path) + ("?" + "&".join(keys) if keys else "")
        if shapes.get(shape, 0) >= PER_PATTERN:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        resp = client.get(path, follow_redirects=True)
        visited += 1
        if not 200 <= resp.status_code < 300:
            problems.append(f"{resp.status_code} {path} (linked from {origin})")
            continue
        if "text/html" not in resp.content_type:
            continue
        parser = _Links()
        parser.feed(resp.get_data(as_text=True))
        problems += [f"untranslated {k!r} on {path}" for k in parser.keys]
        for href in parser.hrefs:
            if href.startswith(("#", "mailto:", "tel:", "javascript:")):
                continue
            full = urljoin("http://localhost" + path, href)
            if urlsplit(full).netloc != "localhost":
                continue
            queue.append((full.split("#", 1)[0], path))
    return visited, problems


ROLES = ["district_admin", "district_admin@school", "school_admin", "school_admin@en", "homeroom_teacher", "subject_teacher", "psychology_teacher",
         "life_instructor", "dean", "principal", "student_cadre", "student", "parent", "parent@en"]


@pytest.mark.parametrize("role", ROLES)
def test_every_link_a_role_is_shown_opens(app, demo, installed, role):  # noqa: F811
    auth = AuthActions(app.test_client())
    assert auth.login(login_of(demo, role.split("@")[0], 0)).status_code == 302
    if role.endswith("@en"):  # the English switch: a cookie from then on
        auth.client.get("/?lang=en")
    if role.endswith("@school"):  # the district admin, having entered a school (an audited step)
        school_id = next(e["school_id"] for e in demo["logins"] if e["school_id"])
        token = auth.client.get("/api/v1/me").get_json()["csrf_token"]
        assert auth.client.post("/district/enter", data={"school_id": school_id, "csrf_token": token}).status_code == 302
    visited, problems = crawl(auth.client)
    print(f"{role}: {visited} pages")
    assert visited >= 5, f"{role} reached only {visited} pages"
    assert not problems, f"{role}: {len(problems)} dead links:\n" + "\n".join(problems)
