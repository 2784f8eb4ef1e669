"""Writing a report as it is produced: CSV, JSON and the terminal table a block of rows at a time, XLSX through
openpyxl's write-only workbook. The cells say exactly what custody.export says for a scalar `Report` (text_value,
json_value, the formula neutralisation); they are formed a column at a time (custody.report_columns), so a report
of hundreds of thousands of rows neither builds a dict per row nor holds its whole text in memory.

A terminal table of at most TABLE_ROWS rows is drawn by rich as before; a longer one is printed as plain aligned
columns (rich takes minutes for a few thousand rows and would wrap them to nothing at 80 columns).
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from json.encoder import encode_basestring
from operator import itemgetter
from typing import IO, Any

import numpy as np

from custody.domain import PROVISIONAL_MARK, ProvisionalDate
from custody.export import (
    MAX_WIDTH,
    MIN_WIDTH,
    NUMBER_FORMATS,
    PROVISIONAL_DATE_FORMAT,
    display_width,
    is_formula_like,
    json_value,
    neutralised,
    text_value,
)
from custody.i18n import cell_label, tr
from custody.report_columns import Column, Days, Fen, Ints, Objects, Rows, Steps
from custody.report_engine import TableReport
from custody.reports import Column as Heading

BLOCK = 5_000
STARTS = frozenset("=+-@\t\r\n")
TABLE_ROWS = 500


# ---------------------------------------------------------------------------------------------- cell texts


def _fen_text(fen: np.ndarray) -> np.ndarray:
    magnitude = np.abs(fen)
    whole = (magnitude // 100).astype(str)
    cents = np.strings.zfill((magnitude % 100).astype(str), 2)
    text = np.strings.add(np.strings.add(whole, "."), cents).astype(object)
    text[fen < 0] = "-" + text[fen < 0]
    return text


def texts(column: Column, heading: Heading) -> np.ndarray:
    """The column's cells as text_value gives them (object array of str); an enumerated value (a heading with a
    domain) in the language's words (custody.i18n), worked out once per distinct value."""
    text = _texts(column, heading)
    return _labelled(text, heading.domain) if heading.domain else text


def _labelled(text: np.ndarray, domain: str) -> np.ndarray:
    cells = text.tolist()
    words = {value: cell_label(domain, value) for value in set(cells)}
    out = np.empty(len(cells), object)
    out[:] = list(map(words.__getitem__, cells))
    return out


def _texts(column: Column, heading: Heading) -> np.ndarray:
    if isinstance(column, Days):
        text = column.iso()
        text[column.provisional()] += PROVISIONAL_MARK
        text[~column.present()] = ""
        return text
    if isinstance(column, Fen) and heading.kind == "money":
        return np.where(column.present, _fen_text(column.fen), "").astype(object)
    if isinstance(column, Ints):
        return np.where(column.present, column.ints.astype(str), "").astype(object)
    if isinstance(column, Steps):
        return _by_value(column, lambda v: text_value(v, heading))
    values = column.values()
    kinds, out = set(map(type, values)), np.empty(len(values), object)
    if kinds <= {str}:
        out[:] = values
    elif kinds <= {str, type(None)}:  # text and empty cells (text_value(None) is "")
        out[:] = [v if v is not None else "" for v in values]
    else:
        out[:] = [v if type(v) is str else text_value(v, heading) for v in values]
    return out


def _by_value(column: Column, convert: Callable[[Any], Any]) -> np.ndarray:
    """Each cell converted, once per distinct value (rates: a handful)."""
    cache: dict[Any, Any] = {}
    values = column.values()
    out = np.empty(len(values), object)
    for i, value in enumerate(values):
        key = (type(value), value)
        if key not in cache:
            cache[key] = convert(value)
        out[i] = cache[key]
    return out


def csv_texts(column: Column, heading: Heading) -> np.ndarray:
    """texts(), with text from data neutralised (only text can carry a formula; our numbers are left alone)."""
    text = texts(column, heading)
    if isinstance(column, Objects):
        # Only a text whose first character is a blank, a control or a formula start can be formula-like: the
        # first characters of a column are a handful, so most columns need no look at each cell.
        firsts = set(map(_first, text.tolist()))
        if any(f in STARTS or f.isspace() for f in firsts):
            values = column.objects
            for i in np.flatnonzero([type(v) is str and (v[:1] in STARTS or v[:1].isspace()) for v in values]):
                text[i] = neutralised(text[i])
    return text


