"""Where a person may be sent back to after signing in: a path on this site, read the way a browser reads it.

A browser drops tabs and newlines anywhere in a URL, trims control characters and spaces at its ends and
reads a backslash as a slash. So ``/\\t/evil.example`` and ``/\\\\evil.example`` both become
``//evil.example``: another site. :func:`local_path` normalises first, then accepts only a path of ours.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EDGES = "".join(chr(c) for c in range(0x21))  # C0 controls and space, trimmed by browsers
MAX_LENGTH = 2000


def local_path(raw: object) -> str | None:
    """``raw`` as a same-origin path (``/…``, query allowed) as a browser would read it; None when it could
    lead anywhere else (a host, a scheme, ``//``, or a control character left after normalising)."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_LENGTH:
        return None
    url = _TAB_NEWLINE.sub("", raw).strip(_EDGES).replace("\\", "/")
    if not url.startswith("/") or url.startswith("//") or _CONTROL.search(url):
        return None
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    return url
