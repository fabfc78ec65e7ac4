"""Command-line entry points: `flask --app wsgi db ...` and `flask --app wsgi exchange ...`."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import current_app
from flask.cli import with_appcontext

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@click.group("db", help="Database migrations (Alembic).")
def db_group():
    pass


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision):
    """Apply migrations up to REVISION (default: head)."""
    command.upgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision):
    """Revert migrations down to REVISION."""
    command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)


@db_group.command("current")
@with_appcontext
def db_current():
    """Show the revision the database is at."""
    command.current(alembic_config(current_app.config["DATABASE_URL"]))


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True)
@with_appcontext
def db_revision(message, autogenerate):
    """Write a new migration (compare the models with the database when --autogenerate)."""
    command.revision(alembic_config(current_app.config["DATABASE_URL"]), message=message,
                     autogenerate=autogenerate)


@click.group("exchange", help="Operate the exchange.")
def exchange_group():
    pass


@exchange_group.command("rotate-keys")
@with_appcontext
def rotate_keys():
    """Add a new current coupon-signing key; older keys keep verifying until retired."""
    from .coupons.signing import keyring

    kid = keyring().rotate()
    click.echo(f"new current signing key: {kid}")
    for key_id, status in sorted(keyring().statuses().items(), key=lambda kv: int(kv[0])):
        click.echo(f"  key {key_id}: {status}")


@exchange_group.command("retire-key")
@click.argument("kid")
@with_appcontext
def retire_key(kid):
    """Stop accepting coupons signed with key KID (for a leaked key; rotate first)."""
    from .coupons.keys import KeyRingError
    from .coupons.signing import keyring

    try:
        keyring().retire(kid)
    except KeyRingError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"key {kid} retired: coupons it signed are refused from now on")


@exchange_group.command("run-batches")
@with_appcontext
def run_batches():
    """Finish every pending coupon batch, and draw every part of the sheets asked for, in this process."""
    from .coupons.batches import work, worker_name
    from .coupons.print_runs import draw_pending_sheets

    click.echo(f"batches worked on: {work()}")
    click.echo(f"sheet parts drawn: {draw_pending_sheets(worker_name())}")


@exchange_group.command("deliver")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit (default: keep going).")
@click.option("--beside-server", is_flag=True, hidden=True,
              help="Run as a server's delivery process (started by gunicorn.conf.py).")
@with_appcontext
def deliver(once, beside_server):
    """Send webhook deliveries in this process (as each server's delivery process also does)."""
    from .coupons.batches import worker_name
    from .webhooks import worker

    if beside_server:
        from .webhooks.beside import settle_beside_server

        settle_beside_server()

    if once:
        owner, total = worker_name(), 0
        while done := worker.work_once(owner).done:
            total += done
        click.echo(f"events relayed and deliveries attempted: {total}")
        return
    click.echo("delivering webhooks; Ctrl-C stops")
    worker.run(current_app._get_current_object())


@exchange_group.command("check-ledger")
@click.option("--metrics-file", type=click.Path(dir_okay=False), default=None,
              help="Also write the result for node_exporter's textfile collector (a .prom file).")
@with_appcontext
def check_ledger_command(metrics_file):
    """Verify that every ledger transaction balances and every redemption has its entries."""
    from .extensions import db
    from .redemptions.reconciliation import check_ledger

    problems = check_ledger(db.session)
    if metrics_file:
        from .metrics.ledger_check import write_ledger_check

        write_ledger_check(metrics_file, len(problems))
    for line in problems:
        click.echo(line, err=True)
    if problems:
        raise click.ClickException(f"ledger check failed: {len(problems)} problem(s)")
    click.echo("ledger ok: every transaction balances and every redemption and reversal is posted")


@exchange_group.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup(path):
    """Copy the SQLite database to PATH (new file) while the server keeps serving; on
    PostgreSQL, print the procedure (docs/operations.md)."""
    from .db.backup import POSTGRESQL_PROCEDURE, BackupError, backup_sqlite, database_path, postgresql_target

    url = current_app.config["DATABASE_URL"]
    try:
        source = database_path(url)
        if source is None:
            click.echo(POSTGRESQL_PROCEDURE.format(target=postgresql_target(url)), err=True)
            raise SystemExit(2)
        size = backup_sqlite(source, Path(path))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backup written: {path} ({size} bytes); restore by copying it to the database's path "
               "with the server stopped (docs/operations.md)")


