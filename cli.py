"""custody: the operator's command line. Each command parses, calls one function, renders.

This module is the entry point (`custody = "cli:main"`) and the composition root: it makes the Typer app and its
groups, and registers each command, defined with the others of its subject in a cli_<subject> module:

    cli_fees       fees                          cli_import     import …
    cli_storage    init, pay, db, calendar,      cli_remind     remind …
                   patent show|set               cli_daemon     daemon, run-once, health
    cli_status     status confirm|review|        cli_sync       status sync
                   ops-usage, decide,            cli_operator   enterprise …, contact …,
                   patent history|watch|custody                 patent list|remove, import log
    cli_reports    report …                      cli_statement  statement …

What they share (errors, formats, option parsing, the database session) is cli_base's; the wiring of the
configured parts cli_wiring's; logging cli_logging's; tables cli_render's and schedules cli_rich's; `--help` in the
configured language cli_help's (every command and group is a cli_help.HelpCommand or HelpGroup). A command's
logic lives where its subject does: custody/ (and custody/store/), importers/, scheduler/.

Start-up (issue 9): `custody --help` imports every command module, so they import only what their signatures
need and the rest inside the function; they do without `from __future__ import annotations`, since Typer reads
each command's annotations and a string annotation costs a compile (about 10 ms over the 55 commands).

Exit codes: 0 ok; 1 bad input or a failed delivery; 2 usage or configuration error.
Known errors print one `Error: …` line. Anything unexpected is logged with its traceback to the log file and the
operator sees a one-line pointer to it: never a traceback (it can hold secrets and phone numbers).
"""

import sys
import traceback
from collections.abc import Iterable, Iterator
from typing import Any

import typer
import typer.core
import typer.main

import cli_daemon
import cli_fees
import cli_import
import cli_operator
import cli_remind
import cli_reports
import cli_statement
import cli_status
import cli_storage
import cli_sync
from cli_base import State, config_errors, known_errors, say_error
from cli_help import HelpCommand, HelpGroup, help_language
from cli_logging import configure_logging
from custody.i18n import set_language, tr

# ---------------------------------------------------------------------------------------------- the app and its groups

