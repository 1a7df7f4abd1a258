"""``jizuo plugin new NAME``: writes a complete plugin distribution from the templates in ``plugin/``.

Each file under ``plugin/`` ends in ``.tmpl`` (so nothing here is linted, collected or imported as code) and
may hold placeholders, upper-case names between double underscores (``__PLUGIN__``, ``__PACKAGE__``…), in
its text and in its path. They are replaced in one pass, and nothing else is: the Jinja braces of the
generated templates and Python's own dunders (``__name__``, ``__init__``) pass through untouched.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

TEMPLATES = Path(__file__).parent / "plugin"
# the manifest's name rule (schemas/plugin-manifest.schema.json): at most 27 characters, so that its
# migrations' revision ids (name_0001) fit Alembic's 32-character column
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,26}$")
# first URL segments and blueprint names of the core and its web front end: a plugin named like one of them
# would shadow (or fail to register beside) it
RESERVED = frozenset({
    "account", "admin", "alerts", "api", "apps", "audit", "bind", "children", "classes", "conflicts", "district",
    "federation", "forms", "foundation", "healthz", "jizuo", "login", "logout", "messages", "oauth", "oidc", "org",
    "plugins", "shell", "square", "standards", "static", "students", "tests",
})
UNSAFE = re.compile(r'["\\\x00-\x1f\x7f]')  # titles go into Python, JSON and TOML strings as they are


class ScaffoldError(ValueError):
    """A name, title or target the scaffold refuses, with the reason for the person who typed it."""


@dataclass(frozen=True)
class Spec:
    name: str
    title_zh: str = "学生笔记"
    title_en: str = "Student notes"
    vendor: str = ""

    @property
    def package(self) -> str:
        return f"jizuo_{self.name}"

    @property
    def revision(self) -> str:
        """The first migration's id: Alembic stores revision ids in a 32-character column."""
        rev = f"{self.name}_0001"
        if len(rev) <= 32:
            return rev
        return f"{self.name[:22]}_{hashlib.sha1(self.name.encode()).hexdigest()[:4]}_0001"

    def values(self) -> dict[str, str]:
        return {
            "__PLUGIN__": self.name,
            "__PACKAGE__": self.package,
            "__DIST__": "jizuo-" + self.name.replace("_", "-"),
            "__CLASS__": "".join(part.capitalize() for part in self.name.split("_") if part),
            "__REVISION__": self.revision,
            "__TITLE_ZH__": self.title_zh,
            "__TITLE_EN__": self.title_en,
            "__VENDOR__": self.vendor or "(your organisation)",
        }


def check(spec: Spec, taken: set[str]) -> None:
    """Raise :class:`ScaffoldError` unless the name and titles can make a plugin."""
    if not NAME_RE.match(spec.name):
        raise ScaffoldError(f"{spec.name!r} is not a plugin name: 2 to 40 characters of a-z, 0-9 and _, "
                            "starting with a letter (it prefixes the plugin's capabilities, tables and URLs)")
    if spec.name in taken:
        raise ScaffoldError(f"a plugin named {spec.name!r} is already installed: pick another name")
    if spec.name in RESERVED:
        raise ScaffoldError(f"{spec.name!r} is a path or name of the platform itself: pick another name")
    for label, text, longest in (("--title-zh", spec.title_zh, 60), ("--title-en", spec.title_en, 60),
                                 ("--vendor", spec.vendor, 120)):
        if label != "--vendor" and not text.strip():
            raise ScaffoldError(f"{label} is empty")
        if len(text) > longest or UNSAFE.search(text):
            raise ScaffoldError(f"{label}: at most {longest} characters, without quotes, backslashes or "
                                "control characters")


def render(text: str, values: dict[str, str]) -> str:
    pattern = re.compile("|".join(re.escape(k) for k in sorted(values, key=len, reverse=True)))
    return pattern.sub(lambda m: values[m.group(0)], text)


def write(spec: Spec, directory: Path, taken: set[str] | frozenset[str] = frozenset()) -> tuple[Path, list[Path]]:
    """Write ``directory/jizuo-NAME/``; returns it and the files written (relative to it)."""
    check(spec, set(taken))
    target = Path(directory) / f"jizuo-{spec.name}"
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists and is not empty")
    values = spec.values()
    files = []
    for source in sorted(TEMPLATES.rglob("*.tmpl")):
        rel = Path(render(source.relative_to(TEMPLATES).as_posix(), values).removesuffix(".tmpl"))
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(render(source.read_text("utf-8"), values), "utf-8", newline="\n")
        files.append(rel)
    return target, files
