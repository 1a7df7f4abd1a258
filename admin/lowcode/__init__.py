"""The web shell's side of low-code forms: the renderer and the form parser live in the core
(``foundation/lowcode/render``, so the publish check asks the renderer itself what it can draw); this package
keeps the browser's part, ``static/lowcode.js`` (array rows, conditional parts) and ``static/editor.js``."""
from __future__ import annotations

from foundation.lowcode.render import RenderResult, parse_form, render_form

__all__ = ["RenderResult", "parse_form", "render_form"]