_first = itemgetter(slice(0, 1))


def json_texts(column: Column) -> np.ndarray:
    """Each cell as JSON text of json_value (dates ISO, whole yuan as integers)."""
    if isinstance(column, Days):
        return np.where(column.present(), '"' + column.iso() + '"', "null").astype(object)
    if isinstance(column, Fen):
        whole = column.fen % 100 == 0
        text = np.where(whole, (column.fen // 100).astype(str), (column.fen / 100).astype(str))
        return np.where(column.present, text, "null").astype(object)
    if isinstance(column, Ints):
        return np.where(column.present, column.ints.astype(str), "null").astype(object)
    if isinstance(column, Steps):
        return _by_value(column, _json_text)
    values = column.values()
    out = np.empty(len(values), object)
    kinds = set(map(type, values))
    if kinds <= {str}:
        out[:] = list(map(encode_basestring, values))
    elif kinds <= {str, type(None)}:  # text and empty cells: what json.dumps gives a str, without an encoder each
        out[:] = [encode_basestring(v) if v is not None else "null" for v in values]
    else:
        out[:] = list(map(_json_text, values))
    return out


def _json_text(value: Any) -> str:
    if value is None:
        return "null"
    if value.__class__ is str:
        return encode_basestring(value)  # json.dumps(value, ensure_ascii=False), minus building an encoder
    return json.dumps(json_value(value), ensure_ascii=False)


def _blocks(rows: Rows) -> Iterator[Rows]:
    for start in range(0, len(rows), BLOCK):
        yield rows.take(np.arange(start, min(start + BLOCK, len(rows))))


# ---------------------------------------------------------------------------------------------- CSV, JSON


def write_csv(report: TableReport, out: IO[str], language: str) -> None:
    """The report as CSV (headings in `language`), CRLF line ends; the caller opens the file (BOM for Excel)."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralised(c.heading(language)) for c in report.columns])
    for block in _blocks(report.rows):
        writer.writerows(zip(*(csv_texts(block.columns[c.key], c) for c in report.columns), strict=True))


def write_json(report: TableReport, out: IO[str]) -> None:
    """{"report", "title", "rows", "notes"}, laid out as json.dumps(indent=2) lays it out, written row by row."""
    whole = {"report": report.name, "title": report.title, "rows": [0] if len(report.rows) else [],
             "notes": list(report.notes)}
    text = json.dumps(whole, ensure_ascii=False, indent=2)
    if not len(report.rows):
        out.write(text + "\n")
        return
    head, tail = text.split("\n    0\n", 1)
    out.write(head + "\n")
    keys = [f'      {json.dumps(c.key, ensure_ascii=False)}: ' for c in report.columns]
    first = True
    for block in _blocks(report.rows):
        # Each column's cells with their key in front, then one text per row and one write per block.
        cells = [key + json_texts(block.columns[c.key]) for key, c in zip(keys, report.columns, strict=True)]
        marks = _provisional_lists(block, report.columns)
        items = ["    {\n" + ",\n".join(values) + ',\n      "provisional_dates": ' + mark + "\n    }"
                 for *values, mark in zip(*cells, marks, strict=True)]
        out.write(("" if first else ",\n") + ",\n".join(items))
        first = False
    out.write("\n" + tail + "\n")


def _provisional_lists(block: Rows, headings: tuple[Heading, ...]) -> list[str]:
    flags = [(c.key, block.columns[c.key].provisional()) for c in headings]
    marked = [(key, flag) for key, flag in flags if flag.any()]
    lists = []
    for i in range(len(block)):
        keys = [key for key, flag in marked if flag[i]]
        lists.append("[]" if not keys else "[\n" + ",\n".join(f'        "{k}"' for k in keys) + "\n      ]")
    return lists


# ---------------------------------------------------------------------------------------------- terminal table


def table_rows(report: TableReport) -> list[dict[str, str]]:
    """Every row as texts (for rich, which needs them all: small reports only)."""
    cells = {c.key: texts(report.rows.columns[c.key], c) for c in report.columns}
    return [{c.key: cells[c.key][i] for c in report.columns} for i in range(len(report.rows))]


def write_plain_table(report: TableReport, out: IO[str], language: str, width: int | None = None) -> None:
    """Aligned columns, one line a row, for a report too long for rich: widths from every row, never cut. Fitted to
    `width` (the terminal's by default) as rich tables are: text columns are left out, empty ones first, then from
    the right, and said so below the title; amounts, dates and numbers are always shown whole."""
    headings = [c.heading(language) for c in report.columns]
    cell_widths = [_widest(texts(report.rows.columns[c.key], c), MAX_WIDTH * 4) for c in report.columns]
    widths = [max(display_width(h), w) for h, w in zip(headings, cell_widths, strict=True)]
    shown = _fitting(report.columns, widths, cell_widths, _terminal_width() if width is None else width)
    out.write(report.title + "\n")
    left_out = [h for i, h in enumerate(headings) if i not in shown]
    if left_out:
        out.write(tr("(left out to fit the terminal: {columns}; --format csv has every column)", language,
                     columns=_LIST_SEPARATOR.get(language, ", ").join(left_out)) + "\n")
    columns = [report.columns[i] for i in shown]
    headings, widths = [headings[i] for i in shown], [widths[i] for i in shown]
    out.write(_line(headings, widths) + "\n")
    out.write(_line(["-" * w for w in widths], widths) + "\n")
    for block in _blocks(report.rows):
        cells = [texts(block.columns[c.key], c) for c in columns]
        out.write("".join(_line(row, widths) + "\n" for row in zip(*cells, strict=True)))


_LIST_SEPARATOR = {"zh": "、"}
_DEFAULT_WIDTH = 80  # as cli_render.terminal_width: $COLUMNS, else the terminal's width, else 80


def _terminal_width() -> int:
    import os
    import shutil

    given = os.environ.get("COLUMNS", "").strip()
    return int(given) if given.isdigit() and int(given) > 0 else shutil.get_terminal_size((_DEFAULT_WIDTH, 24)).columns


def _fitting(columns: tuple[Heading, ...], widths: list[int], cell_widths: list[int], width: int) -> list[int]:
    """The indexes of the columns shown in `width` characters: text columns leave (empty ones first, then from the
    right, the first one last); a column of amounts, dates or numbers never does, even when the line stays wider."""
    shown = list(range(len(columns)))
    text_columns = [i for i, c in enumerate(columns) if c.kind == "text"]
    empty = [i for i in reversed(text_columns) if not cell_widths[i]]
    order = empty + [i for i in reversed(text_columns[1:]) if i not in empty] + \
        [i for i in text_columns[:1] if i not in empty]
    while order and sum(widths[i] for i in shown) + 2 * (len(shown) - 1) > width:
        shown.remove(order.pop(0))
    return shown


def _line(cells, widths) -> str:
    return "  ".join(text + " " * (width - _width(text)) for text, width in zip(cells, widths, strict=True)).rstrip()


def _width(text: str) -> int:
    return len(text) if text.isascii() else display_width(text)


def _widest(text: np.ndarray, cap: int) -> int:
    """The largest display width among the texts (at most `cap`), measuring as few as it can: a text's display width
    is at least its length and at most twice it."""
    if not len(text):
        return 0
    lengths = np.fromiter((len(t) for t in text), np.int64, len(text))
    best = 0
    for i in np.argsort(-lengths, kind="stable"):
        if 2 * lengths[i] <= best or best >= cap:
            break
        best = max(best, _width(text[i]))
    return min(best, cap)


# ---------------------------------------------------------------------------------------------- XLSX


def write_xlsx(report: TableReport, path, language: str) -> None:
    """The report in a write-only workbook: frozen, filtered header, fitted widths, typed cells, chart, notes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(report.name[:31])
    columns = report.columns
    for col, column in enumerate(columns, start=1):
        width = max(display_width(column.heading(language)),
                    _widest(texts(report.rows.columns[column.key], column), MAX_WIDTH)) + 2
        sheet.column_dimensions[get_column_letter(col)].width = min(max(width, MIN_WIDTH), MAX_WIDTH)
    sheet.freeze_panes = "A2"
    if len(report.rows):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(report.rows) + 1}"
    bold = Font(bold=True)
    sheet.append([_text_cell(sheet, c.heading(language), bold) for c in columns])
    fast = _xml_ready(report)
    if not fast:
        for block in _blocks(report.rows):
            cells = [_xlsx_cells(sheet, block.columns[c.key], c) for c in columns]
            for row in zip(*cells, strict=True):
                sheet.append(row)
    styles = _Styles(sheet)
    if fast:  # every style the rows use, registered before the workbook is written
        for heading in columns:
            styles.prepare(heading)
    if report.chart is not None and len(report.rows):
        _add_chart(sheet, report)
    about = book.create_sheet("说明" if language == "zh" else "About")
    lines = [report.title, *report.notes]
    about.column_dimensions["A"].width = min(max((display_width(t) for t in lines), default=10) + 2, 120)
    for line in lines:
        about.append([_text_cell(about, line)])
    book.save(path)
    if fast and len(report.rows):
        _insert_rows(path, report, styles)


# The data rows of a large sheet are written as the sheet's XML text directly: openpyxl builds an object and an XML
# element per cell (about 20 µs each, minutes for a million-row report). The cells are those openpyxl writes for
# _xlsx_cells' values: inline strings (quote-prefixed when formula-like), booleans, error codes, and numbers and
# dates (Excel serials) with their number format's style; the workbook around them (widths, panes, filter, chart,
# styles, the About sheet) is still openpyxl's. tests/test_reports_export.py reads them back cell by cell.
XML_TYPES = frozenset({str, type(None), bool, int, float, Decimal, date, ProvisionalDate})
EXCEL_EPOCH = date(1899, 12, 30).toordinal()
ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
DATA_SHEET = "xl/worksheets/sheet1.xml"


def _xml_ready(report: TableReport) -> bool:
    """Whether every cell is of a kind the XML writer forms itself (else openpyxl writes them all)."""
    for heading in report.columns:
        column = report.rows.columns[heading.key]
        if isinstance(column, Objects) and not heading.domain and not set(map(type, column.objects.tolist())) \
                <= XML_TYPES:
            return False
    return True


class _Styles:
    """The workbook's style id of each number format the rows use, and of quote-prefixed text."""

    def __init__(self, sheet: Any) -> None:
        self.sheet = sheet
        self.ids: dict[str, int] = {}

    def prepare(self, heading: Heading) -> None:
        for fmt in (NUMBER_FORMATS["date"], PROVISIONAL_DATE_FORMAT, NUMBER_FORMATS.get(heading.kind, "General")):
            self.number(fmt)
        self.quoted()

    def number(self, fmt: str) -> int:
        if fmt not in self.ids:
            self.ids[fmt] = _styled(self.sheet, 0, fmt).style_id
        return self.ids[fmt]

    def quoted(self) -> int:
        if "'" not in self.ids:
            self.ids["'"] = _text_cell(self.sheet, "=").style_id
        return self.ids["'"]


def _insert_rows(path: Any, report: TableReport, styles: _Styles) -> None:
    """Put the data rows into the saved workbook's first sheet (after its heading row)."""
    import os
    import zipfile

    from openpyxl.utils import get_column_letter

    letters = [get_column_letter(n) for n in range(1, len(report.columns) + 1)]
    temporary = f"{path}.partial"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != DATA_SHEET:
                target.writestr(item, source.read(item.filename))
                continue
            text = source.read(item.filename).decode("utf-8")
            head, tail = text.split("</sheetData>", 1)
            with target.open(DATA_SHEET, "w", force_zip64=True) as out:
                out.write(head.encode("utf-8"))
                row = 2
                for block in _blocks(report.rows):
                    cells = [_xml_cells(block.columns[c.key], c, letter, row, styles)
                             for c, letter in zip(report.columns, letters, strict=True)]
                    out.write("".join(f'<row r="{row + n}">{"".join(line)}</row>'
                                      for n, line in enumerate(zip(*cells, strict=True))).encode("utf-8"))
                    row += len(block)
                out.write(("</sheetData>" + tail).encode("utf-8"))
    os.replace(temporary, path)


def _xml_cells(column: Column, heading: Heading, letter: str, first_row: int, styles: _Styles) -> list[str]:
    """Each cell's <c> element as openpyxl writes the value _xlsx_cells gives it ("" for an empty cell)."""
    from openpyxl.cell.cell import (
        ERROR_CODES,
        ILLEGAL_CHARACTERS_RE,
        IllegalCharacterError,
    )
    from openpyxl.compat.strings import safe_string

    values = column.values()
    if heading.domain:
        values = [None if v is None else cell_label(heading.domain, str(v)) for v in values]
    number_style = styles.number(NUMBER_FORMATS.get(heading.kind, "General"))
    numbers: dict[Any, str] = {}
    out = []
    for n, value in enumerate(values):
        if value is None:
            out.append("")
            continue
        ref, kind = f"{letter}{first_row + n}", value.__class__
        if kind is str:
            text = value[:32767]
            if ILLEGAL_CHARACTERS_RE.search(text):
                raise IllegalCharacterError(f"{text} cannot be used in worksheets.")
            if is_formula_like(text):
                out.append(_string_xml(ref, text, styles.quoted()))
            elif text in ERROR_CODES:
                out.append(f'<c r="{ref}" t="e"><v>{text}</v></c>')
            else:
                out.append(_string_xml(ref, text, 0))
        elif kind is bool:
            out.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
        elif kind is date or kind is ProvisionalDate:
            fmt = PROVISIONAL_DATE_FORMAT if column.provisional is not None and _is_marked(value) \
                else NUMBER_FORMATS["date"]
            out.append(f'<c r="{ref}"{_style(styles.number(fmt))} t="n"><v>{value.toordinal() - EXCEL_EPOCH}</v></c>')
        else:  # int, float, Decimal
            key = (kind, value)
            if key not in numbers:
                numbers[key] = f'{_style(number_style)} t="n"><v>{safe_string(value)}</v></c>'
            out.append(f'<c r="{ref}"' + numbers[key])
    return out


def _style(style_id: int) -> str:
    return f' s="{style_id}"' if style_id else ""


def _string_xml(ref: str, text: str, style_id: int) -> str:
    if not text:
        return f'<c r="{ref}"{_style(style_id)} t="inlineStr"/>'
    stripped = text.strip()
    space = ' xml:space="preserve"' if stripped and stripped != text else ""
    return f'<c r="{ref}"{_style(style_id)} t="inlineStr"><is><t{space}>{text.translate(ESCAPES)}</t></is></c>'


def _text_cell(sheet: Any, text: str, font: Any = None) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, text)
    if is_formula_like(text):
        cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
        cell.quotePrefix = True
    if font is not None:
        cell.font = font
    return cell


def _styled(sheet: Any, value: Any, number_format: str) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value)
    cell.number_format = number_format
    return cell


