"""CSRF protection (Flask-WTF) for every state-changing browser request.

Forms carry ``csrf_token``; browser API calls send the ``X-CSRFToken`` header (the token is in the
page's ``<meta name="csrf-token">`` and in ``GET /api/v1/me``).
"""
from __future__ import annotations

from flask_wtf.csrf import CSRFProtect, generate_csrf

csrf = CSRFProtect()

__all__ = ["csrf", "generate_csrf"]
