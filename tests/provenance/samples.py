"""Small sample files of every format, generated offline (Pillow, wave, OpenCV, by hand)."""

from __future__ import annotations

import io
import struct
import tempfile
import wave
from pathlib import Path

import numpy as np
from PIL import Image


def photo(width: int = 320, height: int = 256, seed: int = 0) -> Image.Image:
    """A smooth synthetic picture: pure noise does not carry a watermark like a photo does."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [
            128 + 60 * np.sin(x / 37.0) + 40 * np.cos(y / 23.0),
            128 + 50 * np.sin((x + y) / 51.0),
            128 + 70 * np.cos(x / 19.0) * np.sin(y / 29.0),
        ],
        axis=-1,
    )
    base += rng.normal(0, 6, base.shape)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


def image_bytes(fmt: str, width: int = 320, height: int = 256, **kwargs: object) -> bytes:
    image = photo(width, height)
    if fmt == "GIF":
        image = image.convert("P")
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def wav_bytes() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        t = np.arange(4000) / 8000
        out.writeframes((np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes())
    return buffer.getvalue()


def mp3_bytes(frames: int = 20) -> bytes:
    """Silent MPEG-1 Layer III frames (FF FB 90 64: 128 kbit/s, 44.1 kHz, 417-byte frames)."""
    return (bytes([0xFF, 0xFB, 0x90, 0x64]) + bytes(413)) * frames


def pdf_bytes() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
    ]
    stream = b"BT /F1 12 Tf 20 100 Td (Steward) Tj ET"
    objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def _video(suffix: str) -> bytes:
    """A real 5-frame MPEG-4 Part 2 video written by OpenCV's bundled FFmpeg."""
    import cv2

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"clip{suffix}"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
        for i in range(5):
            writer.write(np.full((48, 64, 3), i * 40, np.uint8))
        writer.release()
        return path.read_bytes()


def mp4_bytes() -> bytes:
    return _video(".mp4")


def mov_bytes() -> bytes:
    return _video(".mov")


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full_box(kind: bytes, version: int, flags: int, payload: bytes) -> bytes:
    return _box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def m4a_bytes() -> bytes:
    """A structurally valid ISO-BMFF audio file (brand M4A, one AAC track with no samples).

    No AAC encoder is available offline, so the track is empty: c2pa hashes boxes, not audio.
    """
    ftyp = _box(b"ftyp", b"M4A " + struct.pack(">I", 0) + b"M4A mp42isom")
    mvhd = _full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, 1000, 0)
        + struct.pack(">IH", 0x00010000, 0x0100)
        + bytes(10)
        + _MATRIX
        + bytes(24)
        + struct.pack(">I", 2),
    )
    tkhd = _full_box(
        b"tkhd",
        0,
        7,
        struct.pack(">IIIII", 0, 0, 1, 0, 0)
        + bytes(8)
        + struct.pack(">hhH", 0, 0, 0x0100)
        + bytes(2)
        + _MATRIX
        + struct.pack(">II", 0, 0),
    )
    mdhd = _full_box(
        b"mdhd", 0, 0, struct.pack(">IIII", 0, 0, 44100, 0) + struct.pack(">HH", 0x55C4, 0)
    )
    hdlr = _full_box(b"hdlr", 0, 0, struct.pack(">I", 0) + b"soun" + bytes(12) + b"SoundHandler\0")
    smhd = _full_box(b"smhd", 0, 0, bytes(4))
    dinf = _box(
        b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1) + _full_box(b"url ", 0, 1, b""))
    )
    mp4a = _box(
        b"mp4a",
        bytes(6)
        + struct.pack(">H", 1)
        + bytes(8)
        + struct.pack(">HHHH", 2, 16, 0, 0)
        + struct.pack(">I", 44100 << 16),
    )
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, struct.pack(">I", 1) + mp4a)
        + _full_box(b"stts", 0, 0, struct.pack(">I", 0))
        + _full_box(b"stsc", 0, 0, struct.pack(">I", 0))
        + _full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0))
        + _full_box(b"stco", 0, 0, struct.pack(">I", 0)),
    )
    trak = _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr + _box(b"minf", smhd + dinf + stbl)))
    return ftyp + _box(b"moov", mvhd + trak) + _box(b"mdat", bytes(64))


def heic_bytes() -> bytes:
    """A HEIF container (brand heic) with one hvc1 image item.

    No HEVC encoder is available offline: the item's payload is a placeholder, not a real
    HEVC bitstream. c2pa signs and validates the container (boxes), which this exercises.
    """
    ftyp = _box(b"ftyp", b"heic" + struct.pack(">I", 0) + b"mif1heic")
    payload = b"\0\0\0\x10\x26\x01" + bytes(14)

    def meta(offset: int) -> bytes:
        hdlr = _full_box(b"hdlr", 0, 0, struct.pack(">I", 0) + b"pict" + bytes(12) + b"\0")
        pitm = _full_box(b"pitm", 0, 0, struct.pack(">H", 1))
        iloc = _full_box(
            b"iloc",
            0,
            0,
            bytes([0x44, 0x00])
            + struct.pack(">H", 1)
            + struct.pack(">HHH", 1, 0, 1)
            + struct.pack(">II", offset, len(payload)),
        )
        iinf = _full_box(
            b"iinf",
            0,
            0,
            struct.pack(">H", 1) + _full_box(b"infe", 2, 0, struct.pack(">HH", 1, 0) + b"hvc1\0"),
        )
        ipco = _box(
            b"ipco",
            _box(b"hvcC", bytes([1]) + bytes(22))
            + _full_box(b"ispe", 0, 0, struct.pack(">II", 64, 48)),
        )
        ipma = _full_box(
            b"ipma", 0, 0, struct.pack(">I", 1) + struct.pack(">HB", 1, 2) + bytes([0x81, 0x02])
        )
        return _full_box(b"meta", 0, 0, hdlr + pitm + iloc + iinf + _box(b"iprp", ipco + ipma))

    first = meta(0)
    return ftyp + meta(len(ftyp) + len(first) + 8) + _box(b"mdat", payload)


def bmp_bytes() -> bytes:
    return image_bytes("BMP", 160, 128)


# name → (file name, MIME type, bytes factory)
SAMPLES = {
    "jpeg": ("gen.jpg", "image/jpeg", lambda: image_bytes("JPEG", quality=90)),
    "png": ("gen.png", "image/png", lambda: image_bytes("PNG")),
    "webp": ("gen.webp", "image/webp", lambda: image_bytes("WEBP", quality=90)),
    "tiff": ("gen.tif", "image/tiff", lambda: image_bytes("TIFF")),
    "gif": ("gen.gif", "image/gif", lambda: image_bytes("GIF")),
    "avif": ("gen.avif", "image/avif", lambda: image_bytes("AVIF", quality=80)),
    "heic": ("gen.heic", "image/heic", heic_bytes),
    "mp4": ("gen.mp4", "video/mp4", mp4_bytes),
    "mov": ("gen.mov", "video/quicktime", mov_bytes),
    "mp3": ("gen.mp3", "audio/mpeg", mp3_bytes),
    "wav": ("gen.wav", "audio/wav", wav_bytes),
    "m4a": ("gen.m4a", "audio/mp4", m4a_bytes),
    "pdf": ("gen.pdf", "application/pdf", pdf_bytes),
    "bmp": ("gen.bmp", "image/bmp", bmp_bytes),
}
