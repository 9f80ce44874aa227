"""The `grafient` command: the TUI by default, and headless subcommands for scripts and cron.

Each subcommand is argparse -> GrafientService -> print: the operations themselves live in
service.py, shared with the app; this module only reads arguments and keys and words the output.

Imports of the heavy packages (Textual, SQLModel, httpx) happen inside the
commands that need them, so `grafient --help` and `--version` stay instant.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from grafient_tui import __version__, providers
from grafient_tui.errors import ConfigError, GrafientError
from grafient_tui.untrusted import quoted, visible

if TYPE_CHECKING:
    from datetime import date, datetime
    from pathlib import Path

    from grafient_tui.config import Settings
    from grafient_tui.figures import SyncProgress, SyncResult
    from grafient_tui.secret import Secret
    from grafient_tui.service import GrafientService

# Commands that only read the store and print: nothing they run logs (the network and the sync
# engine do), so they skip setting up the scrubbed log handler, and the import of `logging` with it.
READING_COMMANDS = ("report", "anomalies", "list", "check", "budget", "plan", "pace", "db", "metrics")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one sentence and exit 2."""

    def error(self, message: str) -> NoReturn:
        # argparse echoes what it did not understand; a key pasted into argv
        # by mistake must not be printed back, so long or key-shaped tokens are masked.
        from grafient_tui.secret import looks_like_key

        message = re.sub(r"[A-Za-z0-9_\-+/=.]{24,}", "[hidden]", message)
        message = re.sub(r"[^\s'\",]+", lambda m: "[hidden]" if looks_like_key(m.group()) else m.group(), message)
        if "[hidden]" in message:
            message += "; API keys are read from standard input, never from the command line"
        self.exit(2, f"grafient: {one_line(message)} (see `{visible(self.prog)} --help`).\n")


def plural(value: int, word: str, many: str | None = None) -> str:
    """`1 day`, `2 days`, `1 retry`, `3 retries`."""
    return f"{value:,} {word if value == 1 else (many or word + 's')}"


def one_line(text: str) -> str:
    """`text` with line breaks, control characters and lone surrogates escaped as repr() does:
    an error stays one line, and nothing echoed from argv or a server drives the terminal."""
    from grafient_tui.untrusted import visible

    return visible(text)


