"""Small sample files of every format: generated offline (Pillow, wave, OpenCV, by hand), or
read from fixtures/ for the codecs nothing here encodes (HEIC, M4A, MP3, FLAC, Ogg)."""

from __future__ import annotations

import io
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


FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    """A real encoded file from tests/provenance/fixtures (see generate.py there): HEVC, AAC,
    MP3, FLAC and Opus have no encoder in Steward's environment."""
    return (FIXTURES / name).read_bytes()


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
    "heic": ("gen.heic", "image/heic", lambda: fixture_bytes("sample.heic")),
    "mp4": ("gen.mp4", "video/mp4", mp4_bytes),
    "mov": ("gen.mov", "video/quicktime", mov_bytes),
    "mp3": ("gen.mp3", "audio/mpeg", lambda: fixture_bytes("sample.mp3")),
    "wav": ("gen.wav", "audio/wav", wav_bytes),
    "m4a": ("gen.m4a", "audio/mp4", lambda: fixture_bytes("sample.m4a")),
    "flac": ("gen.flac", "audio/flac", lambda: fixture_bytes("sample.flac")),
    "ogg": ("gen.ogg", "audio/ogg", lambda: fixture_bytes("sample.ogg")),
    "pdf": ("gen.pdf", "application/pdf", pdf_bytes),
    "bmp": ("gen.bmp", "image/bmp", bmp_bytes),
}
