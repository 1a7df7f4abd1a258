"""Errors. API callers get JSON, ``{"error": {"code", "message", "fields"}}``, localised per request; people in a
browser get an error page in the page shell (``jizuo/error.html``), in their language, with a way back."""
from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from foundation.i18n import t
from foundation.permissions import Forbidden


class APIError(Exception):
    def __init__(self, code: str, status: int = 400, fields: dict[str, Any] | None = None, **kw: Any) -> None:
        super().__init__(code)
        self.code, self.status, self.fields, self.kw = code, status, fields or {}, kw


class NotFound(APIError):
    def __init__(self, what: str = "resource") -> None:
        super().__init__("not_found", 404, what=what)


class ValidationFailed(APIError):
    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__("validation_failed", 422, fields)


# a catalogue key, maybe with its one argument ("field.length:120"), as opposed to a text
KEY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+(:.*)?", re.S)


def localise_message(value: Any) -> str:
    """One field's message in the reader's language; a key no catalogue knows is logged and read as a
    general "not a valid value" — the reader never sees a key."""
    text = t(str(value))
    if text == str(value) and KEY.fullmatch(text):
        logging.getLogger("jizuo").warning("no catalogue text for the error key %r", text)
        return t("field.invalid")
    return text


def _localise(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _localise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        msgs = [_localise(v) for v in value]
        return "；".join(msgs) if all(isinstance(m, str) for m in msgs) and len(msgs) > 1 else (msgs[0] if len(msgs) == 1 else msgs)
    return localise_message(value)


def _thing(what: Any) -> str:
    """What was not found, in the reader's language (``thing.<what>`` in the catalogues; else as it is)."""
    key = f"thing.{what}"
    text = t(key)
    return str(what) if text == key else text


def error_response(code: str, status: int, fields: dict[str, Any] | None = None, **kw: Any) -> Response:
    if "what" in kw:
        kw["what"] = _thing(kw["what"])
    body = {"error": {"code": code, "message": t(f"error.{code}", **kw), "fields": _localise(fields or {})}}
    resp = jsonify(body)
    resp.status_code = status
    return resp


def wants_json() -> bool:
    """The core's API, a plugin's API (``/<plugin>/api/…``), a JSON request or a client asking for JSON."""
    return "/api/" in request.path or request.path in ("/healthz",) or request.is_json or (
        request.accept_mimetypes.best == "application/json"
    )


# the error pages people can meet, each a title and a plain explanation (foundation/shell/locales)
PAGES = {400: "400", 401: "401", 403: "403", 404: "404", 405: "405", 413: "413", 429: "429", 500: "500"}

# what a page says when even the shell cannot be drawn (no template, no database, no catalogue)
FALLBACK = ('<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>{status}</title>'
            '<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem">'
            '<h1>{status} · 出了点问题 / Something went wrong</h1>'
            '<p>请稍后再试。Please try again later.</p><p><a href="/">返回首页 / Home</a></p></body></html>')


def _back() -> str | None:
    """The page the person came from, when it is one of ours and not this one."""
    ref = request.referrer
    if not ref:
        return None
    parts = urlsplit(ref)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host or ref == request.url:
        return None
    return ref


def error_page(status: int, kind: str | None = None) -> tuple[str, int]:
    """The shell's error page for ``status`` (``kind`` names another text, e.g. "csrf"). A server error draws
    the shell bare (no navigation, nothing read from the database); if drawing fails, a fixed text."""
    key = kind or PAGES.get(status, "other")
    err = {"status": status, "title": f"errpage.{key}.title", "text": f"errpage.{key}.text", "back": _back()}
    for bare in ((False, True) if status < 500 else (True,)):
        try:
            g.shell_bare = bare
            return render_template("jizuo/error.html", err=err), status
        except Exception:  # the page about an error must not fail in turn
            from flask import current_app

            current_app.logger.exception("error page %s could not be drawn (bare=%s)", status, bare)
    return FALLBACK.format(status=status), status


def init_app(app: Flask) -> None:
    @app.errorhandler(APIError)
    def _api_error(err: APIError):
        if err.status in (403, 404) and not wants_json():  # a page naming something not found or not allowed
            return error_page(err.status)
        return error_response(err.code, err.status, err.fields, **err.kw)

    @app.errorhandler(Forbidden)
    def _forbidden(err: Forbidden):
        if wants_json():
            return error_response("forbidden", 403, capability=err.capability)
        return error_page(403)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        if wants_json():
            return error_response("csrf_failed", 400)
        return error_page(400, "csrf")

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        # a bug, not a user error: logged with its traceback; the caller gets the same JSON shape
        if isinstance(err, HTTPException):
            return _http(err)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return error_response("internal", 500)
        return error_page(500)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        if wants_json():
            code = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
                    413: "too_large", 429: "too_many_requests"}.get(err.code or 500, "http_error")
            limit = request.max_content_length if err.code == 413 else None
            return error_response(code, err.code or 500, what="resource",
                                  max=f"{round(limit / 1024 / 1024, 1):g} MB" if limit else "")
        if err.code is None or err.code < 400 or err.response is not None:
            return err  # redirects (e.g. the trailing slash) and answers made by whoever raised it
        return error_page(err.code)
