"""``jizuo init``, ``serve`` and ``demo``: the database, the server and a demo district."""
from __future__ import annotations

import json
import os
import secrets
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from foundation import db
from foundation.cli.common import district_session
from foundation.cli.progress import Progress
from foundation.migrate import upgrade


@click.command("init")
@with_appcontext
def init_cmd() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    url = current_app.config["DATABASE_URL"]
    upgrade(url)
    _seed_templates()
    click.echo(f"database ready: {db.engine().url.render_as_string(hide_password=True)}")


def _seed_templates() -> None:
    from foundation.lowcode.forms import seed_templates

    sess = district_session()
    seed_templates(sess)
    sess.commit()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="JIZUO_HOST",
              help="Address to listen on (env JIZUO_HOST); with the proxy on this machine keep 127.0.0.1.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), envvar="JIZUO_PORT")
@click.option("--workers", default=None, type=click.IntRange(1, 64), envvar="JIZUO_WORKERS",
              help="gunicorn worker processes (env JIZUO_WORKERS) [default: with Redis one per core, at "
                   "least 2; without, 1].")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256), envvar="JIZUO_THREADS",
              help="Threads per process (env JIZUO_THREADS).")
@click.option("--server", type=click.Choice(["auto", "gunicorn", "waitress"]), default="auto",
              show_default=True, envvar="JIZUO_SERVER",
              help="auto: gunicorn on Linux/macOS, waitress elsewhere (env JIZUO_SERVER).")
@click.option("--trusted-proxies", default="", envvar="JIZUO_TRUSTED_PROXIES", metavar="ADDR[,NET…]",
              help="Reverse proxies whose X-Forwarded-For/-Proto/-Host are believed "
                   "(env JIZUO_TRUSTED_PROXIES).")
@click.option("--timeout", default=60, show_default=True, type=click.IntRange(5, 3600),
              envvar="JIZUO_TIMEOUT", help="gunicorn: a worker silent this long is replaced "
                   "(env JIZUO_TIMEOUT).")
@click.option("--access-log", default="-", show_default=True, envvar="JIZUO_ACCESS_LOG",
              help="gunicorn's access log: a file, - for standard output, off for none "
                   "(env JIZUO_ACCESS_LOG).")
@with_appcontext
def serve_cmd(host: str, port: int, workers: int | None, threads: int, server: str, trusted_proxies: str,
              timeout: int, access_log: str) -> None:
    """Serve the web UI and API: gunicorn (several processes) on Linux, waitress elsewhere
    (docs/deploy.md)."""
    from foundation import serve
    from foundation.migrate import up_to_date

    try:
        proxies = serve.parse_proxies(trusted_proxies)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--trusted-proxies") from None
    config = current_app.config
    if not up_to_date(config["DATABASE_URL"]):
        raise click.ClickException("the database schema is not up to date: run `jizuo init` first")
    opts = serve.ServeOptions(host=host, port=port, threads=threads, timeout=timeout, trusted_proxies=proxies,
                              workers=workers or serve.default_workers(bool(config["REDIS_URL"])),
                              access_log=None if access_log.lower() in ("off", "none", "") else access_log)
    for warning in serve.warnings(opts, config, secret_from_env=bool(os.environ.get("JIZUO_SECRET_KEY"))):
        click.echo(f"warning: {warning}", err=True)
    try:
        serve.run(current_app._get_current_object(), opts, server=server, echo=click.echo)
    except RuntimeError as err:
        raise click.ClickException(str(err)) from None


@click.command("demo")
@click.option("--schools", default=3, show_default=True, type=click.IntRange(1, 999))
@click.option("--students-per-school", default=600, show_default=True, type=click.IntRange(1, 5000))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--password", default=None, help="Password of every demo account (default: random, printed).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (counts and logins) for scripts.")
@with_appcontext
def demo_cmd(schools: int, students_per_school: int, seed: int, password: str | None, as_json: bool) -> None:
    """Build a synthetic demo district in the database JIZUO_DATABASE_URL names."""
    from foundation.demo import build_demo
    from foundation.security.passwords import password_problem

    password = password or "Jz-" + secrets.token_urlsafe(9)
    problem = password_problem(password)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")
    upgrade(current_app.config["DATABASE_URL"])
    progress = Progress(enabled=sys.stderr.isatty() or not as_json)
    try:
        result = build_demo(
            db.engine(), schools=schools, students_per_school=students_per_school, seed=seed,
            password=password, secret_key=current_app.config["SECRET_KEY"],
            fast_hash=current_app.config["PASSWORD_HASH_FAST"], progress=progress,
        )
    except ValueError as err:
        progress.close()
        raise click.ClickException(str(err)) from err
    progress.close()
    _seed_templates()
    plugins = _demo_plugins(seed, quiet=as_json)
    from foundation.demo.activity import fill_activity

    fill_activity(district_session(), seed)  # a term of notices, worked alert cases, shared apps: the cockpit's tiles
    if as_json:
        click.echo(json.dumps({"counts": result["counts"], "logins": result["logins"], "password": password,
                               "plugins": plugins}, ensure_ascii=False))
        return
    c = result["counts"]
    click.echo(f"demo district: {c['schools']} schools, {c['students']} students, {c['staff']} staff, "
               f"{c['guardians']} guardians")
    click.echo(f"password for every demo account: {password}")
    _print_logins(result["logins"][: 1 + 9 * min(schools, 2)])
    if schools > 2:
        click.echo(f"... and the same roles in {schools - 2} more school(s): jizuo accounts list --role ROLE")


def _demo_plugins(seed: int, quiet: bool) -> list[str]:
    """The first-party plugins, published in the app square and installed in every demo school, with
    their demo data (``jizuo_demo_data``) — so the demo shows conduct scores and their alerts."""
    import sqlalchemy as sa

    from foundation.models import AppListing, OrgUnit, PluginInstall
    from foundation.plugin_runtime import demo_data, host
    from foundation.services import square
    from foundation.services.plugins import first_party, install

    sess = district_session()
    square.list_plugins(sess, host().loaded)
    schools = sorted(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
    names = []
    for plugin in first_party(host()):
        listing = sess.scalar(sa.select(AppListing).where(AppListing.kind == "plugin", AppListing.key == plugin.name))
        for action, before in (("review", "submitted"), ("publish", "in_review")):
            if listing.status == before:
                square.step(sess, listing, action, account_id=None, name="jizuo demo",
                            reason="first-party plugin, published for the demo district")
        have = set(sess.scalars(sa.select(PluginInstall.school_id).where(PluginInstall.plugin == plugin.name)))
        for school in schools:
            if school not in have:
                install(sess, host(), plugin, school, {}, database_url=current_app.config["DATABASE_URL"],
                        account_id=None)
        sess.commit()
        if not quiet:
            click.echo(f"{plugin.name}: installed in {len(schools)} schools; filling its demo data …", err=True)
        demo_data(plugin.name, schools, seed)
        names.append(plugin.name)
    if names:  # the plugins' scheduled alert checks, so the demo opens with its alert cases
        from foundation.alerts.schedule import committed_pass

        committed_pass()
    return names


def _print_logins(logins: list[dict]) -> None:
    for entry in logins:
        click.echo(f"  {entry['username']:<24} {entry['role']:<20} {entry.get('school') or ''}")