PLANS_HELP = (
    "Plans decide how much history a backfill fetches: free keeps 30 days; pro and ultimate keep "
    "the provider's maximum (Cursor 365, Anthropic 365, OpenAI 180, OpenRouter 30, GitHub Copilot 730, xAI 90, "
    "Google Gemini 365, ElevenLabs 90)."
)
WORDS_HELP = (
    "'requests' are usage events (what a provider counts as a request: one Cursor event, an "
    "OpenAI completion, an OpenRouter request; Anthropic, GitHub Copilot, xAI, Google Gemini and ElevenLabs give "
    "no count, shown as -); "
    "'API calls' "
    "are the HTTP calls Grafient makes to a provider."
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="grafient",
        description="Your team's AI spend (Cursor, Anthropic, OpenAI, OpenRouter, GitHub Copilot, xAI, Google Gemini, "
        "ElevenLabs) in your terminal. "
        "With no command, opens the app.",
        epilog=PLANS_HELP + " Exit codes: 0 success, 1 a sync failed or an unexpected error, 2 bad input, "
        "a rejected key, no network or a store problem; `check` also 3 a forecast over a budget, 4 spend "
        "over one.",
    )
    parser.add_argument("--version", action="version", version=f"grafient {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the app on one simulated account per provider (no network, throwaway data)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    add = commands.add_parser(
        "add",
        help="add an integration; the key is read from stdin or prompted for",
        description="Check an admin key with its provider, store it encrypted and backfill the history the "
        "plan allows. The key is read from standard input (piped) or a prompt without echo, "
        "never from the command line.",
        epilog=PLANS_HELP + " Keys: cursor = Admin API key of an Enterprise team; anthropic = Admin key "
        "(sk-ant-admin01-...); openai = Admin key with Read only permission (sk-admin-...); "
        "openrouter = management key; copilot = a GitHub token of an organization owner or billing manager "
        "(github_pat_... with Administration: read, or ghp_...; an enterprise needs ghp_...) and --org ORG or "
        "--enterprise SLUG; xai = management key with Billing: Read Only (xai-token-...) and --team-id UUID; "
        "google = a service account's JSON key file on stdin, with --table (the detailed "
        "billing export); elevenlabs = API key with User (Read) and --allow-unidentified (its dollars are an "
        "estimate from credits; its API names no workspace, so Grafient cannot check that it is not connected "
        "already). "
        "A rejected key or the wrong kind of key exits 2 with nothing stored.",
    )
    names = providers.names()
    add.add_argument("provider", choices=names, help="the provider: " + ", ".join(names))
    add.add_argument("--label", required=True, help="a name for this team or account, unique (case and spaces aside)")
    add.add_argument("--no-backfill", action="store_true", help="do not fetch history now (the next sync does)")
    _add_account_flags(add)
    add.add_argument(
        "--allow-unidentified",
        action="store_true",
        help="add the key even when Grafient cannot tell which account it belongs to (so cannot check that the "
        "account is not connected already); without it such a key is refused",
    )

    lst = commands.add_parser(
        "list",
        help="list integrations",
        description="Every integration: id, label, provider, key hint (the last four characters only), when "
        "it was added, its sync status, the last successful sync and the earliest day its "
        "provider returned usage for.",
    )
    lst.add_argument(
        "--format", choices=("table", "json"), default="table", help="table for people (default), json for scripts"
    )

    remove = commands.add_parser(
        "remove",
        help="remove an integration and all its data",
        description="Delete an integration, its stored key and every stored day of its costs. On a terminal "
        "it asks first; answering no keeps everything and exits 0. The provider's own data is "
        "not touched.",
    )
    remove.add_argument("ref", metavar="ID|LABEL", help="the integration's id or label")
    remove.add_argument(
        "--yes",
        action="store_true",
        help="do not ask for confirmation; without it, the command refuses when there is no terminal to ask on",
    )

    rekey = commands.add_parser(
        "rekey",
        help="replace an integration's API key (read from stdin or prompted for)",
        description="Check a new key with the provider and seal it in place of the old one; the history "
        "is kept. The new key must belong to the same account.",
    )
    rekey.add_argument("ref", metavar="ID|LABEL", help="the integration's id or label")

    plan = commands.add_parser(
        "plan",
        help="show or set the plan (decides how much history to backfill)",
        description="Show the plan, or set it. " + PLANS_HELP,
    )
    plan.add_argument("plan", nargs="?", choices=("free", "pro", "ultimate"), help="the plan to set")

    sync = commands.add_parser(
        "sync",
        help="fetch new costs: missing days, the latest finished days again and today so far",
        description="Fetch every day of the plan's range that is missing or was not over when it was synced, "
        "the provider's most recent finished days again (it may still change them) and today so "
        "far. Another sync of the same integration already running is skipped (exit 0). " + WORDS_HELP,
    )
    sync.add_argument("ref", nargs="?", metavar="ID|LABEL", help="only this integration (default: all)")
    sync.add_argument(
        "--force",
        action="store_true",
        help="log the run as a forced sync (it fetches the same days: every sync includes today so far)",
    )

    report = commands.add_parser(
        "report",
        help="print stored costs (no network)",
        description="Stored costs in USD per UTC day, model or member, from the local store only. "
        "Figures a provider does not give are unknown (null in JSON, - in tables), never 0. " + WORDS_HELP,
    )
    report.add_argument("ref", nargs="?", metavar="ID|LABEL", help="only this integration (default: all)")
    span = report.add_mutually_exclusive_group()
    span.add_argument("--days", type=int, help="the last N UTC days through today (default 30)")
    span.add_argument("--since", metavar="YYYY-MM-DD", help="first UTC day")
    span.add_argument(
        "--month",
        metavar="YYYY-MM",
        help="a calendar month (UTC), compared with the month before; this month runs to today, with its "
        "forecast, and is compared with the same days of last month",
    )
    report.add_argument("--until", metavar="YYYY-MM-DD", help="last UTC day (default today; with --since)")
    report.add_argument(
        "--each",
        action="store_true",
        help="by day over several integrations: a table per integration (default: one table, a column each)",
    )
    report.add_argument(
        "--by",
        choices=("day", "model", "member"),
        default="day",
        help="day (default): one row per UTC day; model: totals per model; member: totals per "
        "member, workspace or project, whichever the provider splits by (the output says)",
    )
    report.add_argument(
        "--format",
        choices=("table", "json", "csv", "focus"),
        default="table",
        help="table for people (default); json with exact figures and a summary; csv with "
        "exact decimal dollars, formula-looking cells neutralised; focus: FinOps FOCUS 1.2 CSV, one row per "
        "UTC day, integration and model (README: FOCUS)",
    )
    report.add_argument(
        "--output",
        metavar="FILE",
        help="write the report to FILE instead of standard output: replaced atomically, 0600; "
        "a symbolic link or another user's file is refused",
    )

    metrics = commands.add_parser(
        "metrics",
        help="print Prometheus metrics (spend, budgets, syncs) for node_exporter's textfile collector",
        description="The stored figures in the Prometheus text exposition format, from the local store only: "
        "each integration's spend today, month to date and in its billing cycle (billed and usage value), its "
        "sync state and last successful sync, and every budget's spend, ratio and forecast. Unknown figures "
        "have no sample, never 0. README, Prometheus, lists the metrics.",
    )
    metrics.add_argument(
        "--output",
        metavar="FILE",
        help="write them to FILE (its name ending in .prom, in node_exporter's textfile directory) atomically: "
        "a scrape reads the old file or the new one, never half of one",
    )
    metrics.add_argument(
        "--by-model",
        action="store_true",
        help="add each model's usage value (grafient_model_spend_usd; at most 50 models per integration and "
        "period, the rest together)",
    )

    anomalies = commands.add_parser(
        "anomalies",
        help="days whose billed cost left their usual level, and who or what moved it (no network)",
        description="Each complete UTC day's billed cost (what invoices charge), per integration and for all "
        "together, against the median of the same weekday over the 4-8 complete weeks before: an anomaly "
        "when it is above it by both the ratio and the amount (and beyond the weekday's usual spread), never "
        "with fewer than 4 complete same weekdays. Each names the members and models whose cost rose most "
        "against their own baseline. Defaults from config.toml's [anomalies] (ratio = 1.5, min_amount = 20).",
    )
    anomalies.add_argument("ref", nargs="?", metavar="ID|LABEL", help="only this integration (default: all)")
    anomaly_span = anomalies.add_mutually_exclusive_group()
    anomaly_span.add_argument("--days", type=int, help="the last N UTC days through today (default 30)")
    anomaly_span.add_argument("--since", metavar="YYYY-MM-DD", help="first UTC day")
    anomalies.add_argument("--until", metavar="YYYY-MM-DD", help="last UTC day (default today; with --since)")
    anomalies.add_argument("--drops", action="store_true", help="also days far below their baseline")
    anomalies.add_argument("--ratio", metavar="X", help="how many times the baseline a day must reach (1.5)")
    anomalies.add_argument("--min-amount", metavar="USD", help="how many dollars above it at least (20)")
    anomalies.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table for people (default); json or csv with exact decimal dollars",
    )

    pace = commands.add_parser(
        "pace",
        help="show the requests per minute each provider's keys are paced to, or set "
        "the team's pace on a shared database",
        description="With no argument (or a PROVIDER), show the requests per minute each provider's keys are "
        "paced to and where that pace comes from. With PROVIDER RPM, set the pace every syncer of a shared "
        "database follows (its owner only); a home's own pace is the GRAFIENT_<PROVIDER>_RPM variable.",
    )
    pace.add_argument("provider", nargs="?", choices=names, help="the provider whose keys to pace")
    pace.add_argument("rpm", nargs="?", type=float, help="requests per minute (0: no pacing)")

    database = commands.add_parser("db", help="the database's schema: show its version, or upgrade it")
    database.add_argument(
        "action",
        choices=("status", "upgrade"),
        help="status: where the store is and its schema's version; upgrade: bring the schema to "
        "this version's (a shared database is upgraded this way, once)",
    )

    serve = commands.add_parser(
        "serve",
        help="serve the app in a browser at http://127.0.0.1:8765 (each tab its own app on this store)",
        description="Serve the app in a browser through textual-serve (the serve extra). Each browser tab runs "
        "its own app, on this store, with the same keys, palette and syncs as in a terminal; closing the tab "
        "ends it. It prints a sign-in link (it works once; restart for a new one) and answers only the "
        "browser that used it. It listens on this machine only: from another machine, forward the port with "
        "`ssh -L 8765:127.0.0.1:8765 host` and open the link there.",
    )
    serve.add_argument("--port", type=int, default=8765, help="the port to listen on (default 8765)")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="a loopback address to listen on (default 127.0.0.1); any other is refused",
    )
    serve.add_argument(
        "--demo",
        dest="serve_demo",
        action="store_true",
        help="serve the demo: each tab its own simulated accounts (no network, throwaway data)",
    )

    budget = commands.add_parser(
        "budget",
        help="set, list or remove spending budgets (see `grafient check`)",
        description="Budgets on one integration or on all together, per UTC calendar month or per billing "
        "cycle (Cursor's; other providers bill by the calendar month), on the usage value, the billed amount or "
        "the on-demand part. "
        "Stored in the database, so a shared database shares them.",
    )
    actions = budget.add_subparsers(dest="budget_action", metavar="ACTION", parser_class=_Parser, required=True)
    budget_set = actions.add_parser(
        "set",
        help="set a budget (setting it again replaces it)",
        description="Set the budget of TARGET for a period; setting it again replaces it.",
    )
    budget_set.add_argument("target", metavar="TARGET", help="an integration's id or label, or `all`")
    budget_set.add_argument("amount", metavar="AMOUNT", help="US dollars: 500 or 1250.50")
    budget_set.add_argument(
        "--period",
        choices=("month", "cycle"),
        default="month",
        help="month (default): the UTC calendar month; cycle: the provider's billing cycle "
        "(the calendar month where there is none)",
    )
    measure = budget_set.add_mutually_exclusive_group()
    measure.add_argument(
        "--on",
        choices=("billed", "usage"),
        default="usage",
        help="the amount it measures: usage (default): the usage value, plan-included usage too; billed: what "
        "invoices charge for usage (Cursor's on-demand part, every other provider's cost)",
    )
    measure.add_argument(
        "--on-demand",
        action="store_true",
        help="count on-demand cost only (Cursor's usage beyond the plan, GitHub Copilot's bill beyond the "
        "included AI credits, Google Gemini's bill after credits); with `all`, theirs only",
    )
    budget_list = actions.add_parser("list", help="list the budgets")
    budget_list.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table for people (default); json: target, target_id, period, measure, budget_usd",
    )
    budget_remove = actions.add_parser("remove", help="remove a budget")
    budget_remove.add_argument("target", metavar="TARGET", help="an integration's id or label, or `all`")
    budget_remove.add_argument(
        "--period", choices=("month", "cycle"), default="month", help="which of the target's budgets (default month)"
    )

    check = commands.add_parser(
        "check",
        help="check every budget, for cron and CI: exit 0 fine, 3 a forecast is over, 4 spend is over",
        description="One line per budget: spend so far, its share of the budget, the forecast for the period's "
        "end (spend through yesterday + the average of the complete days among the 14 before today "
        "x the days left, today included; not ready with fewer than 7 complete days), and the status. "
        "Reads the local store only. Exit 0 when every budget is fine, 3 when a forecast is above its "
        "budget, 4 when spend already is at or above it (the worst wins).",
    )
    check.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table: one line per budget, its status first (default); json: the figures, exact "
        "(see README, Budgets and alerts)",
    )

    commands.add_parser(
        "mcp",
        help="serve the store's figures to coding agents (Model Context Protocol over stdio; read-only)",
        description="A Model Context Protocol server on standard input and output for a coding agent: the "
        "tools integrations, spend (by day, model, member or provider), budgets and anomalies answer from the "
        "store, "
        "read-only, never a key. It needs the optional extra: uv run --extra mcp grafient mcp "
        "(README, MCP, shows an agent's configuration).",
    )

    _add_alert_parser(commands)
    _describe_from_help(parser)
    return parser


