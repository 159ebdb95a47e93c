"""Rows of nominations in and out of CSV and XLSX files (no Flask)."""
import csv
import io
import zipfile

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

MAX_ROWS = 10_000


class TableError(Exception):
    """The file cannot be read as a table."""


def read_table(data, filename):
    """(header, rows) of a CSV (UTF-8, with or without BOM) or XLSX file; rows are lists of str."""
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        rows = _read_xlsx(data)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise TableError("not UTF-8 text") from error
        rows = [row for row in csv.reader(io.StringIO(text))]
    rows = [[("" if cell is None else str(cell)).strip() for cell in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        raise TableError("empty")
    if len(rows) - 1 > MAX_ROWS:
        raise TableError(f"more than {MAX_ROWS} rows")
    return rows[0], rows[1:]


def _read_xlsx(data):
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise TableError("not an XLSX workbook") from error
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def write_csv(header, rows):
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe_cell(value) for value in row])
    # A BOM, so that Excel opens the Chinese text as UTF-8.
    return ("\ufeff" + output.getvalue()).encode("utf-8")


def stream_csv(header, rows, chunk=5_000):
    """The CSV of ``rows`` (any iterable: a database read streamed), as encoded pieces of
    ``chunk`` rows each, the header and Excel's BOM first: a file of a million rows is sent
    without being held whole."""
    output = io.StringIO()
    writer = csv.writer(output)
    output.write("\ufeff")
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_safe_cell(value) for value in row])
        if count % chunk == 0:
            yield output.getvalue().encode("utf-8")
            output.seek(0)
            output.truncate()
    yield output.getvalue().encode("utf-8")


def write_xlsx(header, rows, title="entries"):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([_safe_cell(value) for value in row])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _safe_cell(value):
    """Text that a spreadsheet would run as a formula is written as plain text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
