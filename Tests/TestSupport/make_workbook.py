"""Writes an xlsx workbook with openpyxl, a real spreadsheet writer, for the Excel source tests.

    python3 make_workbook.py OUT.xlsx < description.json

The description: {"sheets": [{"title": "...", "rows": [[cell, ...], ...]}], "date1904": false,
"shared": true}. A cell is null (left empty), a string, a number, or {"date": "2026-11-21"},
{"datetime": "2026-11-21T10:30:00"}, {"bool": true}, {"error": "#N/A"}, {"inline": "text"}.
A row may be {"repeat": N, "row": [...]} for N copies whose first cell gets the copy's number.

openpyxl writes strings inline; Excel and LibreOffice write them to the shared-string table. With
"shared" (the default) the strings are moved there afterwards, as Excel would have written them, with
one rich-text entry split in runs and a phonetic run (which is not part of the value) — except cells
given as {"inline": ...}, which stay inline.
"""

import datetime
import json
import re
import sys
import zipfile
from xml.sax.saxutils import escape

import openpyxl
from openpyxl.utils.datetime import CALENDAR_MAC_1904

INLINE_MARK = "\u2063"  # invisible separator: marks cells that must stay inline strings


def cell_value(cell):
    if isinstance(cell, dict):
        if "date" in cell:
            return datetime.date.fromisoformat(cell["date"]), "yyyy-mm-dd"
        if "datetime" in cell:
            return datetime.datetime.fromisoformat(cell["datetime"]), "dd.mm.yyyy hh:mm:ss"
        if "bool" in cell:
            return bool(cell["bool"]), None
        if "error" in cell:
            return cell["error"], None
        if "inline" in cell:
            return INLINE_MARK + cell["inline"], None
    return cell, None


def write(path, description):
    workbook = openpyxl.Workbook()
    if description.get("date1904"):
        workbook.epoch = CALENDAR_MAC_1904
    fixed = datetime.datetime(2026, 1, 1)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    first = True
    for sheet in description["sheets"]:
        worksheet = workbook.active if first else workbook.create_sheet()
        first = False
        worksheet.title = sheet["title"]
        number = 0
        for row in sheet["rows"]:
            copies = [row] if not isinstance(row, dict) else [
                [f"{row['row'][0]}{i + 1}"] + row["row"][1:] for i in range(row["repeat"])
            ]
            for values in copies:
                number += 1
                for column, cell in enumerate(values, start=1):
                    if cell is None:
                        continue
                    value, number_format = cell_value(cell)
                    target = worksheet.cell(row=number, column=column, value=value)
                    if isinstance(cell, dict) and "error" in cell:
                        target.data_type = "e"
                    if number_format:
                        target.number_format = number_format
    workbook.save(path)
    if description.get("shared", True):
        share_strings(path)


def share_strings(path):
    """Moves inline strings to xl/sharedStrings.xml, as Excel writes them."""
    with zipfile.ZipFile(path) as source:
        entries = {name: source.read(name) for name in source.namelist()}
    strings = []
    index = {}

    def shared(match):
        attributes, text = match.group(1), match.group(2)
        if text.startswith(INLINE_MARK):
            return f'<c{attributes} t="inlineStr"><is><t>{text[len(INLINE_MARK):]}</t></is></c>'
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return f'<c{attributes} t="s"><v>{index[text]}</v></c>'

    pattern = re.compile(r'<c([^>]*?) t="inlineStr"><is><t(?: xml:space="preserve")?>(.*?)</t></is></c>', re.S)
    for name in list(entries):
        if name.startswith("xl/worksheets/sheet"):
            entries[name] = pattern.sub(shared, entries[name].decode()).encode()
    items = []
    for i, text in enumerate(strings):
        if i == 0 and len(text) > 1:
            # A rich-text entry: the value is its runs' text; the phonetic run is not part of it.
            half = len(text) // 2
            items.append(f'<si><r><t>{text[:half]}</t></r><r><rPr><b/></rPr><t xml:space="preserve">{text[half:]}</t></r>'
                         f'<rPh sb="0" eb="1"><t>ignored</t></rPh></si>')
        else:
            items.append(f"<si><t xml:space=\"preserve\">{text}</t></si>")
    entries["xl/sharedStrings.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(strings)}" uniqueCount="{len(strings)}">'
        + "".join(items) + "</sst>").encode()
    relationships = entries["xl/_rels/workbook.xml.rels"].decode()
    relationships = relationships.replace(
        "</Relationships>",
        '<Relationship Id="rIdShared" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
        'Target="sharedStrings.xml"/></Relationships>')
    entries["xl/_rels/workbook.xml.rels"] = relationships.encode()
    types = entries["[Content_Types].xml"].decode().replace(
        "</Types>",
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    entries["[Content_Types].xml"] = types.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, data)


if __name__ == "__main__":
    write(sys.argv[1], json.load(sys.stdin))
