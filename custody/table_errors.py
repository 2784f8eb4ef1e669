"""What is wrong with a data table (custody/rules/*.toml), said to the person who maintains it, in the operator's
language: the file and line, the entry and the field, what is wrong and what to do.

The contact roles, the legal-status vocabulary and the OPS code table are TOML files a maintainer edits; a mistake
in one stops every command that reads it, so the message must lead straight to the line. `TableError` is a
set-up error (the CLI's one `错误：` line, exit 2, never a traceback). Pure: reads the file it is given, nothing else.
"""
from __future__ import annotations

import errno
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from custody.catalogue import tr


@dataclass(frozen=True)
class Text:
    """A message not yet rendered: its English msgid and named fields (a field may be a Text itself).

    custody.explained's Text for the tables: custody.i18n reads the tables' words, so they word their errors with
    the catalogue's `tr` alone (custody.explained imports custody.i18n)."""

    msgid: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def render(self, language: str | None = None) -> str:
        return tr(self.msgid, language, **{k: v.render(language) if isinstance(v, Text) else v
                                            for k, v in self.fields.items()})

    def __str__(self) -> str:
        return self.render()


def tx(msgid: str, /, **fields: Any) -> Text:
    """A message to render when shown (tests/test_zh_errors.py checks each msgid has its Chinese)."""
    return Text(msgid, fields)


class TableError(ValueError):
    """A data table is malformed; the message names the file, the entry and the field, and what to do. `str`
    shows it in the process language; `render` in any."""

    def __init__(self, message: Text) -> None:
        super().__init__(message)
        self.message = message

    def render(self, language: str | None = None) -> str:
        return self.message.render(language)

    def __str__(self) -> str:
        return self.render()


# tomllib's reasons (Python 3.11), in words a maintainer reads; the rest say only where the syntax breaks.
_TOML_REASONS = {
    "Invalid statement": tx("this line is not a key = value pair nor a [table] header"),
    "Cannot overwrite a value": tx("this key is given twice"),
    "Expected '=' after a key in a key/value pair": tx("a key needs = and its value"),
    "Invalid initial character for a key part": tx("a key starts with a character keys cannot start with"),
    "Unclosed array": tx("a list is not closed with ]"),
    "Unclosed inline table": tx("an inline table is not closed with }"),
    "Unterminated string": tx("a text is not closed with its quote"),
    "Invalid value": tx("this value is not text in quotes, a number, a date, true, false nor a list"),
    "Invalid date or datetime": tx("this date does not exist"),
    "Unescaped '\\' in a string": tx("a backslash in a text between double quotes (use single quotes for a pattern)"),
    "Invalid hex value": tx("a \\u escape in a text is not hexadecimal"),
    "Expected ']' at the end of a table declaration": tx("a [table] header is not closed with ]"),
    "Expected ']]' at the end of an array declaration": tx("a [[table]] header is not closed with ]]"),
    "Cannot declare": tx("this [table] is declared twice"),
    "Cannot redefine namespace": tx("this [table] is declared twice"),
    "Duplicate inline table key": tx("this key is given twice"),
    "Found invalid character": tx("a character that cannot be here"),
    "Illegal character '\\n'": tx("a text is not closed with its quote on its line"),
    "Illegal character": tx("a character that cannot be here"),
}
_AT = re.compile(r"^(?P<reason>.*?)(?: \(at line (?P<line>\d+), column (?P<column>\d+)\)| \(at end of document\))?$")


def toml_problem(exc: tomllib.TOMLDecodeError) -> Text:
    """Where the TOML syntax breaks and why, without tomllib's English."""
    found = _AT.match(str(exc))
    reason = found.group("reason") if found else ""
    known = next((words for start, words in _TOML_REASONS.items() if reason.startswith(start)), None)
    why = known or tx("the TOML syntax breaks here")
    if found and found.group("line"):
        return tx("line {line}, column {column}: {why}", line=found.group("line"), column=found.group("column"),
                  why=why)
    return tx("at the end of the file: {why}", why=why)


def os_problem(exc: OSError) -> Text:
    """Why a file could not be read or written, in words (not the system's English)."""
    words = {errno.ENOENT: tx("the file or its folder does not exist"), errno.EACCES: tx("no permission"),
             errno.EPERM: tx("no permission"), errno.EISDIR: tx("it is a folder, not a file"),
             errno.ENOTDIR: tx("a part of the path is a file, not a folder"), errno.ENOSPC: tx("the disk is full"),
             errno.EROFS: tx("the file system is read-only")}
    return words.get(exc.errno or 0) or tx("the system refused (error {code})",
                                           code=errno.errorcode.get(exc.errno or 0, exc.errno))


@dataclass(frozen=True)
class TableFile:
    """A table file as read: its name for messages and its text, for the line of each entry."""

    path: str
    text: str = ""

    def line_of(self, table: str, index: int) -> int | None:
        """The line of the `index`-th (from 0) `[[table]]` header, when the text is known."""
        header = re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]")
        lines = [n for n, line in enumerate(self.text.splitlines(), 1) if header.match(line)]
        return lines[index] if index < len(lines) else None

    def where(self, table: str, index: int) -> str:
        line = self.line_of(table, index)
        return f"{self.path}:{line}" if line else self.path

    def error(self, problem: Any, kind: type[TableError] = TableError) -> TableError:
        """The whole file's problem."""
        return kind(tx("{file}: {problem}", file=self.path, problem=problem))

    def entry_error(self, table: str, index: int, raw: Any, key: str, problem: Any,
                    kind: type[TableError] = TableError) -> TableError:
        """The problem of the `index`-th [[table]] entry, named by its `key` (role = …, kind = …, code = …)."""
        name = raw.get(key) if isinstance(raw, dict) else None
        entry = tx("entry {number} of [[{table}]] ({key} = {value})", number=index + 1, table=table, key=key,
                   value=as_written(name)) if isinstance(name, str) and name \
            else tx("entry {number} of [[{table}]]", number=index + 1, table=table)
        return kind(tx("{where}: {entry}: {problem}", where=self.where(table, index), entry=entry, problem=problem))


def read_table(path: Path | str, kind: type[TableError] = TableError) -> tuple[TableFile, dict[str, Any]]:
    """The file's TOML, or a TableError (`kind`) naming the file and what keeps it from being read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise TableFile(str(path)).error(tx("cannot read the table: {why}: check the installation or the path",
                                            why=os_problem(exc)), kind) from None
    except UnicodeDecodeError as exc:
        raise TableFile(str(path)).error(tx("not UTF-8 text (byte {byte}): save the file as UTF-8",
                                            byte=exc.start), kind) from None
    source = TableFile(str(path), text)
    try:
        return source, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise source.error(tx("{problem}: correct the TOML there", problem=toml_problem(exc)), kind) from None


def entries_of(source: TableFile, data: dict[str, Any], table: str,
               kind: type[TableError] = TableError) -> list[dict[str, Any]]:
    """The [[table]] entries of the data, refused when they are not a list of tables."""
    raw = data.get(table, [])
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        raise source.error(tx("{table} is not a list of [[{table}]] entries: write each as a [[{table}]] block",
                              table=table), kind)
    return raw


def as_written(value: Any) -> str:
    """A value as the TOML writes it ("text", true, 10, ["a"]): never Python's True/None."""
    return json.dumps(value, ensure_ascii=False, default=str)


def one_of(values: Sequence[str]) -> str:
    """The values a field may take, as a maintainer writes them in the TOML (quoted)."""
    return ", ".join(as_written(value) for value in values)
