"""Value helpers shared by import and export: dates, names, grades, stable codes."""
from __future__ import annotations

import hashlib
import re
from datetime import date, datetime

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")
# two-character surnames (复姓): split off whole when a CJK name is exported as family + given
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 端木 西门 南宫 独孤 申屠 太史 闻人".split())
UNGRADED = "UG"


def is_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def compose_name(given: str, family: str) -> str:
    """Family name first without a space when either part is Chinese (张 + 伟 → 张伟); else "Given Family"."""
    given, family = given.strip(), family.strip()
    if is_cjk(given) or is_cjk(family):
        return family + given
    return " ".join(p for p in (given, family) if p)


def split_name(name: str) -> tuple[str, str]:
    """(givenName, familyName) of a stored name; the inverse of :func:`compose_name`."""
    name = name.strip()
    if is_cjk(name) and " " not in name:
        cut = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
        return name[cut:], name[:cut]
    if " " in name:
        given, family = name.rsplit(" ", 1)
        return given, family
    return name, ""


def parse_date(value: str) -> date | None:
    """An ISO 8601 date (YYYY-MM-DD); None when it is not one (``1/05/2023`` is ambiguous: never guessed)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def is_datetime(value: str) -> bool:
    """An ISO 8601 date-time as OneRoster writes dateLastModified (a bare date is tolerated)."""
    if not _DATETIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def split_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def grade_of(value: str) -> tuple[int | str | None, str | None]:
    """The grade a ``grades`` value places a class in: the lowest of 01–12 (CEDS codes), or ``UNGRADED``
    for kindergarten / other codes, or None when blank. Second: a warning, when something was chosen."""
    tokens = split_list(value)
    if not tokens:
        return None, None
    nums = sorted(int(t) for t in tokens if t.isdigit() and 1 <= int(t) <= 12)
    if not nums:
        return UNGRADED, f"no grade 01–12 in {value!r}; placed in the ungraded group"
    if len(set(tokens)) > 1:
        return nums[0], f"spans grades {value!r}; placed in grade {nums[0]:02d}"
    return nums[0], None


def grade_code(grade: int | str) -> str:
    return grade if isinstance(grade, str) else f"{grade:02d}"


def stable_code(prefix: str, key: str, length: int = 10) -> str:
    """A short code that is the same for the same key in every database (an org unit code)."""
    return prefix + hashlib.sha1(key.encode()).hexdigest()[:length].upper()


def truncate(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
