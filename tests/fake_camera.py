"""A fake camera for Chromium: a Y4M (YUV4MPEG2) video of printed codes, made with Pillow.

Chromium plays it in a loop as the camera when started with
``--use-fake-device-for-media-stream --use-file-for-fake-video-capture=<file>``.
"""
import io
from pathlib import Path

import zxingcpp
from PIL import Image

from sampling.residents.codes import render_png

WIDTH, HEIGHT = 640, 480


def qr_image(token: str) -> Image.Image:
    """A resident's code exactly as we print it (codes.render_png)."""
    return Image.open(io.BytesIO(render_png(token, box_size=8))).convert("L")


def code128_image(text: str) -> Image.Image:
    """A tube label: Code 128, as the pre-printed tube barcodes are."""
    image = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128).to_image(size_hint=520)
    view = memoryview(image)
    return Image.frombytes("L", (view.shape[1], view.shape[0]), bytes(view))


def frame(symbol: Image.Image) -> Image.Image:
    """The symbol centred on a white 640x480 frame, shrunk to fit when too big."""
    symbol = symbol.copy()
    symbol.thumbnail((WIDTH - 40, HEIGHT - 40))
    canvas = Image.new("L", (WIDTH, HEIGHT), 255)
    canvas.paste(symbol, ((WIDTH - symbol.width) // 2, (HEIGHT - symbol.height) // 2))
    return canvas.convert("RGB")


def write_y4m(path: Path, symbols: list[Image.Image], seconds_each: float = 1.0, fps: int = 5,
              blank_between: float = 0.3) -> Path:
    """A video showing each symbol for ``seconds_each``, with a blank frame run between
    (so the same code shown twice in a row is seen as two showings)."""
    blank = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for symbol in symbols:
            for image, seconds in ((frame(symbol), seconds_each), (blank, blank_between)):
                y, cb, cr = image.convert("YCbCr").split()
                data = y.tobytes() + cb.resize((WIDTH // 2, HEIGHT // 2)).tobytes() + \
                    cr.resize((WIDTH // 2, HEIGHT // 2)).tobytes()
                for _ in range(max(1, round(seconds * fps))):
                    out.write(b"FRAME\n")
                    out.write(data)
    return path
