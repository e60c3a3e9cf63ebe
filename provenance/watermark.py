"""Invisible image watermarks that carry a 64-bit id, behind a small backend interface.

The default backend is blind-watermark's DWT-DCT-SVD (no model weights). It is not on the
C2PA soft-binding algorithm list, so Steward records it in its own ``org.steward.watermark``
assertion, never in ``c2pa.soft-binding``. A listed algorithm (e.g. TrustMark, which needs
model weights an operator must provide) can be added as another ``WatermarkBackend`` whose
``soft_binding_alg`` is set; the manifest then also carries a ``c2pa.soft-binding``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import secrets
from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np
from django.conf import settings
from PIL import Image

BITS = 64


class WatermarkBackend(Protocol):
    algorithm: str  # recorded in the manifest and on the job
    soft_binding_alg: str | None  # a C2PA-listed algorithm name, or None

    def min_size(self) -> tuple[int, int]: ...

    def embed(self, image: Image.Image, watermark_id: int) -> Image.Image: ...

    def extract(self, image: Image.Image, original_size: tuple[int, int] | None = None) -> int: ...


@contextlib.contextmanager
def _keep_start_method() -> Iterator[None]:
    # `import blind_watermark` calls multiprocessing.set_start_method('fork') at import time,
    # which changes the whole process (and raises if something set it before).
    original = multiprocessing.set_start_method
    multiprocessing.set_start_method = lambda *args, **kwargs: None  # type: ignore[assignment]
    try:
        yield
    finally:
        multiprocessing.set_start_method = original


_watermark_cls: Any = None


def _blind_watermark() -> Any:
    global _watermark_cls
    if _watermark_cls is None:
        with _keep_start_method(), contextlib.redirect_stdout(None):
            from blind_watermark import WaterMark, bw_notes

        bw_notes.close()  # the banner it prints on every WaterMark()
        _watermark_cls = WaterMark
    return _watermark_cls


def id_to_bits(value: int) -> list[bool]:
    return [bool((value >> (BITS - 1 - i)) & 1) for i in range(BITS)]


def bits_to_id(bits: Any) -> int:
    value = 0
    for bit in np.asarray(bits, dtype=bool).tolist():
        value = (value << 1) | int(bit)
    return value


def new_watermark_id() -> int:
    # All-zero and all-one ids cannot be decoded: the decoder clusters bits into two groups.
    while True:
        value = secrets.randbits(BITS)
        if value not in (0, (1 << BITS) - 1):
            return value


def to_hex(value: int) -> str:
    return f"{value:016x}"


class DwtDctSvdBackend:
    algorithm = "org.steward.dwtDctSvd"
    soft_binding_alg: str | None = None

    def __init__(self, password_wm: int | None = None, password_img: int | None = None) -> None:
        self.password_wm = (
            password_wm if password_wm is not None else settings.PROVENANCE_WATERMARK_PASSWORD_WM
        )
        self.password_img = (
            password_img if password_img is not None else settings.PROVENANCE_WATERMARK_PASSWORD_IMG
        )

    def min_size(self) -> tuple[int, int]:
        # 64 bits need more than 64 4×4 blocks in the half-resolution band.
        return (128, 128)

    def _engine(self) -> Any:
        # mode="common" runs in-process (no pool): safe inside Celery prefork children.
        return _blind_watermark()(
            password_wm=self.password_wm, password_img=self.password_img, mode="common"
        )

    def embed(self, image: Image.Image, watermark_id: int) -> Image.Image:
        engine = self._engine()
        rgb = np.asarray(image.convert("RGB"))
        engine.read_img(img=np.ascontiguousarray(rgb[:, :, ::-1]))  # it works in BGR
        engine.read_wm(id_to_bits(watermark_id), mode="bit")
        with contextlib.redirect_stdout(None):
            marked = engine.embed()
        out = np.rint(marked[:, :, ::-1]).clip(0, 255).astype(np.uint8)
        return Image.fromarray(out, "RGB")

    def extract(self, image: Image.Image, original_size: tuple[int, int] | None = None) -> int:
        rgb_image = image.convert("RGB")
        if original_size and rgb_image.size != original_size:
            # The decoder needs the marked image's geometry back.
            rgb_image = rgb_image.resize(original_size, Image.Resampling.BICUBIC)
        rgb = np.asarray(rgb_image)
        engine = self._engine()
        with contextlib.redirect_stdout(None):
            bits = engine.extract(
                embed_img=np.ascontiguousarray(rgb[:, :, ::-1]), wm_shape=BITS, mode="bit"
            )
        return bits_to_id(bits)


def get_backend() -> WatermarkBackend:
    return DwtDctSvdBackend()
