"""Tiny PDFs written by hand for the tests: pages with or without a text layer, none at all.

Written byte by byte (with a correct cross-reference table) so the tests need no PDF writer.
"""

from __future__ import annotations


def make_pdf(pages: list[str | None], size: tuple[int, int] = (298, 421), images: bool = True) -> bytes:
    """A PDF of ``len(pages)`` pages (A6 points by default); a string puts that text on the page
    in Helvetica (a text layer), None leaves the page with only a grey box drawn (no text)."""
    objects: list[bytes] = []
    w, h = size
    kids = []
    font_id = 3
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"")  # pages tree, filled in below
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for text in pages:
        ops = b"0.5 g 20 20 60 30 re f\n" if images else b""
        if text is not None:
            safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops += b"0 g BT /F1 18 Tf 30 %d Td (%s) Tj ET\n" % (h - 60, safe.encode("latin-1"))
        objects.append(b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"endstream")
        content_id = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (w, h, content_id, font_id))
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def encrypt(pdf: bytes) -> bytes:
    """``pdf`` with a standard-security /Encrypt dictionary whose keys fit no password, empty or
    not: PDFium refuses it as password-protected, as it does a real encrypted file."""
    crypt = (b"/Encrypt << /Filter /Standard /V 1 /R 2 /Length 40 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32
             + b"> /P -4 >> /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>] ")
    return pdf.replace(b"trailer\n<< ", b"trailer\n<< " + crypt)
