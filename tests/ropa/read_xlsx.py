"""Opens a workbook written by `privet ropa --format xlsx` with openpyxl and prints what a
person opening it would see, as JSON: the sheets, the lines above the table, the header row
and its formatting, the frozen pane, the autofilter, the column widths and every data row.

Usage: python read_xlsx.py FILE.xlsx
"""

import json
import sys

import openpyxl


def main(path):
    book = openpyxl.load_workbook(path)
    sheet = book.active
    header_row = next(
        r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "Controller"
    )
    columns = sheet.max_column
    header = [sheet.cell(header_row, c) for c in range(1, columns + 1)]
    body = [
        [sheet.cell(r, c).value or "" for c in range(1, columns + 1)]
        for r in range(header_row + 1, sheet.max_row + 1)
    ]
    first_body = sheet.cell(header_row + 1, 1) if body else None
    # A <col> element may cover several columns of the same width (min..max).
    widths = {}
    for dim in sheet.column_dimensions.values():
        for c in range(dim.min, dim.max + 1):
            widths[c] = dim.width
    print(
        json.dumps(
            {
                "sheets": book.sheetnames,
                "title": book.properties.title,
                "above": [
                    sheet.cell(r, 1).value
                    for r in range(1, header_row)
                    if sheet.cell(r, 1).value
                ],
                "header_row": header_row,
                "header": [c.value for c in header],
                "header_bold": all(c.font.b for c in header),
                "header_wrap": all(c.alignment.wrap_text for c in header),
                "body_wrap": bool(first_body and first_body.alignment.wrap_text),
                "freeze": sheet.freeze_panes,
                "autofilter": sheet.auto_filter.ref,
                "widths": [widths.get(c) for c in range(1, columns + 1)],
                "rows": body,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
