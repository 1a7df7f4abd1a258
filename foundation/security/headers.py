"""The security headers of every answer.

- ``Content-Security-Policy`` on pages: scripts and styles only from our own files, or from a ``<script>`` /
  ``<style>`` element carrying this request's nonce (``{{ csp_nonce() }}`` in a template). No inline event
  handlers (``onclick=``), no ``style=`` attributes, no ``javascript:`` links, no plugins, no framing. A width
  computed in a template is a class: ``class="fill {{ share|width_class }}"`` (``w-0`` … ``w-100`` in the
  shell's app.css); JavaScript sets sizes through ``element.style``, which the policy allows.
- ``Cache-Control: no-store`` on every page and on every answer to a signed-in person or app (their
  data must not stay in a shared or browser cache), static files excepted.
- ``nosniff``, ``Referrer-Policy: same-origin``, ``X-Frame-Options: DENY``.
"""
from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

POLICY = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
          "img-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


def csp_nonce() -> str:
    """This request's nonce for an inline ``<script>`` or ``<style>`` element (one per request)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def width_class(share: float | int | None) -> str:
    """A share in percent as the shell's width class: ``37.4`` → ``w-37`` (0 … 100, rounded)."""
    try:
        value = round(float(share or 0))
    except (TypeError, ValueError):
        value = 0
    return f"w-{min(100, max(0, value))}"


def _static() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static") or endpoint.endswith("_static")


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.add_template_filter(width_class, "width_class")

    @app.after_request
    def _security_headers(resp: Response) -> Response:
        h = resp.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        page = resp.mimetype == "text/html"
        if page:
            h.setdefault("Content-Security-Policy", POLICY.format(nonce=csp_nonce()))
        if not _static() and (page or g.get("principal") is not None):
            h["Cache-Control"] = "no-store"
        return resp
