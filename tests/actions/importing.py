"""Helpers shared by the import tests: find a fiche in a document, upload it through the app,
save a workbook as LibreOffice would (.ods)."""

import datetime
import io
import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P
from openpyxl import load_workbook

from actions.models import PlanImport


def fiche_of(data: dict, number: int) -> dict:
    return next(a for axis in data["axes"] for a in axis["actions"] if a["number"] == number)


def drop_fiche(data: dict, number: int) -> None:
    for axis in data["axes"]:
        axis["actions"] = [a for a in axis["actions"] if a["number"] != number]


def upload(client, data: dict, name: str = "val-aigo.json"):
    content = json.dumps(data).encode()
    return client.post(reverse("plan_import"), {"fichier": SimpleUploadedFile(name, content)})


def upload_and_confirm(client, data: dict, name: str = "val-aigo.json"):
    response = upload(client, data, name)
    assert response.status_code == 302, getattr(response, "text", "")
    pending = PlanImport.objects.latest("pk")
    return client.post(reverse("plan_import_confirm", args=[pending.pk]), follow=True)


def ods_of(xlsx: bytes, *, percent_progress=False) -> bytes:
    """An .ods holding the same rows as the workbook, cell types as LibreOffice writes them."""
    source = load_workbook(io.BytesIO(xlsx))
    document = OpenDocumentSpreadsheet()
    for sheet in source.worksheets:
        table = Table(name=sheet.title)
        for row in sheet.iter_rows():
            line = TableRow()
            for cell in row:
                value = cell.value
                if percent_progress and sheet.title == "Fiches" and cell.column == 8 and cell.row > 1:
                    odf = TableCell(valuetype="percentage", value=(value or 0) / 100)
                    odf.addElement(P(text=f"{value or 0} %"))
                elif isinstance(value, bool):
                    odf = TableCell(valuetype="boolean", booleanvalue=str(value).lower())
                elif isinstance(value, int | float):
                    odf = TableCell(valuetype="float", value=value)
                    odf.addElement(P(text=str(value)))
                elif isinstance(value, datetime.datetime | datetime.date):
                    day = value.date() if isinstance(value, datetime.datetime) else value
                    odf = TableCell(valuetype="date", datevalue=day.isoformat())
                    odf.addElement(P(text=f"{day:%d/%m/%Y}"))
                elif value is None:
                    odf = TableCell()
                else:
                    odf = TableCell(valuetype="string")
                    for part in str(value).split("\n"):
                        odf.addElement(P(text=part))
                line.addElement(odf)
            table.addElement(line)
        # LibreOffice closes a sheet with an empty row repeated to the sheet's end.
        table.addElement(TableRow(numberrowsrepeated=1_048_000))
        document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