def _describe_from_help(parser: argparse.ArgumentParser) -> None:
    """A subcommand given a help line but no description of its own shows that line at the top of its
    --help (argparse shows none: `grafient db --help` was a bare usage)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                said = helps.get(name)
                if sub.description is None and said:
                    sub.description = said[0].upper() + said[1:] + ("" if said.endswith(".") else ".")
                _describe_from_help(sub)


def _add_alert_parser(commands: Any) -> None:
    alert = commands.add_parser(
        "alert",
        help="alert channels: Slack, Teams, a signed webhook or email, told once per event",
        description="Channels that `grafient sync` and `grafient check` (and the app, when it synced) tell about "
        "budgets crossing 50/80/100%, forecasts over a budget, anomalies (a complete day whose billed cost left "
        "its usual level), rejected keys and integrations not synced for 48 hours: each event once per channel. "
        "Stored in the database (a shared database shares them), secrets sealed like API keys and read from "
        "standard input.",
    )
    actions = alert.add_subparsers(dest="alert_action", metavar="ACTION", parser_class=_Parser, required=True)
    add = actions.add_parser("add", help="add a channel (its secret is read from stdin or prompted for)")
    kinds = add.add_subparsers(dest="alert_kind", metavar="KIND", parser_class=_Parser, required=True)
    slack = kinds.add_parser("slack", help="a Slack incoming webhook (its URL on stdin)")
    teams = kinds.add_parser(
        "teams",
        help="a Microsoft Teams Workflows webhook (its URL on stdin; the retired Office 365 connectors are not "
        "supported)",
    )
    webhook = kinds.add_parser(
        "webhook",
        help="POST JSON to a URL, signed: X-Grafient-Timestamp and X-Grafient-Signature: sha256=<HMAC-SHA256 of "
        "'timestamp.body'> (the signing secret on stdin)",
    )
    webhook.add_argument("--url", required=True, help="https:// (http:// only to this machine)")
    email = kinds.add_parser("email", help="a plain-text email through an SMTP server (its password on stdin)")
    email.add_argument("--to", required=True, metavar="ADDR[,ADDR...]", help="the recipients")
    email.add_argument("--smtp", required=True, metavar="HOST:PORT", help="the SMTP server")
    email.add_argument("--from", dest="sender", metavar="ADDR", help="the sender (default grafient@this host)")
    email.add_argument("--user", help="log in as this user; the password is read from stdin")
    email.add_argument(
        "--security",
        choices=("starttls", "tls", "none"),
        default="starttls",
        help="starttls (default), tls (implicit, port 465), none (only to a server on this machine)",
    )
    for kind in (slack, teams, webhook, email):
        kind.add_argument("--label", required=True, help="the channel's name")
    listing = actions.add_parser("list", help="list the channels, their last delivery and its outcome")
    listing.add_argument("--format", choices=("table", "json"), default="table", help="table (default) or json")
    remove = actions.add_parser("remove", help="remove a channel")
    remove.add_argument("label", metavar="LABEL", help="the channel's label (see `grafient alert list`)")
    test = actions.add_parser("test", help="send a test message: exit 0 when the channel accepted it, 2 when not")
    test.add_argument("label", metavar="LABEL", help="the channel's label (see `grafient alert list`)")


ACCOUNT_DEST = "account__"  # argparse's dest prefix for the providers' account settings (--org, --team-id)


def _add_account_flags(add: argparse.ArgumentParser) -> None:
    """One flag per account setting any provider declares (providers/base.AccountField), read from the
    registry without loading a provider; `cmd_add` keeps those of the provider chosen."""
    seen: set[str] = set()
    for name in providers.names():
        fields = providers.account_fields(name)
        for field in fields:
            if field.flag in seen:
                continue
            seen.add(field.flag)
            alternatives = [f.flag for f in fields if f.group is not None and f.group == field.group]
            either = f"; exactly one of {' or '.join(alternatives)}" if len(alternatives) > 1 else ""
            needed = "" if field.group is not None or field.required else "; optional"
            add.add_argument(
                field.flag,
                dest=ACCOUNT_DEST + field.name,
                metavar=field.metavar,
                help=f"{name} only{either}{needed}: {field.help}",
            )


def account_arguments(args: argparse.Namespace) -> dict[str, str]:
    """The account settings given on the command line for the chosen provider; ConfigError for one
    that belongs to another provider."""
    own = {f.name for f in providers.account_fields(args.provider)}
    given: dict[str, str] = {}
    for dest, value in vars(args).items():
        if not dest.startswith(ACCOUNT_DEST) or value is None:
            continue
        name = dest[len(ACCOUNT_DEST) :]
        if name not in own:
            flag = next(
                (f.flag for n in providers.names() for f in providers.account_fields(n) if f.name == name),
                "--" + name.replace("_", "-"),
            )
            raise ConfigError(f"{flag} is not an option of `grafient add {args.provider}`.")
        given[name] = value
    return given


def disable_core_dumps() -> None:
    """No core file, and no same-user ptrace or /proc/PID/mem, while this process may hold keys.

    RLIMIT_CORE 0 everywhere; on Linux also PR_SET_DUMPABLE 0 (which core_pattern pipes to a
    crash collector would otherwise ignore the limit for). Best effort: a failure changes nothing.
    """
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    except (ImportError, ValueError, OSError):
        pass
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            pr_set_dumpable = 4
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def main(argv: Sequence[str] | None = None) -> int:
    disable_core_dumps()
    debug = os.environ.get("GRAFIENT_DEBUG") == "1"
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help, --version and bad arguments end here
            return exc.code if isinstance(exc.code, int) else 2
        if debug or args.command not in READING_COMMANDS:
            _configure_logging(debug)
        return _dispatch(args)
    except GrafientError as exc:
        print(f"grafient: {one_line(exc.sentence)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("grafient: interrupted; nothing half-written was kept.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001  (the last resort: one line, and the details only on request)
        if debug:
            import traceback

            from grafient_tui.secret import scrub_known

            sys.stderr.write(scrub_known("".join(traceback.format_exception(exc))))
        print(
            f"grafient: unexpected error ({visible(type(exc).__name__)}); rerun with GRAFIENT_DEBUG=1 for details.",
            file=sys.stderr,
        )
        return 1


def _configure_logging(debug: bool, stream: Any = None) -> None:
    """Our log lines (and, with GRAFIENT_DEBUG=1, the database driver's) to `stream`, stderr unless given."""
    import logging

    from grafient_tui.secret import scrub_known

    class _Scrub(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg = scrub_known(record.getMessage())
            record.args = None
            return True

    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.addFilter(_Scrub())
    handler.setFormatter(logging.Formatter("grafient: %(name)s: %(message)s"))
    root = logging.getLogger("grafient")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    root.propagate = False
    # The database driver's own lines (psycopg logs what it ignores while a failed pipeline or
    # transaction is closed, naming the host, user and database) never reach stderr: the failure
    # itself comes back as our one sentence. With GRAFIENT_DEBUG=1 they are shown, scrubbed.
    driver = logging.getLogger("psycopg")
    driver.handlers[:] = [handler] if debug else [logging.NullHandler()]
    driver.setLevel(logging.DEBUG if debug else logging.CRITICAL + 1)
    driver.propagate = False


DEMO_COMMANDS = (None, "serve")  # what `grafient --demo ...` can run: the app, or the app in a browser


def _dispatch(args: argparse.Namespace) -> int:
    from grafient_tui.config import Settings

    if args.demo and args.command not in DEMO_COMMANDS:
        # Only the app (and `serve`, its browser tabs) have a demo: a command given --demo would read
        # and change the real home while the user thinks it is the simulated one.
        raise ConfigError(
            f"--demo opens the app on simulated accounts; `grafient {args.command}` has no demo "
            "(run `grafient --demo` for the app, or leave --demo out)."
        )
    settings = Settings.from_env()
    if args.command is None:
        return _run_app(settings, demo=args.demo)
    if args.command == "serve":
        return cmd_serve(args, settings)
    settings.check_home()  # nothing another user could have planted is read (config.check_trusted)
    from grafient_tui.service import GrafientService

    handler = {
        "add": cmd_add,
        "list": cmd_list,
        "remove": cmd_remove,
        "rekey": cmd_rekey,
        "plan": cmd_plan,
        "db": cmd_db,
        "pace": cmd_pace,
        "sync": cmd_sync,
        "report": cmd_report,
        "anomalies": cmd_anomalies,
        "budget": cmd_budget,
        "check": cmd_check,
        "metrics": cmd_metrics,
        "mcp": cmd_mcp,
        "alert": cmd_alert,
    }[args.command]
    service = GrafientService(settings)
    if args.command in READING_COMMANDS and service.shared:
        # A team server is read through psycopg, whose own log lines (what it ignores while closing a
        # failed transaction, naming the host and user) must stay off stderr as for every command.
        _configure_logging(os.environ.get("GRAFIENT_DEBUG") == "1")
    if not _only_reads(args):
        return handler(args, service)
    from grafient_tui.errors import StoreError

    try:
        return handler(args, service)
    except StoreError as exc:  # a team server back within seconds costs a read nothing
        if not exc.transient:
            raise
        import time

        from grafient_tui.store.failures import RETRY_PAUSE_BASES

        service.close()  # its connections may be the ones the server cut
        time.sleep(RETRY_PAUSE_BASES * settings.backoff_base)
        return handler(args, GrafientService(settings))


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """The app in a browser: each tab runs `python -m grafient_tui` on this store (tui/serve.py)."""
    from grafient_tui.tui.serve import serve

    demo = bool(args.demo or args.serve_demo)
    if not demo:
        settings.warn_about_open_dirs()  # each tab's app reads this home: refused now, not in every tab
    return serve(host=args.host, port=args.port, demo=demo)


def _only_reads(args: argparse.Namespace) -> bool:
    """Commands that change nothing, and print only once they have read everything: safe to run again."""
    if args.command in ("list", "report", "anomalies", "check", "metrics"):
        return True
    if args.command == "db":
        return bool(args.action == "status")
    if args.command == "budget":
        return bool(args.budget_action == "list")
    if args.command == "plan":
        return args.plan is None
    if args.command == "pace":
        return args.rpm is None
    return False


DEBUG_LOG = "debug.log"


def _debug_log_while_the_app_runs(settings: Settings) -> Path | None:
    """With GRAFIENT_DEBUG=1, the app's log lines go to `debug.log` in the data directory (GRAFIENT_HOME,
    or the user's data dir, for the demo too: its own home is removed as it ends), 0600, appended; never
    to the terminal, which the app has drawn on. None without GRAFIENT_DEBUG=1."""
    if os.environ.get("GRAFIENT_DEBUG") != "1":
        return None
    from grafient_tui.config import FILE_MODE, ensure_private_dir

    settings.check_home()
    ensure_private_dir(settings.data_dir)
    path = settings.data_dir / DEBUG_LOG
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    except OSError as exc:
        raise ConfigError(
            f"the debug log {visible(str(path))} cannot be opened: {visible(exc.strerror or '')}."
        ) from None
    os.fchmod(fd, FILE_MODE)  # one made before under another umask
    _configure_logging(True, open(fd, "a", encoding="utf-8", buffering=1))  # noqa: SIM115 (lives as long as the app)
    return path


def _say_debug_log(path: Path | None) -> None:
    if path is not None:
        print(f"grafient: the debug log is {visible(str(path))}", file=sys.stderr)


def _run_app(settings: Settings, *, demo: bool) -> int:
    """The app, ended by `q`, SIGTERM, SIGHUP or its terminal going away (exit 128 + the signal).
    The demo does not return: its process ends as soon as its throwaway home is removed."""
    from grafient_tui.ending import ending_on_signals
    from grafient_tui.tui.app import GrafientApp  # Textual only loads when the app opens
    from grafient_tui.tui.serve import follow_server

    follow_server()  # a browser tab's app (`grafient serve`) ends with its server
    debug_log = _debug_log_while_the_app_runs(settings)

    if not demo:
        settings.warn_about_open_dirs()
        from grafient_tui.tui.keymap import check_keymap

        check_keymap(settings.keymap(), settings.config_file)  # a typo is a sentence now, not a dead key later
        app = GrafientApp(settings)
        with ending_on_signals(app.exit) as ending:
            app.run()
        _say_debug_log(debug_log)
        return ending.exit_code or app.return_code or 0
    from grafient_tui.demo import DemoRun, build_demo

    run = DemoRun()
    with run.stop_on_signals() as ending:  # before the home exists: a signal while it is built removes it too
        env = build_demo(home=run.new_home())
        run.app = GrafientApp(
            env.settings,
            transport=env.transport,
            demo_teams=env.teams,
            demo_try_keys=env.try_keys,
            demo_budgets=env.budgets,
            remember_home=False,
        )
        run.app.run()
    # (Leaving the block removed the home.) The app's threads are daemons nobody waits for (quitting
    # never waits on them), and one may still be at work, an add creating the home's folders anew:
    # the demo ends right after its home is removed, as it does when a signal's watchdog ends it,
    # so nothing can put any of it back.
    _say_debug_log(debug_log)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(ending.exit_code or run.app.return_code or 0)


def read_key(provider: str | None = None) -> Secret:
    """The key from stdin when it is piped, else a prompt without echo; never from argv."""
    from grafient_tui.secret import Secret

    if sys.stdin is None:
        raise ConfigError("no API key given: pipe it on standard input.")
    if provider is not None and providers.get(provider).key_document:
        return _read_key_document(provider)
    if sys.stdin.isatty():
        import getpass

        kind = "API key"
        if provider is not None:
            chosen = providers.get(provider)
            kind = f"{chosen.title} key ({chosen.key_kind})"
        text = getpass.getpass(f"{kind} (input hidden): ")
    else:
        text = sys.stdin.readline()
    key = text.strip()
    if not key:
        raise ConfigError("no API key given: pipe it on standard input or paste it at the prompt.")
    if any(ch.isspace() for ch in key) or not key.isprintable() or len(key) > 512:
        raise ConfigError("that does not look like an API key (it has spaces or control characters).")
    return Secret(key)


MAX_KEY_DOCUMENT = 64 * 1024  # a service-account JSON key file is about 2.3 kB


def _read_key_document(provider: str) -> Secret:
    """A key that is a file of several lines (Google's service-account JSON key), read whole from
    standard input and checked locally before any call; a terminal is not asked (pasting a private
    key at a prompt would show it, and a prompt reads one line)."""
    from grafient_tui.secret import Secret

    chosen = providers.get(provider)
    if sys.stdin.isatty():
        raise ConfigError(
            f"{chosen.title} reads its key from a file on standard input: "
            f"grafient add {provider} --label LABEL ... < key.json"
        )
    text = sys.stdin.read(MAX_KEY_DOCUMENT + 1)
    if len(text) > MAX_KEY_DOCUMENT:
        raise ConfigError(
            f"the key on standard input is larger than {MAX_KEY_DOCUMENT // 1024} kB; is it the key file?"
        )
    text = text.strip()
    if not text:
        raise ConfigError(f"no key given: pipe the {chosen.title} key file on standard input (< key.json).")
    chosen.check_key_text(text)  # not a service-account key: one sentence, exit 2, nothing asked or stored
    return Secret(text)


def cmd_add(args: argparse.Namespace, service: GrafientService) -> int:
    from grafient_tui.providers.base import describe_account

    # Everything that can be refused without the network is, before a key is asked for.
    account = service.check_account(args.provider, account_arguments(args))
    service.require_identifiable(args.provider, allow_unidentified=args.allow_unidentified)
    label = service.free_label(args.label)
    service.require_change()  # a viewer is told so before typing a key
    key = read_key(args.provider)
    import asyncio

    row = asyncio.run(
        service.add(
            args.provider, label, key, account=account, now=now_utc(), allow_unidentified=args.allow_unidentified
        )
    )
    actors = providers.capabilities(row.provider).actor_title.lower()
    settings = describe_account(providers.account_fields(row.provider), account)
    where = f"{visible(row.provider)} {one_line(settings)}" if settings else visible(row.provider)
    print(
        f"added integration {row.integration_id:d} {quoted(row.label)} ({where}, key {visible(row.key_hint)}, "
        f"{row.team_members:,} {visible(actors)})"
    )
    if args.no_backfill:
        return 0
    (result,) = asyncio.run(
        service.sync(row.integration_id, trigger="backfill", progress=_progress_printer(), now=now_utc())
    )
    _print_sync_line(result)
    if result.outcome == "failed":
        print("grafient: the integration is saved; run `grafient sync` to try the backfill again.", file=sys.stderr)
        return 1
    return 0


def now_utc() -> datetime:
    """The current time; GRAFIENT_NOW (ISO 8601) pins it for tests and reproducible reports."""
    from datetime import UTC, datetime

    pinned = os.environ.get("GRAFIENT_NOW")
    if not pinned:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(pinned.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"GRAFIENT_NOW must be an ISO 8601 time, not {pinned!r}.") from None
    # An offset is honoured, then dropped: every "today" in Grafient is the UTC date.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _progress_printer() -> Callable[[SyncProgress], None] | None:
    """Live progress on stderr when it is a terminal; silence for cron and pipes."""
    if not sys.stderr.isatty():
        return None

    def show(p: SyncProgress) -> None:
        sys.stderr.write(
            f"\r{visible(p.label)}: window {p.windows_done:,}/{p.windows_total:,}, "
            f"{plural(p.days_written, 'day')} written, {plural(p.requests, 'API call')}\033[K"
        )
        sys.stderr.flush()

    return show


def _print_sync_line(result: SyncResult) -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    error = one_line(result.error or "")
    if result.outcome == "success":
        detail = "ok"
    elif result.outcome == "skipped":
        detail = f"skipped: {error}"
    else:
        detail = f"failed: {error}"
    if result.blocked:
        detail = f"blocked: {error}"
    calls = plural(result.requests, "API call")
    retries = (
        f" ({result.rate_limited:,} rate-limited, {plural(result.retries, 'retry', 'retries')})"
        if result.retries
        else ""
    )
    print(f"{visible(result.label)}: {plural(result.days_written, 'day')} written, {calls}{retries}, {detail}")


def cmd_sync(args: argparse.Namespace, service: GrafientService) -> int:
    import asyncio

    results = asyncio.run(
        service.sync(
            args.ref,
            trigger="force" if args.force else "daily",
            progress=_progress_printer(),
            on_result=_print_sync_line,
            now=now_utc(),
        )
    )
    if not results:
        print("No integrations yet. Add one with: grafient add PROVIDER --label NAME (see `grafient add --help`)")
        return 0
    deliver_alerts(service)
    return 1 if any(r.outcome == "failed" or r.blocked for r in results) else 0


def cmd_report(args: argparse.Namespace, service: GrafientService) -> int:
    from datetime import timedelta

    from grafient_tui.report import ReportRange, as_json_data, render_csv, render_table
    from grafient_tui.report_days import render_days_table
    from grafient_tui.spans import check_range

    today = now_utc().date()
    # `is not None`: an option given empty (`--since=`) is a bad date, not an absent one
    if args.until is not None and args.since is None:
        raise ConfigError("--until goes with --since.")
    span = None
    if args.month is not None:
        from grafient_tui import spans

        if args.until is not None:
            raise ConfigError("--until goes with --since.")
        span = ReportRange.of(spans.month(args.month, today))
        since, until = span.since, span.until
    elif args.since is not None:
        since = _parse_day(args.since, "--since")
        until = _parse_day(args.until, "--until") if args.until is not None else today
    else:
        days = 30 if args.days is None else args.days
        if not 1 <= days <= 3660:
            raise ConfigError(f"--days must be between 1 and 3660, not {days}.")
        until, since = today, today - timedelta(days=days - 1)
    check_range(since, until, today, max_days=3660, too_long="a report can cover at most 3660 days.", dashes="--")
    span = span or ReportRange(since, until)
    if args.format == "focus":
        if args.by != "day" or args.each:
            raise ConfigError("--format focus has its own rows (a UTC day of a model); leave out --by and --each.")
        from grafient_tui.focus import render_focus

        export = service.focus(span, args.ref)
        for sentence in export.left_out:
            print(f"grafient: warning: {one_line(sentence)}.", file=sys.stderr)
        text = render_focus(export)
    else:
        # Each day's list of models is JSON's alone: the table and the CSV name the top one.
        report = service.report(span, args.by, args.ref, today=today, day_models=args.format == "json")
        if args.format == "json":
            # ASCII: every character from an API arrives as a \u escape, never raw on a terminal
            text = json.dumps(as_json_data(report), indent=2, ensure_ascii=True) + "\n"
        elif args.format == "csv":
            text = render_csv(report)
        elif args.each:
            text = render_table(report) + "\n"
        else:
            text = render_days_table(report) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        _write_output(text, args.output)
    return 0


def cmd_metrics(args: argparse.Namespace, service: GrafientService) -> int:
    from pathlib import Path

    from grafient_tui.metrics import render_metrics, write_textfile

    figures = service.metrics(now_utc().date(), by_model=args.by_model)
    if args.output is not None:
        write_textfile(Path(args.output), render_metrics(figures))
        return 0
    sys.stdout.flush()
    sys.stdout.buffer.write(render_metrics(figures))  # UTF-8, as the format is, whatever the locale
    sys.stdout.buffer.flush()
    return 0


def _write_output(text: str, output: str) -> None:
    """`text` into the file `--output` names (config.write_output_file: atomic, 0600, no links)."""
    from pathlib import Path

    from grafient_tui.config import write_output_file

    if not output.strip():
        raise ConfigError("--output needs a file name.")
    write_output_file(Path(output), text.encode("utf-8", "backslashreplace"))


MAX_ANOMALY_DAYS = 366


def cmd_anomalies(args: argparse.Namespace, service: GrafientService) -> int:
    from datetime import timedelta

    from grafient_tui.anomalies.output import Covered, json_data, render_csv, render_table

    today = now_utc().date()
    if args.until is not None and args.since is None:
        raise ConfigError("--until goes with --since.")
    if args.since is not None:
        since = _parse_day(args.since, "--since")
        until = _parse_day(args.until, "--until") if args.until is not None else today
    else:
        days = 30 if args.days is None else args.days
        if not 1 <= days <= MAX_ANOMALY_DAYS:
            raise ConfigError(f"--days must be between 1 and {MAX_ANOMALY_DAYS}, not {days}.")
        until, since = today, today - timedelta(days=days - 1)
    if since > until:
        raise ConfigError(f"--since {since} is after --until {until}.")
    if until > today:
        raise ConfigError(f"{until} is in the future (today is {today} UTC).")
    if (until - since).days >= MAX_ANOMALY_DAYS:
        raise ConfigError(f"anomalies can cover at most {MAX_ANOMALY_DAYS} days at once.")
    thresholds = service.anomaly_thresholds(ratio=args.ratio, min_amount=args.min_amount)
    scope = "all integrations" if args.ref is None else service.find(args.ref).label
    found = service.anomalies(
        args.ref,
        since=since,
        until=until,
        drops=args.drops,
        today=today,
        ratio=args.ratio,
        min_amount=args.min_amount,
    )
    covered = Covered(since=since, until=until, scope=scope, thresholds=thresholds, drops=args.drops)
    if args.format == "json":
        print(json.dumps(json_data(found, covered), indent=2, ensure_ascii=True))
    elif args.format == "csv":
        sys.stdout.write(render_csv(found))
    else:
        print(render_table(found, covered))
    return 0


def _parse_day(text: str, option: str) -> date:
    from datetime import date

    from grafient_tui.secret import KEY_IN_ARGV, looks_like_key

    try:
        return date.fromisoformat(text)
    except ValueError:
        if looks_like_key(text):
            raise ConfigError(f"{option} must be a date as YYYY-MM-DD: {KEY_IN_ARGV}.") from None
        raise ConfigError(f"{option} must be a date as YYYY-MM-DD, not {text!r}.") from None


def cmd_list(args: argparse.Namespace, service: GrafientService) -> int:
    from grafient_tui.tables import format_table

    rows: list[dict[str, Any]] = [
        {
            "id": item.id,
            "label": item.label,
            "provider": item.provider,
            "key_hint": item.key_hint,
            "created": _iso(item.created),
            "status": item.status,
            "last_sync": _iso(item.last_sync) if item.last_sync else None,
            "error": item.error,
            "history_from": item.history_from.isoformat() if item.history_from else None,
            # The provider's account settings besides the key ({"org": "acme"}); null when the stored
            # ones cannot be read.
            "account": item.account,
            "sync_lock_holder": item.sync_lock_holder,
        }
        for item in service.list_integrations()
    ]
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=True))
        return 0
    if not rows:
        print(
            "No integrations yet. Add one with: grafient add PROVIDER --label NAME  (the key is read from stdin; "
            "`grafient add --help` lists the providers)"
        )
        return 0
    from grafient_tui.providers.base import describe_account

    headers = ["ID", "LABEL", "PROVIDER", "KEY", "CREATED", "STATUS", "LAST SYNC", "HISTORY FROM"]
    table = [
        [
            str(r["id"]),
            one_line(r["label"]),
            one_line(r["provider"]),
            one_line(r["key_hint"]),
            r["created"][:16].replace("T", " "),
            one_line(r["status"]),
            (r["last_sync"] or "never")[:16].replace("T", " "),
            r["history_from"] or "-",
        ]
        for r in rows
    ]
    if any(r["account"] != {} for r in rows):  # a column only when some provider carries settings
        headers.append("ACCOUNT")
        for r, line in zip(rows, table, strict=True):
            settings = r["account"]
            shown = (
                "(unreadable)"
                if settings is None
                else describe_account(providers.account_fields(r["provider"]), settings)
            )
            line.append(one_line(shown) or "-")
    print(format_table(headers, table))
    for r in rows:
        if r["sync_lock_holder"]:  # a shared database: whoever syncs it now, on any machine
            print(f"{one_line(r['label'])}: its sync lock is held by {one_line(r['sync_lock_holder'])}")
    return 0


