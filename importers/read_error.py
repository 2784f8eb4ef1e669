"""The error of an import file that cannot be read at all, apart from importers.readers so that the workbook
checks it runs (importers.workbook_guard) can raise it without importing the reader: one-way imports."""
from __future__ import annotations


class ReadError(Exception):
    """The file cannot be read at all; carries a message code and parameters (see importers.messages)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params