def _xlsx_cells(sheet: Any, column: Column, heading: Heading) -> list[Any]:
    """Cells as custody.export._write_cell writes them: text quoted when formula-like, numbers and dates typed."""
    values = column.values()
    if heading.domain:  # an enumerated value: its word, as in every other format
        values = [None if v is None else cell_label(heading.domain, str(v)) for v in values]
    out: list[Any] = []
    for value in values:
        if value is None:
            out.append(None)
        elif isinstance(value, str):
            out.append(_text_cell(sheet, value) if is_formula_like(value) else value)
        elif isinstance(value, bool):
            out.append(value)
        elif isinstance(value, date):
            fmt = PROVISIONAL_DATE_FORMAT if column.provisional is not None and _is_marked(value) \
                else NUMBER_FORMATS["date"]
            out.append(_styled(sheet, value, fmt))
        elif isinstance(value, (Decimal, int, float)):
            out.append(_styled(sheet, value, NUMBER_FORMATS.get(heading.kind, "General")))
        else:
            out.append(value)
    return out


def _is_marked(value: date) -> bool:
    from custody.domain import is_provisional_date

    return is_provisional_date(value)


def _add_chart(sheet: Any, report: TableReport) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.utils import get_column_letter

    spec = report.chart
    assert spec is not None  # called only for a report with a chart
    keys = [c.key for c in report.columns]
    title_col = keys.index(spec.title_key) + 1
    first, last = keys.index(spec.value_keys[0]) + 1, keys.index(spec.value_keys[-1]) + 1
    chart = BarChart()
    chart.type, chart.grouping = "col", "clustered"
    chart.title, chart.y_axis.title = spec.title, tr("yuan")
    # One series per row; openpyxl names a series after the cell just left of its values (the enterprise).
    titled = title_col == first - 1
    data = Reference(sheet, min_col=title_col if titled else first, max_col=last, min_row=2,
                     max_row=1 + spec.series_rows)
    chart.add_data(data, from_rows=True, titles_from_data=titled)
    chart.set_categories(Reference(sheet, min_col=first, max_col=last, min_row=1, max_row=1))
    chart.width, chart.height = 24, 12
    sheet.add_chart(chart, f"{get_column_letter(len(keys) + 2)}2")