@exchange_group.command("purge-idempotency-keys")
@with_appcontext
def purge_idempotency_keys():
    """Delete Idempotency-Keys past their retention (each server also does this hourly)."""
    from .db.idempotency import purge_expired, retention

    click.echo(f"idempotency keys older than {retention()} deleted: {purge_expired()}")


@exchange_group.command("purge")
@with_appcontext
def purge():
    """Delete every kind of record past its retention (each server also does this hourly)."""
    from .retention import purge_due

    for kind, deleted in purge_due().items():
        click.echo(f"{kind}: {deleted} deleted")


@exchange_group.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when merchants already exist.")
@click.option("--keys-file", type=click.Path(dir_okay=False), default=None,
              help="Also write the keys as shell variables to this file.")
@with_appcontext
def demo(if_empty, keys_file):
    """Load the demo world (six merchants from the article) and print their keys."""
    from .demo import load_demo

    if current_app.config["EXCHANGE_ENV"] == "production":
        raise click.ClickException("the demo world is never loaded in production")
    from .demo import demo_till_pairing

    lines = load_demo(if_empty=if_empty)
    if lines is None:
        click.echo("Merchants already exist; demo data not loaded.")
    else:
        for line in lines:
            click.echo(line)
        if keys_file:
            Path(keys_file).write_text("".join(f"export {line}\n" for line in lines if "=" in line))
            click.echo(f"(keys also written to {keys_file})")
    pairing = demo_till_pairing()
    if pairing is not None:
        _echo_pairing(pairing, "the demo maternity store's till")


@exchange_group.command("pair-till")
@click.option("--store-id", type=int, required=True, help="The store the device will be a till of.")
@click.option("--label", default=None, help="What the till will be called, e.g. 收银台 1.")
@with_appcontext
def pair_till(store_id, label):
    """Make a one-time pairing link and code for a store's till (valid 10 minutes)."""
    from .errors import DomainError
    from .till.services import create_pairing_for_store

    try:
        pairing = create_pairing_for_store(store_id, label)
    except DomainError as error:
        raise click.ClickException(f"{error.code}: {error.detail}") from None
    _echo_pairing(pairing, f"store {store_id}'s till")


def _echo_pairing(pairing, what: str) -> None:
    from zoneinfo import ZoneInfo

    zone = current_app.config["SETTLEMENT_TZ"]
    at = f"{pairing.pairing.expires_at.astimezone(ZoneInfo(zone)):%H:%M} ({zone})"
    click.echo(f"\nPair {what}: open this link on the phone or tablet (or type the code at "
               f"{current_app.config['PUBLIC_URL']}/till/) before {at}:")
    click.echo(f"  {pairing.url}")
    click.echo(f"  code: {pairing.display_code}")
    click.echo("  a new one later: .venv/bin/flask --app wsgi exchange pair-till "
               f"--store-id {pairing.pairing.store_id}")


@exchange_group.command("settle")
@click.option("--period", required=True, help="The month to close, YYYY-MM (in EXCHANGE_SETTLEMENT_TZ).")
@click.option("--netting", type=click.Choice(["bilateral", "multilateral"]), default=None,
              help="Default: EXCHANGE_SETTLEMENT_NETTING.")
@click.option("--min-transfer", type=click.IntRange(min=0), default=None,
              help="Nets below this (minor units) carry into the next month. Default: EXCHANGE_MIN_TRANSFER.")
@with_appcontext
def settle(period, netting, min_transfer):
    """Close an ended month, exactly as POST /api/v1/settlements does (idempotent)."""
    from .errors import DomainError
    from .settlement.closing import close, minimum_in_words

    try:
        settlement, created = close(period, actor="operator", netting_mode=netting, min_transfer=min_transfer)
    except DomainError as error:
        raise click.ClickException(f"{error.code}: {error.detail}") from None
    verb = "closed" if created else "was already closed"
    click.echo(f"{settlement.period} {verb}: {len(settlement.obligations)} pair obligation(s) from "
               f"{settlement.entries} ledger entries, {settlement.netting} netting, "
               f"minimum transfer {minimum_in_words(settlement.min_transfer)}; digest {settlement.digest}")
