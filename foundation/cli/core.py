"""``jizuo init``, ``serve`` and ``demo``: the database, the server and a demo district."""
from __future__ import annotations

import json
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
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve_cmd(host: str, port: int, threads: int) -> None:
    """Serve the web UI and API with waitress (a production WSGI server)."""
    from waitress import serve

    from foundation.migrate import up_to_date

    url = current_app.config["DATABASE_URL"]
    if not up_to_date(url):
        raise click.ClickException("the database schema is not up to date: run `jizuo init` first")
    click.echo(f"Jizuo serving at http://{host}:{port}  (Ctrl-C stops)")
    serve(current_app._get_current_object(), host=host, port=port, threads=threads, ident="jizuo")


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
