"""What a file is, judged from its bytes (never its name), and whether Steward can sign it.

Detection is a small table of magic bytes rather than a general library: the set of formats
Steward signs is short, and for ISO-BMFF files (MP4, MOV, M4A, HEIC, AVIF) the ``ftyp`` brand
decides, which general sniffers get wrong often.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image

from config.exceptions import DomainError, Unprocessable


@dataclass(frozen=True)
class MediaFormat:
    mime: str
    label: str
    extension: str
    embed: bool  # c2pa can write the manifest into the file; otherwise a sidecar .c2pa
    image: bool = False  # Pillow decodes it: pixel limits apply, watermark possible
    aliases: tuple[str, ...] = ()


FORMATS: dict[str, MediaFormat] = {
    f.mime: f
    for f in [
        MediaFormat("image/jpeg", "JPEG", ".jpg", True, True, ("image/jpg", "image/pjpeg")),
        MediaFormat("image/png", "PNG", ".png", True, True, ("image/x-png",)),
        MediaFormat("image/webp", "WebP", ".webp", True, True, ("image/x-webp",)),
        MediaFormat("image/tiff", "TIFF", ".tif", True, True, ("image/tif",)),
        MediaFormat("image/gif", "GIF", ".gif", True, True),
        MediaFormat("image/avif", "AVIF", ".avif", True, True),
        # Pillow cannot decode HEIC here (no libheif), so no pixel checks and no watermark.
        MediaFormat(
            "image/heic", "HEIC", ".heic", True, False, ("image/heif", "image/heic-sequence")
        ),
        MediaFormat("video/mp4", "MP4", ".mp4", True, aliases=("video/x-m4v", "application/mp4")),
        MediaFormat("video/quicktime", "QuickTime MOV", ".mov", True),
        MediaFormat("audio/mp4", "M4A", ".m4a", True, aliases=("audio/x-m4a", "audio/m4a")),
        MediaFormat("audio/mpeg", "MP3", ".mp3", True, aliases=("audio/mp3", "audio/x-mp3")),
        MediaFormat(
            "audio/wav",
            "WAV",
            ".wav",
            True,
            aliases=("audio/x-wav", "audio/wave", "audio/vnd.wave"),
        ),
        MediaFormat("audio/flac", "FLAC", ".flac", True, aliases=("audio/x-flac",)),
        MediaFormat("application/pdf", "PDF", ".pdf", True),
        # c2pa cannot write into these: the manifest goes into a sidecar .c2pa.
        MediaFormat("image/bmp", "BMP", ".bmp", False, True, ("image/x-bmp", "image/x-ms-bmp")),
        MediaFormat("audio/ogg", "Ogg", ".ogg", False, aliases=("application/ogg", "video/ogg")),
    ]
}

_ALIASES: dict[str, str] = {alias: f.mime for f in FORMATS.values() for alias in f.aliases}
# Types that claim nothing: any detected type is fine.
_NO_CLAIM = {"", "application/octet-stream", "binary/octet-stream"}

_BMFF_BRANDS = {
    "avif": "image/avif",
    "avis": "image/avif",
    "heic": "image/heic",
    "heix": "image/heic",
    "heim": "image/heic",
    "heis": "image/heic",
    "hevc": "image/heic",
    "hevx": "image/heic",
    "mif1": "image/heic",
    "msf1": "image/heic",
    "qt  ": "video/quicktime",
    "M4A ": "audio/mp4",
    "M4B ": "audio/mp4",
    "M4V ": "video/mp4",
    "isom": "video/mp4",
    "iso2": "video/mp4",
    "iso4": "video/mp4",
    "iso5": "video/mp4",
    "iso6": "video/mp4",
    "mp41": "video/mp4",
    "mp42": "video/mp4",
    "avc1": "video/mp4",
    "dash": "video/mp4",
}
_BMFF_MIMES = frozenset(_BMFF_BRANDS.values())


def _bmff_mime(head: bytes) -> str | None:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    major = head[8:12].decode("latin-1")
    if major in _BMFF_BRANDS:
        return _BMFF_BRANDS[major]
    size = int.from_bytes(head[0:4], "big")
    brands = [head[i : i + 4].decode("latin-1") for i in range(16, min(size, len(head)) - 3, 4)]
    for brand in brands:
        if brand in _BMFF_BRANDS:
            return _BMFF_BRANDS[brand]
    return None


def _mp3_frame(head: bytes) -> bool:
    # MPEG audio frame sync: 11 set bits; layer bits != 00; bitrate index != 1111.
    return (
        len(head) >= 4
        and head[0] == 0xFF
        and (head[1] & 0xE0) == 0xE0
        and (head[1] & 0x06) != 0
        and (head[2] & 0xF0) != 0xF0
    )


def sniff(head: bytes) -> str | None:
    """The MIME type of a file from its first bytes (at least 64), or None if unknown."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"BM") and len(head) >= 26 and head[14] in (12, 40, 52, 56, 64, 108, 124):
        return "image/bmp"
    if head.startswith(b"ID3") or _mp3_frame(head):
        return "audio/mpeg"
    return _bmff_mime(head)


