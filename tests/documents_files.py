"""Real files of each kind a document may be, built here (no binary fixtures): the smallest
that their format's readers accept, so that the checks see what a user's file holds."""

import io
import struct
import zipfile

import openpyxl

# A one-page PDF (what a scanner or a word processor writes, reduced to its bones).
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n164\n%%EOF\n"
)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15"
    b"\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND"
    b"\xaeB`\x82"
)


def jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def webp() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (30, 30, 200)).save(out, "WEBP")
    return out.getvalue()


def _zip(parts: dict[str, bytes], *, first_stored: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if first_stored:
            archive.writestr(zipfile.ZipInfo(first_stored), parts.pop(first_stored), zipfile.ZIP_STORED)
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Override PartName="/{part}" ContentType="{type}"/></Types>'
)


def docx(*, macros: bool = False) -> bytes:
    main = (
        "application/vnd.ms-word.document.macroEnabled.main+xml"
        if macros
        else "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    )
    parts = {
        "[Content_Types].xml": _TYPES.format(part="word/document.xml", type=main).encode(),
        "word/document.xml": b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml'
        b'/2006/main"><w:body><w:p><w:r><w:t>Compte rendu</w:t></w:r></w:p></w:body></w:document>',
    }
    if macros:
        parts["word/vbaProject.bin"] = b"\x00" * 64
    return _zip(parts)


def xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active["A1"] = "Présents"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pptx() -> bytes:
    main = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
    return _zip(
        {
            "[Content_Types].xml": _TYPES.format(part="ppt/presentation.xml", type=main).encode(),
            "ppt/presentation.xml": b'<p:presentation xmlns:p="http://schemas.openxmlformats.org/'
            b'presentationml/2006/main"/>',
        }
    )


def odf(kind: str) -> bytes:
    return _zip(
        {
            "mimetype": f"application/vnd.oasis.opendocument.{kind}".encode(),
            "content.xml": b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:'
            b'xmlns:office:1.0"/>',
            "META-INF/manifest.xml": b"<manifest/>",
        },
        first_stored="mimetype",
    )


def ole(stream: str) -> bytes:
    """A compound file (Word 97 / Excel 97) holding one 4 KiB stream named `stream`."""
    end, free, fat_sector, none = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
    header += struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", free) * 108
    fat = [fat_sector, end] + [n + 1 for n in range(2, 9)] + [end]
    fat_bytes = b"".join(struct.pack("<I", n) for n in fat) + struct.pack("<I", free) * (128 - len(fat))

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\x00").encode("utf-16-le") if name else b""
        data = encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), kind, 1 if name else 0)
        data += struct.pack("<III", none, none, child) + b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16
        return data + struct.pack("<IIxxxx", start, size)

    directory = entry("Root Entry", 5, 1, end, 0) + entry(stream, 2, none, 2, 4096)
    directory += entry("", 0, none, 0, 0) * 2
    return header + fat_bytes + directory + b"\x42" * 4096


ALLOWED = {
    "compte-rendu.pdf": ("application/pdf", PDF),
    "photo.png": ("image/png", PNG),
    "photo.jpg": ("image/jpeg", None),
    "photo.webp": ("image/webp", None),
    "note.docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", None),
    "budget.xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", None),
    "diaporama.pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", None),
    "texte.odt": ("application/vnd.oasis.opendocument.text", None),
    "tableur.ods": ("application/vnd.oasis.opendocument.spreadsheet", None),
    "diapos.odp": ("application/vnd.oasis.opendocument.presentation", None),
    "ancien.doc": ("application/msword", None),
    "ancien.xls": ("application/vnd.ms-excel", None),
}


def content(name: str) -> bytes:
    return {
        "compte-rendu.pdf": lambda: PDF,
        "photo.png": lambda: PNG,
        "photo.jpg": jpeg,
        "photo.webp": webp,
        "note.docx": docx,
        "budget.xlsx": xlsx,
        "diaporama.pptx": pptx,
        "texte.odt": lambda: odf("text"),
        "tableur.ods": lambda: odf("spreadsheet"),
        "diapos.odp": lambda: odf("presentation"),
        "ancien.doc": lambda: ole("WordDocument"),
        "ancien.xls": lambda: ole("Workbook"),
    }[name]()
