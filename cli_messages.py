"""click's own usage errors ("No such option: --x", "Missing argument 'appno'.") in the operator's language.

click (vendored by typer, typer/_click) writes its messages in English from fixed templates. `CLICK_MESSAGES`
lists those templates as click words them, with each variable part named: they are the msgids, and their
translations are the catalogue's (custody/locale/zh/errors.toml), like every other message. A message is matched
against each template in turn; the first that matches is filled in with the same parts, in the language. A part
that is itself a message (the reason of "Invalid value for '--format': …") is translated the same way; a message no
template matches (a reason our own code wrote) is shown as it is.
"""
from __future__ import annotations

import re
from functools import cache

from custody.i18n import current_language, tr

# Templates from typer/_click (exceptions.py, parser.py, core.py), typer/core.py and typer/_param_types.py, and the
# pydantic messages typer passes on for a value it cannot convert. More specific templates come first.
CLICK_MESSAGES = (
    "No such option: {option} (Possible options: {options})",
    "No such option: {option}",
    "No such command {name}. Did you mean {suggestion}?",
    "No such command {name}.",
    "Missing command.",
    "Option {option} requires an argument.",
    "Option {option} requires {n} arguments.",
    "Option {option} does not take a value.",
    "Missing argument {name}.",
    "Missing option {name}.",
    "Missing parameter: {name}",
    "Got unexpected extra argument(s) ({arguments})",
    "Got unexpected extra argument ({arguments})",
    "Argument {name} takes {n} values.",
    "Invalid value for {name}: {reason}",
    "Invalid value: {reason}",
    "Value error, {value} is not one of {choices}.",
    "{value} is not one of {choices}.",
    "Value {value} is not a valid {kind}.",
    "Input should be a valid integer, unable to parse string as an integer",
    "Input should be a valid number, unable to parse string as a number",
    "Input should be a valid integer",
    "Input should be a valid number",
    "Input should be greater than or equal to {bound}",
    "Input should be less than or equal to {bound}",
    "Input should be greater than {bound}",
    "Input should be less than {bound}",
)
# Parts that are messages themselves: translated in turn.
_NESTED = frozenset({"reason"})


@cache
def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    return re.compile(regex, re.DOTALL)


def click_message(message: str, language: str | None = None) -> str:
    """`message` (one of click's) in the language; English, or a message no template matches, as it is."""
    language = language or current_language()
    if language == "en":
        return message
    for template in CLICK_MESSAGES:
        found = _pattern(template).fullmatch(message)
        if found:
            fields = {name: click_message(value, language) if name in _NESTED else value
                      for name, value in found.groupdict().items()}
            return tr(template, language, **fields)
    return message
