"""``jizuo serve``: the app behind gunicorn (several worker processes of several threads each) on Linux, or
waitress (one process, several threads) where gunicorn cannot run (not POSIX) or when asked for.

gunicorn runs through its application API (:class:`Gunicorn`), not a command line of its own: the app is
built once in the master process (``preload``: a broken standard or plugin stops the start, loudly, and the
workers share the loaded code copy-on-write), then forked; each worker drops the database connections and
the Redis hub it inherited and opens its own (:func:`_after_fork`). Workers are ``gthread`` workers even with
one thread, so a browser's open live-notice stream (server-sent events, minutes long) holds a thread and
never trips the worker timeout. docs/deploy.md tells how many workers and threads a district wants.

Behind a reverse proxy, ``trusted_proxies`` names the proxy's addresses: only requests arriving from them
have ``X-Forwarded-For/-Proto/-Host`` believed (one hop), so the login throttle and the audit log see the
real client address and links are built with ``https``. Without it the headers are ignored.
"""
from __future__ import annotations

import gc
import ipaddress
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

# method, path without the query string (it can carry one-time codes), status, bytes, milliseconds; the
# client address is the proxy's X-Forwarded-For when the proxy is trusted (TrustedProxies rewrites it)
ACCESS_LOG_FORMAT = '%(h)s - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 8
    timeout: int = 60
    trusted_proxies: list[str] = field(default_factory=list)
    access_log: str | None = "-"  # "-": standard output; None: none
    max_requests: int = 5000

    @property
    def bind(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def default_workers(redis: bool) -> int:
    """With Redis, one worker per core and at least two (one can restart while the other serves); without it
    one: the live fan-out and the delivery thread are then in-process (docs/deploy.md sizes it)."""
    return max(2, os.cpu_count() or 1) if redis else 1


def warnings(opts: ServeOptions, config: dict[str, Any], secret_from_env: bool) -> list[str]:
    """What an operator should hear before the first request."""
    out = []
    if opts.workers > 1 and not config.get("REDIS_URL"):
        out.append("JIZUO_REDIS_URL is not set: a live notice reaches at once only the browsers connected "
                   "to the process that stored it (the others within JIZUO_MESSAGE_SSE_POLL seconds); set "
                   "Redis for several workers (docs/deploy.md)")
    if config.get("ENV") == "production" and not secret_from_env:
        out.append("JIZUO_SECRET_KEY is not set: the key is read from the instance folder; every app and "
                   "worker process, on every machine, must have the same one (docs/deploy.md)")
    if config.get("ENV") == "production" and opts.host not in ("127.0.0.1", "::1", "localhost") \
            and not opts.trusted_proxies:
        out.append("listening beyond this machine without --trusted-proxies: behind a reverse proxy every "
                   "login counts against the proxy's address (the login throttle)")
    return out


def parse_proxies(value: str | None) -> list[str]:
    """``"127.0.0.1, 10.0.0.0/8"`` → the list; each must be an address or a network (or ``*``)."""
    out = [p.strip() for p in (value or "").split(",") if p.strip()]
    for p in out:
        if p != "*":
            ipaddress.ip_network(p, strict=False)  # ValueError names the bad entry
    return out


class TrustedProxies:
    """WSGI middleware: ProxyFix (one hop) for requests whose socket peer is a trusted proxy, nothing for
    anyone else (a client reaching the app directly cannot claim another address)."""

    def __init__(self, wsgi_app, proxies: list[str]) -> None:
        self.plain = wsgi_app
        self.fixed = ProxyFix(wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)
        self.any = "*" in proxies
        self.networks = [ipaddress.ip_network(p, strict=False) for p in proxies if p != "*"]

    def trusted(self, peer: str | None) -> bool:
        if self.any:
            return True
        try:
            addr = ipaddress.ip_address((peer or "").strip("[]"))
        except ValueError:
            return False
        return any(addr in net for net in self.networks)

    def __call__(self, environ, start_response):
        app = self.fixed if self.trusted(environ.get("REMOTE_ADDR")) else self.plain
        return app(environ, start_response)


def wrap(app, proxies: list[str]):
    """The app with the proxy headers believed from ``proxies`` (the same app when there are none)."""
    if proxies and not isinstance(app.wsgi_app, TrustedProxies):
        app.wsgi_app = TrustedProxies(app.wsgi_app, proxies)
    return app


def gunicorn_available() -> bool:
    if os.name != "posix":
        return False
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def _after_fork(server, worker) -> None:
    """In each new worker: the connections inherited from the master belong to it; open our own."""
    app = server.app.application
    engine = app.extensions.get("jizuo.engine")
    if engine is not None:
        engine.dispose(close=False)  # SQLAlchemy's advice for forked processes: drop, do not close, the pool
    app.extensions.pop("jizuo.messaging", None)  # the hub (Redis client, live relay thread) is made again
    app.extensions.pop("jizuo.messaging.resumed", None)


def _before_fork(server, worker) -> None:
    """The loaded app's objects move to the collector's permanent generation: a worker's collections then
    never touch (and so never copy) the pages it shares with the master."""
    gc.freeze()


def _worker_ready(worker) -> None:
    """On SIGTERM (a graceful stop or restart), this worker's open live streams end at once — their browsers
    reconnect to a worker that serves — instead of holding the stop for the whole graceful timeout."""
    app = worker.app.application
    graceful = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame) -> None:
        hub = app.extensions.get("jizuo.messaging")
        if hub is not None:
            hub.live.notifier.stop()
        if callable(graceful):
            graceful(signum, frame)

    signal.signal(signal.SIGTERM, on_term)


