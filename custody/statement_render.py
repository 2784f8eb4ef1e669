"""The enterprise statement's document (custody.statement.layout) as a PDF for A4 or as an XLSX workbook.

The PDF is set with reportlab's platypus in the CID font STSong-Light, which every PDF reader carries for Chinese
(no font file is embedded or downloaded); long tables repeat their heading row on each page, and each page says
its number and the statement's day. Both writers return bytes: the CLI writes them to a file, the dispatch
attaches them to an email.
"""
from __future__ import annotations

import io
from decimal import Decimal
from functools import cache

from custody.statement import Document, Table

FONT = "STSong-Light"
PDF_TYPE = "application/pdf"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"pdf": PDF_TYPE, "xlsx": XLSX_TYPE}


@cache
def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _styles():
    from reportlab.lib.styles import ParagraphStyle

    font = _font()
    return {"title": ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=6),
            "heading": ParagraphStyle("heading", fontName=font, fontSize=11.5, leading=16, spaceBefore=10,
                                      spaceAfter=4),
            "text": ParagraphStyle("text", fontName=font, fontSize=9, leading=13),
            "cell": ParagraphStyle("cell", fontName=font, fontSize=7.5, leading=9.5, wordWrap="CJK"),
            "number": ParagraphStyle("number", fontName=font, fontSize=7.5, leading=9.5, alignment=2)}


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _flowables(table: Table, styles, width: float) -> list:
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Spacer
    from reportlab.platypus import Table as PdfTable

    out = [Paragraph(_escaped(table.title), styles["heading"])]
    if not table.rows:
        return [*out, Paragraph(_escaped(table.empty), styles["text"])]

    def para(text: str, i: int):
        return Paragraph(_escaped(text), styles["number" if i in table.numeric else "cell"])

    data = [[para(h, -1) for h in table.headings],
            *([para(c, i) for i, c in enumerate(row)] for row in table.rows)]
    widths = _widths(table, width)
    grid = PdfTable(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    grid.setStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                   ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.92, 0.96)),
                   ("VALIGN", (0, 0), (-1, -1), "TOP"),
                   ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2)])
    return [*out, grid, Spacer(1, 4)]


def _widths(table: Table, width: float) -> list[float]:
    """Columns sized by their longest text (a CJK character counts twice), the title column taking the rest."""
    def size(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    wanted = [max([min(size(h), 10)] + [size(r[i]) for r in table.rows]) + 1 for i, h in enumerate(table.headings)]
    wanted = [min(w, 40) for w in wanted]
    total = sum(wanted)
    return [width * w / total for w in wanted]


def pdf_bytes(document: Document) -> bytes:
    """The statement as an A4 PDF."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    styles, buffer = _styles(), io.BytesIO()
    margin = 14 * mm
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=margin,
                            bottomMargin=18 * mm, title=document.title, author=document.header[-1])
    width = A4[0] - 2 * margin
    story = [Paragraph(_escaped(document.title), styles["title"]),
             *(Paragraph(_escaped(line), styles["text"]) for line in document.header)]
    for table in (document.summary, *document.tables):
        story += _flowables(table, styles, width)
    if document.notes:
        story += [Paragraph(_escaped(note), styles["text"]) for note in document.notes]

    def footer(canvas, _doc) -> None:
        canvas.saveState()
        canvas.setFont(_font(), 8)
        text = f"{document.header[1]}    {document.footer.format(page=canvas.getPageNumber())}"
        canvas.drawCentredString(A4[0] / 2, 10 * mm, text)
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def xlsx_bytes(document: Document) -> bytes:
    """The statement as a workbook: a summary sheet (with the header and notes) and one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    first = book.active
    first.title = document.summary.sheet[:31]
    first.append([document.title])
    first["A1"].font = Font(bold=True, size=14)
    for line in document.header:
        first.append([line])
    first.append([])
    _sheet_rows(first, document.summary, Font, Alignment)
    for note in document.notes:
        first.append([note])
    for table in document.tables:
        sheet = book.create_sheet(table.sheet[:31])
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        if table.rows:
            _sheet_rows(sheet, table, Font, Alignment)
        else:
            sheet.append([table.empty])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet_rows(sheet, table: Table, font, alignment) -> None:
    sheet.append(list(table.headings))
    for cell in sheet[sheet.max_row]:
        cell.font = font(bold=True)
    for row in table.rows:
        sheet.append([_number(text) if i in table.numeric else text for i, text in enumerate(row)])
        for i in table.numeric:
            cell = sheet.cell(sheet.max_row, i + 1)
            cell.alignment = alignment(horizontal="right")
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
    for i, heading in enumerate(table.headings):
        longest = max([len(heading), *(len(r[i]) for r in table.rows)])
        sheet.column_dimensions[sheet.cell(1, i + 1).column_letter].width = min(max(10, longest * 1.6), 60)


def _number(text: str) -> int | Decimal | str:
    """A numeric cell as a number a spreadsheet can add up (amounts keep their fen); other text as it is."""
    plain = text.replace(",", "")
    if plain.isdigit():
        return int(plain)
    try:
        return Decimal(plain) if "." in plain else text
    except ArithmeticError:
        return text


def document_bytes(document: Document, fmt: str) -> bytes:
    """The document in `fmt` ("pdf" or "xlsx")."""
    if fmt == "pdf":
        return pdf_bytes(document)
    if fmt == "xlsx":
        return xlsx_bytes(document)
    raise ValueError(f"unknown statement format {fmt!r}: pdf or xlsx")