def cmd_remove(args: argparse.Namespace, service: GrafientService) -> int:
    integ = service.find(args.ref)
    service.require_change()
    service.ensure_not_syncing(integ)  # say so before asking; the removal holds the lock itself
    if not args.yes:
        if sys.stdin is None or not sys.stdin.isatty():
            # No terminal to ask on (a script, cron, `</dev/null`): deleting history is never the default.
            raise ConfigError(
                f"not removing {quoted(integ.label)}: there is no terminal to confirm on; add --yes to remove it."
            )
        answer = input(f"Remove {quoted(integ.label)} (id {integ.integration_id:d}) and all its stored costs? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("kept; nothing removed.")
            return 0  # the user's answer, not a failure
    service.remove(integ.integration_id)
    print(f"removed integration {integ.integration_id:d} {quoted(integ.label)} and its data")
    return 0


def cmd_rekey(args: argparse.Namespace, service: GrafientService) -> int:
    integ = service.find(args.ref)  # a bad reference is refused before a key is asked for
    service.require_change()
    key = read_key(integ.provider)
    import asyncio

    row, team = asyncio.run(service.rekey(integ.integration_id, key))
    actors = providers.get(row.provider).capabilities.actor_title.lower()
    print(
        f"replaced the key of {quoted(row.label)} (now {visible(row.key_hint)}, {team.members:,} {visible(actors)}); "
        "its history is kept"
    )
    return 0


def _plan_depths(plan: str) -> str:
    """`365 days; OpenAI 180, OpenRouter 30, GitHub Copilot 730`: the plan's history, with each provider
    that keeps another depth named (30 days on the free plan for all)."""
    from collections import Counter

    depths = {name: providers.get(name).limits.history_for(plan) for name in providers.names()}
    usual = Counter(depths.values()).most_common(1)[0][0]
    others = ", ".join(f"{providers.title(n)} {d}" for n, d in depths.items() if d != usual)
    return f"{usual} days" + (f"; {others}" if others else "")


def cmd_plan(args: argparse.Namespace, service: GrafientService) -> int:
    if args.plan is None:
        plan = service.plan()
        print(f"{visible(plan)} (backfills {visible(_plan_depths(plan))})")
        return 0
    service.set_plan(args.plan)
    print(f"plan set to {visible(args.plan)}: the next sync keeps {visible(_plan_depths(args.plan))} of history")
    return 0


def cmd_budget(args: argparse.Namespace, service: GrafientService) -> int:
    from grafient_tui.budgets import MEASURE_WORDS
    from grafient_tui.budgets.wording import amount, removed_words, set_words
    from grafient_tui.money import usd_float
    from grafient_tui.tables import format_table

    if args.budget_action == "set":
        row, replaced = service.set_budget(
            args.target, args.amount, period=args.period, on_demand=args.on_demand, on=args.on, now=now_utc()
        )
        print(
            one_line(set_words(row.target, row.target_id, row.period, row.measure, row.amount_micro, replaced=replaced))
        )
        return 0
    if args.budget_action == "remove":
        row = service.remove_budget(args.target, period=args.period)
        print(one_line(removed_words(row.target, row.target_id, row.period, row.measure, row.amount_micro)))
        return 0
    rows = service.budgets()
    _warn_unusable_budgets(service)
    if args.format == "json":
        print(
            json.dumps(
                [
                    {
                        "target": r.target,
                        "target_id": r.target_id,
                        "period": r.period,
                        "measure": r.measure,
                        "budget_usd": usd_float(r.amount_micro),
                    }
                    for r in rows
                ],
                indent=2,
                ensure_ascii=True,
            )
        )
        return 0
    if not rows:
        print("No budgets yet. Set one with: grafient budget set all 500  (or an integration's id or label)")
        return 0
    table = [[one_line(r.target), r.period, MEASURE_WORDS[r.measure], amount(r.amount_micro)] for r in rows]
    print(format_table(["TARGET", "PERIOD", "MEASURE", "BUDGET"], table))
    return 0


def cmd_check(args: argparse.Namespace, service: GrafientService) -> int:
    from grafient_tui.budgets.status import EXIT_CODES, status_data, worst
    from grafient_tui.budgets.wording import check_line

    statuses = service.check_budgets(now_utc().date())
    _warn_unusable_budgets(service)
    if args.format == "json":
        print(json.dumps([status_data(s) for s in statuses], indent=2, ensure_ascii=True))
    elif not statuses:
        print("No budgets yet. Set one with: grafient budget set all 500")
    else:
        for status in statuses:
            print(one_line(check_line(status)))
    sys.stdout.flush()
    deliver_alerts(service)
    return EXIT_CODES[worst([s.status for s in statuses])]


def cmd_mcp(args: argparse.Namespace, service: GrafientService) -> int:
    from grafient_tui import mcp_server

    if not mcp_server.available():
        raise ConfigError(mcp_server.INSTALL_HINT)
    return mcp_server.serve(service, now_utc)


def _warn_unusable_budgets(service: GrafientService) -> None:
    for sentence in service.unusable_budgets():
        print(f"grafient: warning: {one_line(sentence)}.", file=sys.stderr)


def cmd_pace(args: argparse.Namespace, service: GrafientService) -> int:
    if args.rpm is not None:
        service.set_pace(args.provider, args.rpm)
        print(
            f"{visible(args.provider)} keys are paced to {args.rpm:g} requests per minute for every syncer of this "
            "database"
        )
        return 0
    for provider, rpm, source in service.paces():
        if args.provider in (None, provider):
            pace = "no pacing" if rpm == 0 else f"{rpm:g} requests per minute"
            print(f"{visible(provider)}: {pace} ({visible(source)})")
    return 0


def cmd_db(args: argparse.Namespace, service: GrafientService) -> int:
    if args.action == "upgrade":
        before, after = service.upgrade_database()
        if before == after:
            print(f"the schema is already at {visible(after)}; nothing to do")
        else:
            print(f"the schema was {visible(before)}; it is now {visible(after)}")
        return 0
    status = service.database_status()
    print(f"database: {one_line(status.where)}")
    print(f"schema: {visible(status.schema)}")
    if status.session:  # a shared database: the timeouts this machine's sessions run with (README)
        shown = ", ".join(f"{visible(name)} {one_line(value)}" for name, value in status.session.items())
        print(f"sessions: {shown} (reads; writes have no statement_timeout)")
    if not status.usable:
        from grafient_tui.store.schema import UPGRADE_HINT

        print(
            f"grafient: this Grafient cannot use it as it is; "
            f"{'upgrade Grafient' if 'newer' in status.schema else visible(UPGRADE_HINT)}.",
            file=sys.stderr,
        )
        return 2
    return 0


def _iso(moment: datetime) -> str:
    from datetime import UTC

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- alerts

MAX_SECRET = 4096  # characters of a webhook URL, signing secret or password read from stdin


def read_secret(what: str) -> Secret:
    """One line from stdin when it is piped, else a prompt without echo; never from argv; bounded."""
    from grafient_tui.secret import Secret

    if sys.stdin is None:
        raise ConfigError(f"no {what} given: pipe it on standard input.")
    if sys.stdin.isatty():
        import getpass

        text = getpass.getpass(f"{what} (input hidden): ")
    else:
        text = sys.stdin.readline(MAX_SECRET + 1)
    value = text.strip()
    if not value:
        raise ConfigError(f"no {what} given: pipe it on standard input or type it at the prompt.")
    if len(value) > MAX_SECRET or not value.isprintable():
        raise ConfigError(f"the {what} is too long or has control characters.")
    return Secret(value)


SECRET_WORDS = {
    "slack": "Slack incoming-webhook URL",
    "teams": "Teams Workflows webhook URL",
    "webhook": "signing secret",
    "email": "SMTP password",
}


def cmd_alert(args: argparse.Namespace, service: GrafientService) -> int:
    action = args.alert_action
    if action == "add":
        kind = args.alert_kind
        label = service.clean_label(args.label)  # a bad label is said before a secret is asked for
        service.require_change()
        secret = None
        if kind != "email" or args.user is not None:
            secret = read_secret(SECRET_WORDS[kind])
        from grafient_tui.secret import remember_secret

        if secret is not None:
            remember_secret(secret.reveal())  # scrubbed from anything logged from here on
        info = service.add_alert_channel(
            kind,
            label,
            secret=secret,
            url=getattr(args, "url", None),
            to=getattr(args, "to", None),
            smtp=getattr(args, "smtp", None),
            sender=getattr(args, "sender", None),
            user=getattr(args, "user", None),
            security=getattr(args, "security", "starttls"),
            now=now_utc(),
        )
        print(
            f"added alert channel {quoted(info.label)} ({visible(info.kind)}: {visible(info.target)}); try it with "
            f"`grafient alert test {visible(info.label)}`"
        )
        return 0
    if action == "remove":
        info = service.remove_alert_channel(args.label)
        print(f"removed alert channel {quoted(info.label)} ({visible(info.kind)})")
        return 0
    if action == "test":
        done = service.test_alert_channel(args.label)
        if done.ok:
            print(f"{quoted(done.channel)}: {one_line(done.outcome)}")
            return 0
        print(f"grafient: the test alert to {quoted(done.channel)} failed: {one_line(done.outcome)}.", file=sys.stderr)
        return 2
    rows = service.alert_channels()
    if args.format == "json":
        print(
            json.dumps(
                [
                    {
                        "label": c.label,
                        "kind": c.kind,
                        "target": c.target,
                        "last_delivery": None if c.last_delivery is None else _iso(c.last_delivery),
                        "last_outcome": c.last_outcome,
                        "last_ok": c.last_ok,
                    }
                    for c in rows
                ],
                indent=2,
                ensure_ascii=True,
            )
        )
        return 0
    if not rows:
        print("No alert channels yet. Add one with: grafient alert add slack --label NAME  (the URL on stdin)")
        return 0
    from grafient_tui.tables import format_table

    table = [
        [
            one_line(c.label),
            visible(c.kind),
            one_line(c.target),
            "—" if c.last_delivery is None else _iso(c.last_delivery),
            "—" if c.last_ok is None else ("ok: " if c.last_ok else "failed: ") + one_line(c.last_outcome or ""),
        ]
        for c in rows
    ]
    print(format_table(["LABEL", "KIND", "TARGET", "LAST DELIVERY", "OUTCOME"], table))
    return 0


def deliver_alerts(service: GrafientService) -> None:
    """Send pending alerts after a sync or check. Whatever happens here leaves the command's exit code
    as its work made it: a failing channel (or store) is a warning on stderr, and recorded."""
    try:
        delivered = service.deliver_alerts(now_utc() if os.environ.get("GRAFIENT_NOW") else None)
    except GrafientError as exc:
        print(f"grafient: warning: alerts were not sent: {one_line(exc.sentence)}", file=sys.stderr)
        return
    except Exception as exc:  # noqa: BLE001  (an alert never fails the sync or check that found it)
        print(f"grafient: warning: alerts were not sent (unexpected {visible(type(exc).__name__)}).", file=sys.stderr)
        return
    for done in delivered:
        if not done.ok:
            print(
                f"grafient: warning: alert channel {quoted(done.channel)} failed: {one_line(done.outcome)}.",
                file=sys.stderr,
            )