def _id3_end(head: bytes) -> int | None:
    """Where an ID3v2 tag at the start of the file ends (header, syncsafe size, footer)."""
    if len(head) < 10 or not head.startswith(b"ID3"):
        return None
    size = 0
    for byte in head[6:10]:
        size = size << 7 | (byte & 0x7F)
    return 10 + size + (10 if head[5] & 0x10 else 0)


def sniff_file(stream: BinaryIO) -> str | None:
    """sniff() for a whole file. An ID3v2 tag does not make an MP3: c2pa writes its manifest
    into a FLAC file as an ID3 tag in front of ``fLaC``, so what follows the tag decides."""
    stream.seek(0)
    head = stream.read(4096)
    end = _id3_end(head)
    if end is not None:
        stream.seek(end)
        if stream.read(4) == b"fLaC":
            return "audio/flac"
    return sniff(head)


def canonical_mime(claimed: str | None) -> str:
    value = (claimed or "").split(";")[0].strip().lower()
    return _ALIASES.get(value, value)


class UnsupportedMedia(DomainError):
    status_code = 415
    code = "unsupported_media_type"


@dataclass(frozen=True)
class Inspection:
    format: MediaFormat
    width: int | None = None
    height: int | None = None


def inspect(
    stream: BinaryIO, *, size: int, claimed_type: str | None, max_pixels: int
) -> Inspection:
    """Check an upload before a job is created: cheap checks only (no full decode).

    Raises a DomainError with a reason a user can act on: empty file, unknown or unsupported
    type, claimed type that does not match the content, truncated JPEG/PNG, too many pixels.
    """
    if size == 0:
        raise Unprocessable("The file is empty (0 bytes).", code="empty_file")
    mime = sniff_file(stream)
    if mime is None:
        raise UnsupportedMedia(
            "Steward cannot tell what this file is from its content, so it cannot sign it. "
            f"Supported: {', '.join(sorted(f.label for f in FORMATS.values()))}.",
        )
    fmt = FORMATS[mime]
    claim = canonical_mime(claimed_type)
    if claim not in _NO_CLAIM and claim != mime:
        raise Unprocessable(
            f"The file was sent as {claimed_type} but its content is {fmt.label} ({mime}).",
            code="content_type_mismatch",
        )
    _check_complete(stream, mime, size)
    if not fmt.image:
        return Inspection(fmt)
    width, height = _image_size(stream, max_pixels, size)
    return Inspection(fmt, width, height)


