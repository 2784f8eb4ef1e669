"""README and docs/ stay true: the operator's tour in README runs, command by command, on a fresh database with
the demo's configuration and sample files; every `custody X Y` the documentation names exists; every file in
docs/ is reachable from README."""
from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = sorted((ROOT / "docs").glob("*.md"))
TOUR_TITLE = "## An operator's day in ten minutes"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXPECTED_EXIT = re.compile(r"#.*\bexit (\d)\b")
# `custody WORD [WORD]` as a command, not `patent-custody`, `custody/rules` or `mail -s custody ops@example.com`
NAMED = re.compile(r"(?:^|(?<=[\s/(]))custody ([a-z][a-z-]*)(?![\w@])(?: ([a-z][a-z-]*)(?![\w@]))?", re.MULTILINE)


def _tour() -> str:
    start = README.index(TOUR_TITLE)
    end = README.index("\n## ", start + len(TOUR_TITLE))
    return README[start:end]


def _shell_lines(text: str) -> list[str]:
    """The lines of the text's ```sh and ```console blocks, a backslash-continued line joined to the next."""
    lines: list[str] = []
    for lang, body in FENCE.findall(text):
        if lang in {"sh", "console"}:
            lines += body.replace("\\\n", " ").splitlines()
    return [line.removeprefix("$ ").strip() for line in lines]


def tour_commands() -> list[tuple[list[str], int]]:
    """Each `custody ...` line of the tour, in order: its arguments and the exit code it documents (a comment
    saying `exit N`, else 0)."""
    found = []
    for line in _shell_lines(_tour()):
        if line.startswith("custody "):
            expected = EXPECTED_EXIT.search(line)
            found.append((shlex.split(line, comments=True)[1:], int(expected.group(1)) if expected else 0))
    return found


def test_the_tour_is_found() -> None:
    commands = [" ".join(args[:2]) for args, _ in tour_commands()]
    for shown in ("import patents", "health", "remind plan", "run-once", "status sync", "report kpi",
                  "statement send"):
        assert any(c.startswith(shown) for c in commands), shown


def test_the_tour_runs_on_the_demo_configuration(tmp_path, monkeypatch, capsys) -> None:
    # The tour's own set-up line is the one this test reproduces: the demo's configuration, from the checkout.
    assert "export CUSTODY_CONFIG=examples/demo.toml" in _tour()
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "demo-data").mkdir()  # `make demo` leaves it; the demo's log file and database go there
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CUSTODY_CONFIG", "examples/demo.toml")
    monkeypatch.setenv("COLUMNS", "80")
    for name in ("CUSTODY_DATABASE_URL", "CUSTODY_OPS_KEY", "CUSTODY_OPS_SECRET"):
        monkeypatch.delenv(name, raising=False)
    wrong = []
    for args, expected in tour_commands():
        code = cli.run(args)
        out = capsys.readouterr()
        if code != expected:
            wrong.append(f"custody {shlex.join(args)}: exit {code}, README says {expected}\n{out.out}{out.err}")
        assert "Traceback" not in out.out + out.err
    assert wrong == []
    assert (tmp_path / "demo-data" / "forecast.xlsx").exists()
    assert (tmp_path / "demo-data" / "statement.pdf").exists()


def _command_tree():
    return cli.command()


def _named_commands(text: str) -> set[tuple[str, ...]]:
    """Every `custody WORD [WORD]` in the text's code: inline code spans and fenced blocks without their comments
    (prose says "custody" as a word too)."""
    code = [re.sub(r"(?:^|\s)#.*", "", body) for _, body in FENCE.findall(text)]  # comments are prose
    code += re.findall(r"`([^`\n]+)`", FENCE.sub("", text))
    named = set()
    for piece in code:
        for first, second in NAMED.findall(piece):
            named.add((first, second) if second else (first,))
    return named


def _missing(path: tuple[str, ...]) -> str | None:
    top = _command_tree().commands
    if path[0] not in top:
        return path[0]
    sub = getattr(top[path[0]], "commands", None)
    if sub and len(path) > 1 and path[1] not in sub:
        return " ".join(path)
    return None


@pytest.mark.parametrize("doc", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_every_command_the_docs_name_exists(doc) -> None:
    named = _named_commands(doc.read_text(encoding="utf-8"))
    assert sorted(filter(None, map(_missing, named))) == []


def test_the_checker_knows_a_wrong_command() -> None:
    assert {("status", "sync"), ("report", "kpi"), ("daemon",)} <= _named_commands(README)
    assert _missing(("report", "overdue")) == "report overdue"
    assert _missing(("remind", "plan")) is None
    assert _missing(("statement", "send")) is None


# `custody statement CODE --out FILE` is `custody statement write CODE --out FILE` (`custody statement --help`).
SHORTHAND = {("statement",): ("statement", "write")}
SHOWN = re.compile(r"(?:^|(?<=[\s/(]))custody ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)(?![\w@])(.*)", re.MULTILINE)


def _command_and_options(shown: str):
    """The command a shown line runs (as many words as name subcommands) and every option name it takes."""
    command, path = _command_tree(), ()
    for word in shown.split():
        sub = getattr(command, "commands", None)
        if not sub or word not in sub:
            break
        command, path = sub[word], (*path, word)
    if path in SHORTHAND:
        command = _command_tree()
        for word in SHORTHAND[path]:
            command = command.commands[word]
    return command, {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}


def _unknown_options(text: str) -> list[str]:
    code = [re.sub(r"(?:^|\s)#.*", "", body.replace("\\\n", " ")) for _, body in FENCE.findall(text)]
    code += re.findall(r"`([^`\n]+)`", FENCE.sub("", text))
    unknown = []
    for piece in code:
        for shown, rest in SHOWN.findall(piece):
            command, options = _command_and_options(shown)
            if getattr(command, "commands", None):
                continue  # a group named in passing: `custody report` and its --format
            used = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest))
            unknown += [f"custody {shown} {option}" for option in sorted(used - options)]
    return unknown


@pytest.mark.parametrize("doc", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_every_option_a_shown_command_carries_exists(doc) -> None:
    assert _unknown_options(doc.read_text(encoding="utf-8")) == []


def test_the_option_checker_knows_a_wrong_option() -> None:
    assert _unknown_options("```sh\ncustody report due --within 90d --soon\n```\n") == ["custody report due --soon"]
    assert _unknown_options("`custody statement 9135 --as-of 2026-12-01 --out s.pdf`") == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_docs_file_is_linked_from_readme(doc) -> None:
    assert f"(docs/{doc.name}" in README


def test_every_link_into_docs_points_at_a_file() -> None:
    texts = [("README.md", README, "")] + [(d.name, d.read_text(encoding="utf-8"), "docs/") for d in DOCS]
    broken = []
    for name, text, base in texts:
        for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", text):
            if not (ROOT / base / target).exists():
                broken.append(f"{name}: {target}")
    assert broken == []
