"""API errors as JSON: ``{"error": {"code", "message", "fields"}}``, localised per request."""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
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


def _localise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _localise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        msgs = [_localise(v) for v in value]
        return "；".join(msgs) if all(isinstance(m, str) for m in msgs) and len(msgs) > 1 else (msgs[0] if len(msgs) == 1 else msgs)
    return t(str(value))


def error_response(code: str, status: int, fields: dict[str, Any] | None = None, **kw: Any) -> Response:
    body = {"error": {"code": code, "message": t(f"error.{code}", **kw), "fields": _localise(fields or {})}}
    resp = jsonify(body)
    resp.status_code = status
    return resp


def wants_json() -> bool:
    """The core's API, a plugin's API (``/<plugin>/api/…``), a JSON request or a client asking for JSON."""
    return "/api/" in request.path or request.path in ("/healthz",) or request.is_json or (
        request.accept_mimetypes.best == "application/json"
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(APIError)
    def _api_error(err: APIError):
        return error_response(err.code, err.status, err.fields, **err.kw)

    @app.errorhandler(Forbidden)
    def _forbidden(err: Forbidden):
        if wants_json():
            return error_response("forbidden", 403, capability=err.capability)
        from flask import render_template_string

        return render_template_string("<h1>403</h1><p>{{ m }}</p>", m=t("error.forbidden", capability=err.capability)), 403

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        if wants_json():
            return error_response("csrf_failed", 400)
        return t("error.csrf_failed"), 400

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        # a bug, not a user error: logged with its traceback; the caller gets the same JSON shape
        if isinstance(err, HTTPException):
            return _http(err)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return error_response("internal", 500)
        return t("error.internal"), 500

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        if wants_json():
            code = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
                    413: "too_large", 429: "too_many_requests"}.get(err.code or 500, "http_error")
            return error_response(code, err.code or 500, what="resource")
        return err