def _worker_exit(server, worker) -> None:
    """A worker that served and stops (SIGTERM, SIGQUIT, --max-requests) closes its connections and leaves
    without the interpreter's teardown of the app's large heap (seconds of CPU per worker on every restart,
    while the others serve). Boot failures keep the ordinary exit and its status."""
    if os.getpid() != worker.pid or not worker.booted:
        return  # in the master (a worker that was already gone), or a worker that never booted
    exc = sys.exc_info()[1]
    code = exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else (1 if exc else 0)
    app = server.app.application
    try:
        hub = app.extensions.get("jizuo.messaging")
        if hub is not None:
            hub.close()
        engine = app.extensions.get("jizuo.engine")
        if engine is not None:
            engine.dispose()
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def gunicorn_settings(opts: ServeOptions) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "bind": [opts.bind],
        "workers": opts.workers,
        "threads": opts.threads,
        "worker_class": "gthread",
        "preload_app": True,
        "timeout": opts.timeout,
        "graceful_timeout": 30,  # on SIGTERM/SIGHUP, requests in flight get 30 s to finish
        "keepalive": 5,  # idle keep-alive connections from the proxy
        # a worker is replaced after this many requests (plus jitter, so they do not all restart at once):
        # any slow leak stays bounded; 0 turns it off
        "max_requests": opts.max_requests,
        "max_requests_jitter": max(1, opts.max_requests // 10) if opts.max_requests else 0,
        "forwarded_allow_ips": ",".join(opts.trusted_proxies) or "127.0.0.1,::1",
        "proc_name": "jizuo",
        "accesslog": opts.access_log,
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": "info",
        "pre_fork": _before_fork,
        "post_fork": _after_fork,
        "post_worker_init": _worker_ready,
        "worker_exit": _worker_exit,
        "limit_request_line": 8190,
        # gunicorn ≥ 25.1 opens a control socket at one path per user: two instances on a machine would
        # contend for it; systemd (docs/deploy.md) is how a district starts and stops them
        "control_socket_disable": True,
    }
    if os.path.isdir("/dev/shm"):
        settings["worker_tmp_dir"] = "/dev/shm"  # the heartbeat file: not on a slow or full disk
    return settings


def run_gunicorn(app, opts: ServeOptions) -> None:
    from gunicorn.app.base import BaseApplication

    class Gunicorn(BaseApplication):
        def __init__(self, application, settings: dict[str, Any]) -> None:
            self.application, self.settings = application, settings
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.settings.items():
                if key in self.cfg.settings:  # settings newer than the installed gunicorn are left out
                    self.cfg.set(key, value)

        def load(self):
            return self.application

    Gunicorn(wrap(app, opts.trusted_proxies), gunicorn_settings(opts)).run()


def run_waitress(app, opts: ServeOptions) -> None:
    from waitress import serve

    serve(wrap(app, opts.trusted_proxies), host=opts.host, port=opts.port, threads=opts.threads,
          ident="jizuo")


def run(app, opts: ServeOptions, server: str = "auto", echo=print) -> str:
    """Serve until stopped with ``server`` (``auto``: gunicorn where it runs, else waitress). Returns which
    ran (after it stopped)."""
    if server == "auto":
        server = "gunicorn" if gunicorn_available() else "waitress"
    if server == "gunicorn":
        if not gunicorn_available():
            raise RuntimeError("gunicorn runs only on POSIX systems (Linux, macOS): use --server waitress")
        processes = "1 worker process" if opts.workers == 1 else f"{opts.workers} worker processes"
        echo(f"Jizuo serving at http://{opts.bind} with gunicorn: {processes} × {opts.threads} threads "
             "(SIGTERM stops gracefully, SIGHUP restarts the workers)")
        sys.stdout.flush()
        run_gunicorn(app, opts)
    else:
        echo(f"Jizuo serving at http://{opts.bind} with waitress: one process, {opts.threads} threads  "
             "(Ctrl-C stops)")
        run_waitress(app, opts)
    return server