def _check_complete(stream: BinaryIO, mime: str, size: int) -> None:
    """Catch truncated files cheaply: by their end markers, or by the sizes their headers
    declare (RIFF, ISO-BMFF boxes, BMP). The worker would fail them later, one by one."""
    label = FORMATS[mime].label
    problem = None
    if mime in ("image/jpeg", "image/png", "application/pdf"):
        window = 1024 if mime == "application/pdf" else 64  # PDF: %%EOF in the last 1024 bytes
        stream.seek(max(0, size - window))
        tail = stream.read(window)
        marker, missing = {
            "image/jpeg": (b"\xff\xd9", "it has no end-of-image marker"),
            "image/png": (b"IEND", "it has no IEND chunk"),
            "application/pdf": (b"%%EOF", "it has no %%EOF marker"),
        }[mime]
        if marker not in tail:
            problem = missing
    elif mime in ("audio/wav", "image/webp"):
        stream.seek(4)
        declared = int.from_bytes(stream.read(4), "little") + 8
        if declared > size:
            problem = f"its header declares {declared:,} bytes, the file has {size:,}"
    elif mime == "image/bmp":
        stream.seek(2)
        declared = int.from_bytes(stream.read(4), "little")
        if declared > size:
            problem = f"its header declares {declared:,} bytes, the file has {size:,}"
    elif mime in _BMFF_MIMES:
        problem = _bmff_problem(stream, size)
    if problem:
        raise Unprocessable(f"The {label} is truncated: {problem}.", code="truncated_file")


def _bmff_problem(stream: BinaryIO, size: int) -> str | None:
    """Walk the top-level boxes (a handful: ftyp, moov, mdat...): one that ends past the end
    of the file means the file was cut."""
    at = 0
    for _ in range(10_000):
        if at >= size:
            return None
        stream.seek(at)
        header = stream.read(16)
        if len(header) < 8:
            return f"a box header at byte {at:,} is cut"
        length = int.from_bytes(header[0:4], "big")
        if length == 1:
            if len(header) < 16:
                return f"a box header at byte {at:,} is cut"
            length = int.from_bytes(header[8:16], "big")
        elif length == 0:  # the last box runs to the end of the file
            return None
        if length < 8:
            return f"the box at byte {at:,} declares an impossible size ({length})"
        if at + length > size:
            kind = header[4:8].decode("latin-1")
            return f"the '{kind}' box at byte {at:,} needs {at + length:,} bytes, the file has {size:,}"
        at += length
    return None


def _tiff_data_end(image: Image.Image) -> int | None:
    """Where the first image's pixel data of a TIFF ends, from its strip (or tile) offsets and
    byte counts: past the end of the file means it was cut. None for other formats."""
    tags = getattr(image, "tag_v2", None)
    if tags is None:
        return None
    offsets, counts = tags.get(273) or tags.get(324), tags.get(279) or tags.get(325)
    if not offsets or not counts:
        return None
    if isinstance(offsets, int):
        offsets, counts = (offsets,), (counts,)
    return max(int(o) + int(c) for o, c in zip(offsets, counts, strict=False))


def _image_size(stream: BinaryIO, max_pixels: int, size: int) -> tuple[int, int]:
    stream.seek(0)
    try:
        # Only the header is read here; the size check happens before any decoding.
        with Image.open(stream) as image:
            width, height = image.size
            data_end = _tiff_data_end(image)
    except Image.DecompressionBombError as exc:
        raise Unprocessable(f"Image refused: {exc}", code="too_many_pixels") from exc
    except Exception as exc:
        raise Unprocessable(
            f"The image cannot be read: {exc.__class__.__name__}: {exc}", code="unreadable_image"
        ) from exc
    if data_end is not None and data_end > size:
        raise Unprocessable(
            f"The TIFF is truncated: its strips need {data_end:,} bytes, the file has {size:,}.",
            code="truncated_file",
        )
    if width * height > max_pixels:
        raise Unprocessable(
            f"The image has {width}×{height} = {width * height:,} pixels, more than the "
            f"{max_pixels:,} allowed (a decompression bomb or simply too large).",
            code="too_many_pixels",
        )
    return width, height


def decode_image(data: bytes, max_pixels: int) -> Image.Image:
    """Fully decode an image (worker side), refusing bombs and truncated data."""
    image = Image.open(io.BytesIO(data))
    if image.width * image.height > max_pixels:
        raise Image.DecompressionBombError(
            f"Image has {image.width * image.height:,} pixels, more than the {max_pixels:,} allowed"
        )
    image.load()
    return image
