"""The `grafient` command: the TUI by default, and headless subcommands for scripts and cron.

Imports of the heavy packages (Textual, SQLModel, httpx) happen inside the
commands that need them, so `grafient --help` and `--version` stay instant.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from grafient_tui import __version__
from grafient_tui.errors import ConfigError, GrafientError

if TYPE_CHECKING:
    from grafient_tui.config import Settings
    from grafient_tui.secret import Secret

PROVIDERS = ("cursor",)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one sentence and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"grafient: {message} (see `{self.prog} --help`).\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="grafient",
        description="Cursor Enterprise AI spend in your terminal. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"grafient {__version__}")
    parser.add_argument("--demo", action="store_true", help="open the app on two simulated teams (no network, throwaway data)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    add = commands.add_parser("add", help="add an integration; the key is read from stdin or prompted for")
    add.add_argument("provider", choices=PROVIDERS, help="the provider (cursor)")
    add.add_argument("--label", required=True, help="a name for this team, unique")
    add.add_argument("--no-backfill", action="store_true", help="do not fetch history now")

    lst = commands.add_parser("list", help="list integrations")
    lst.add_argument("--format", choices=("table", "json"), default="table")

    remove = commands.add_parser("remove", help="remove an integration and all its data")
    remove.add_argument("ref", metavar="ID|LABEL")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    plan = commands.add_parser("plan", help="show or set the plan (decides how much history to backfill)")
    plan.add_argument("plan", nargs="?", choices=("free", "pro", "ultimate"))

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    debug = os.environ.get("GRAFIENT_DEBUG") == "1"
    _configure_logging(debug)
    try:
        args = build_parser().parse_args(argv)
        return _dispatch(args)
    except GrafientError as exc:
        print(f"grafient: {exc.sentence}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("grafient: interrupted; nothing half-written was kept.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last resort: one line, and the details only on request
        if debug:
            from grafient_tui.secret import scrub_known

            sys.stderr.write(scrub_known("".join(traceback.format_exception(exc))))
        print(
            f"grafient: unexpected error ({type(exc).__name__}); rerun with GRAFIENT_DEBUG=1 for details.",
            file=sys.stderr,
        )
        return 1


def _configure_logging(debug: bool) -> None:
    from grafient_tui.secret import scrub_known

    class _Scrub(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg = scrub_known(record.getMessage())
            record.args = None
            return True

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Scrub())
    handler.setFormatter(logging.Formatter("grafient: %(name)s: %(message)s"))
    root = logging.getLogger("grafient")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    root.propagate = False


def _dispatch(args: argparse.Namespace) -> int:
    from grafient_tui.config import Settings

    settings = Settings.from_env()
    if args.command is None:
        return _run_app(settings, demo=args.demo)
    handler = {
        "add": cmd_add,
        "list": cmd_list,
        "remove": cmd_remove,
        "plan": cmd_plan,
    }[args.command]
    return handler(args, settings)


def _run_app(settings: Settings, *, demo: bool) -> int:
    print("grafient: the terminal app is not built yet; see `grafient --help` for the commands.", file=sys.stderr)
    return 2


def _open(settings: Settings):  # noqa: ANN202
    from grafient_tui.store.db import Database
    from grafient_tui.store.vault import Vault

    settings.ensure_dirs()
    return Database(settings), Vault(settings)


def read_key() -> Secret:
    """The key from stdin when it is piped, else a prompt without echo; never from argv."""
    from grafient_tui.secret import Secret

    if sys.stdin is None:
        raise ConfigError("no API key given: pipe it on standard input.")
    if sys.stdin.isatty():
        import getpass

        text = getpass.getpass("Cursor Admin API key (input hidden): ")
    else:
        text = sys.stdin.readline()
    key = text.strip()
    if not key:
        raise ConfigError("no API key given: pipe it on standard input or paste it at the prompt.")
    if any(ch.isspace() for ch in key) or not key.isprintable() or len(key) > 512:
        raise ConfigError("that does not look like an API key (it has spaces or control characters).")
    return Secret(key)


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    from grafient_tui.providers.cursor import CursorClient
    from grafient_tui.store.integrations import add_integration, clean_label, label_taken

    label = clean_label(args.label)
    db, vault = _open(settings)
    if label_taken(db, label):
        raise ConfigError(f"an integration labelled {label!r} already exists; pick another label.")
    key = read_key()

    async def validate() -> int:
        async with CursorClient.from_settings(key.reveal(), settings) as client:
            return (await client.validate()).members

    members = asyncio.run(validate())
    row = add_integration(db, vault, label=label, provider=args.provider, api_key=key, team_members=members)
    print(f"added integration {row.id} {row.label!r} ({row.provider}, key {row.key_hint}, {members} members)")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    from grafient_tui.store.integrations import integration_status, list_integrations

    db, _ = _open(settings)
    rows = []
    for integ in list_integrations(db):
        state = integration_status(db, integ.id)
        rows.append({
            "id": integ.id,
            "label": integ.label,
            "provider": integ.provider,
            "key_hint": integ.key_hint,
            "created": _iso(integ.created_at),
            "status": state.status,
            "last_sync": _iso(state.last_sync) if state.last_sync else None,
            "error": state.error,
        })
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("No integrations yet. Add one with: grafient add cursor --label NAME  (the key is read from stdin)")
        return 0
    headers = ["ID", "LABEL", "PROVIDER", "KEY", "CREATED", "STATUS", "LAST SYNC"]
    table = [[str(r["id"]), r["label"], r["provider"], r["key_hint"], r["created"][:16].replace("T", " "),
              r["status"], (r["last_sync"] or "never")[:16].replace("T", " ")] for r in rows]
    print(format_table(headers, table))
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from grafient_tui.store.integrations import find_integration, remove_integration

    db, _ = _open(settings)
    integ = find_integration(db, args.ref)
    if not args.yes and sys.stdin is not None and sys.stdin.isatty():
        answer = input(f"Remove {integ.label!r} (id {integ.id}) and all its stored costs? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("kept; nothing removed.")
            return 1
    remove_integration(db, integ.id)
    print(f"removed integration {integ.id} {integ.label!r} and its data")
    return 0


def cmd_plan(args: argparse.Namespace, settings: Settings) -> int:
    from grafient_tui.config import PLANS

    if args.plan is None:
        plan = settings.plan()
        print(f"{plan} (backfills {PLANS[plan]} days)")
        return 0
    settings.ensure_dirs()
    settings.set_plan(args.plan)
    print(f"plan set to {args.plan}: the next sync keeps {PLANS[args.plan]} days of history")
    return 0


def format_table(headers: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
    def line(cells: list[str]) -> str:
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=False))).rstrip()
    return "\n".join([line(headers), *(line(r) for r in rows)])


def _iso(moment) -> str:  # noqa: ANN001
    from datetime import UTC

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
