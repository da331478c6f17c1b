"""QR codes as PNG without an imaging library: qrcode computes the modules, we write the PNG."""

from __future__ import annotations

import base64
import re
import struct
import zlib

import qrcode
from markupsafe import escape
from qrcode.constants import ERROR_CORRECT_M

SCALE = 5


def qr_matrix(text: str) -> list[list[bool]]:
    """The modules of a QR code for ``text`` (True is dark), with the quiet zone."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code.get_matrix()


def png(matrix: list[list[bool]], scale: int = SCALE) -> bytes:
    """A 1-bit greyscale PNG of ``matrix``; True cells are black, each ``scale`` pixels wide."""
    width, height = len(matrix[0]) * scale, len(matrix) * scale
    raw = bytearray()
    for row in matrix:
        bits = "".join(("0" if dark else "1") * scale for dark in row)
        bits += "1" * (-len(bits) % 8)
        raw += (b"\x00" + int(bits, 2).to_bytes(len(bits) // 8, "big")) * scale

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def qr_png(text: str, scale: int = SCALE) -> bytes:
    """The QR code of ``text`` as PNG."""
    return png(qr_matrix(text), scale)


def qr_data_uri(text: str, scale: int = SCALE) -> tuple[str, int]:
    """An inline ``data:image/png;base64,…`` QR code of ``text`` and its width in pixels."""
    matrix = qr_matrix(text)
    encoded = base64.b64encode(png(matrix, scale)).decode("ascii")
    return f"data:image/png;base64,{encoded}", len(matrix) * scale


def svg(matrix: list[list[bool]], label: str = "") -> str:
    """An SVG of ``matrix`` in module units (scales to any size without blur): one path of unit
    squares, dark on a white background, with ``label`` as its accessible name."""
    size = len(matrix)
    squares = "".join(
        f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark
    )
    title = escape(label)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" role="img"'
        f' aria-label="{title}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{squares}" fill="#000"/></svg>'
    )


def qr_svg(text: str, label: str = "") -> str:
    """The QR code of ``text`` as an inline SVG string (trusted markup; ``label`` is escaped)."""
    return svg(qr_matrix(text), label)


def svg_matrix(svg_text: str) -> list[list[bool]]:
    """The modules drawn by :func:`svg` (for tests that decode a served QR code)."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg_text).group(1))
    matrix = [[False] * size for _ in range(size)]
    for x, y in re.findall(r"M(\d+) (\d+)h1v1h-1z", svg_text):
        matrix[int(y)][int(x)] = True
    return matrix