app = typer.Typer(
    name="custody",
    cls=HelpGroup,
    help="Patent custody engine: CNIPA annual fees, reminders and legal-status watch for a portfolio.\n\n"
    "Example: custody fees 201710601862.3 --filed 2017-04-25 --grant-year 3 --reduction 85",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _group_app(help: str) -> typer.Typer:
    return typer.Typer(cls=HelpGroup, help=help, no_args_is_help=True)


db_app = _group_app("Database set-up and migrations.\n\nExample: custody db upgrade")
patent_app = _group_app("Stored patents.\n\nExample: custody patent show 201710601862.3")
calendar_app = _group_app("Working-day calendar (State Council holiday schedules).\n\n"
                        "Example: custody calendar load schedule-2027.toml")
app.add_typer(db_app, name="db")
app.add_typer(patent_app, name="patent")
app.add_typer(calendar_app, name="calendar")
import_app = _group_app("Import enterprises, patents and payments from operators' spreadsheets.\n\n"
                        "Example: custody import patents examples/portfolio_platform.xlsx --enterprise "
                        "91350100M000100Y43")
remind_app = _group_app("Reminders: plan, list and send.\n\nExample: custody remind plan --dry-run")
status_app = _group_app("Legal-status watch.\n\nExample: custody status sync status-export.xlsx")
report_app = _group_app("Operator reports.\n\nExample: custody report due --within 90d --format csv")
app.add_typer(import_app, name="import")
app.add_typer(remind_app, name="remind")
app.add_typer(status_app, name="status")
app.add_typer(report_app, name="report")
enterprise_app = _group_app("Enterprises: who receives their reminders, and their standing instructions.\n\n"
                        "Example: custody enterprise set 91350100M000100Y43 --no-sms --agency")
contact_app = _group_app("Contacts' consent to reminders, per channel.\n\n"
                        "Example: custody contact set 13800138000 --no-sms")
statement_app = typer.Typer(cls=cli_statement.StatementGroup, no_args_is_help=True,
                            help="The enterprise statement: its patents, what is due when and at what cost, what is "
                            "in grace, what can be restored, and five years ahead (PDF or XLSX), written or "
                            "emailed.\n\nExample: custody statement 91350100M000100Y43 --out statement.pdf")
app.add_typer(enterprise_app, name="enterprise")
app.add_typer(contact_app, name="contact")
app.add_typer(statement_app, name="statement")


def _print_version(value: bool) -> None:
    if value:
        from custody import __version__

        typer.echo(f"custody {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: str | None = typer.Option(None, "--config", help="Configuration file (default: $CUSTODY_CONFIG, "
                                      "else ./config.toml, else built-in defaults)."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit (no configuration is read)."),
) -> None:
    ctx.obj = State(config)
    set_language(ctx.obj.config.language)  # once: everything this command prints is in it (a log file it cannot
    configure_logging(ctx.obj.config)      # write to included)


# ---------------------------------------------------------------------------------------------- the commands
# In the order `custody --help` lists them: the commands of the app, then each group's.

COMMANDS: list[tuple[typer.Typer, list[tuple[str, Any]]]] = [
    (app, [("fees", cli_fees.fees), ("init", cli_storage.init), ("pay", cli_storage.pay),
           ("daemon", cli_daemon.daemon), ("run-once", cli_daemon.run_once_command), ("health", cli_daemon.health),
           ("decide", cli_status.decide)]),
    (db_app, [("upgrade", cli_storage.db_upgrade)]),
    (patent_app, [("show", cli_storage.patent_show), ("history", cli_status.patent_history),
                  ("watch", cli_status.patent_watch), ("custody", cli_status.patent_custody),
                  ("set", cli_storage.patent_set), ("list", cli_operator.patent_list),
                  ("remove", cli_operator.patent_remove)]),
    (calendar_app, [("load", cli_storage.calendar_load), ("list", cli_storage.calendar_list)]),
    (import_app, [("enterprises", cli_import.import_enterprises), ("patents", cli_import.import_patents),
                  ("payments", cli_import.import_payments), ("log", cli_import.import_log)]),
    (remind_app, [("plan", cli_remind.remind_plan), ("list", cli_remind.remind_list),
                  ("send", cli_remind.remind_send), ("preview", cli_remind.remind_preview)]),
    (status_app, [("sync", cli_sync.status_sync), ("ops-usage", cli_status.status_ops_usage),
                  ("confirm", cli_status.status_confirm), ("review", cli_status.status_review)]),
    (report_app, [("due", cli_reports.report_due), ("grace", cli_reports.report_grace),
                  ("lapsed", cli_reports.report_lapsed), ("forecast", cli_reports.report_forecast),
                  ("enterprise", cli_reports.report_enterprise), ("deliveries", cli_reports.report_deliveries),
                  ("kpi", cli_reports.report_kpi)]),
    (enterprise_app, [("set", cli_operator.enterprise_set), ("list", cli_operator.enterprise_list),
                      ("end", cli_operator.enterprise_end), ("show", cli_operator.enterprise_show)]),
    (contact_app, [("set", cli_operator.contact_set), ("list", cli_operator.contact_list)]),
    (statement_app, [("write", cli_statement.statement_write), ("send", cli_statement.statement_send)]),
]
for _group, _commands in COMMANDS:
    for _name, _function in _commands:
        _group.command(_name, cls=HelpCommand)(_function)


# ---------------------------------------------------------------------------------------------- entry point


def _log_unexpected(exc: BaseException, config_path: str | None) -> str:
    """Where the traceback went, for the operator's one line (never the traceback itself)."""
    from custody.config import DEFAULT_LOG_FILE, load_config
    from custody.masking import mask_text

    try:
        log_file = str(load_config(config_path).log_file)
    except Exception:  # noqa: BLE001 - the config itself may be what failed
        log_file = DEFAULT_LOG_FILE
    try:
        with open(log_file, "a", encoding="utf-8") as fh:
            fh.write(mask_text("".join(traceback.format_exception(exc))) + "\n")
    except OSError as error:
        from custody.table_errors import os_problem

        return tr("nowhere: the log file {log_file} cannot be written ({reason})", log_file=log_file,
                  reason=os_problem(error))
    return log_file


EXAMPLE = "\n\nExample:"


def command() -> Any:
    """The app as a (click) command whose every help ends with its example: the closing "Example:" paragraph of each
    help text moves below the options (sqlite-utils' habit), so it is the last thing `--help` prints."""
    root = typer.main.get_command(app)
    for each in commands_of(root):
        if each.help and EXAMPLE in each.help:
            each.help, example = each.help.rsplit(EXAMPLE, 1)
            each.epilog = "Example:" + example
    return root


def commands_of(group: Any) -> Iterator[Any]:
    """`group` and every command below it."""
    yield group
    for sub in getattr(group, "commands", {}).values():
        yield from commands_of(sub)


def run(argv: Iterable[str] | None = None) -> int:
    """Run the app and turn every outcome into an exit code; used by `main` and by the tests."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or "--help" in args:  # `custody --help` is formatted before the root callback reads the language
        set_language(help_language(_config_arg(args)))
    try:
        # Not standalone: click's own errors come back here, to be one `Error:` line like ours.
        result = command()(args=args, prog_name="custody", standalone_mode=False)
        return result if isinstance(result, int) and not isinstance(result, bool) else 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except typer.TyperException as exc:  # click's own errors (typer carries its own click)
        from custody.masking import redacted

        if type(exc).__name__ == "NoArgsIsHelpError":  # a group called bare: its help, as before
            exc.show()
        else:
            say_error(redacted(_click_message(exc)))
        return exc.exit_code
    except typer.Abort:
        say_error(tr("aborted"))
        return 1
    except config_errors() as exc:
        from custody.masking import redacted

        say_error(redacted(str(exc)))
        return 2
    except known_errors() as exc:
        from custody.masking import redacted

        say_error(redacted(str(exc)))
        return 1
    except Exception as exc:  # noqa: BLE001 - the operator must never see a traceback
        log_file = _log_unexpected(exc, _config_arg(args))
        say_error(tr("unexpected failure ({kind}); details in {log_file}", kind=type(exc).__name__,
                     log_file=log_file))
        return 1


def _click_message(exc: typer.TyperException) -> str:
    """click's message on one line, with where to read the usage when it is a usage error."""
    from cli_messages import click_message  # click's words in the configured language
    from custody.i18n import tr

    message = click_message(" ".join(exc.format_message().split()))
    ctx = getattr(exc, "ctx", None)
    return tr("{message} (see `{command} --help`)", message=message, command=ctx.command_path) if ctx is not None \
        else message


def _config_arg(args: list[str]) -> str | None:
    for i, arg in enumerate(args):
        if arg == "--config" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
    return None


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()

