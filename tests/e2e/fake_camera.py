"""A fake camera for Chromium: a QR image as a YUV4MPEG2 video (`--use-file-for-fake-video-capture`).

    .venv/bin/python -m tests.e2e.fake_camera coupon.png coupon.y4m

The picture is the QR centred on a white 640×480 frame, as a phone held over a receipt sees it;
Chromium plays the frames in a loop. 4:2:0 chroma (the only kind Chromium's fake capture reads).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

WIDTH, HEIGHT, FRAMES = 640, 480, 5


def write_y4m(qr_png: Path | str, out: Path | str, *, qr_size: int = 360) -> Path:
    qr = Image.open(qr_png).convert("RGB")
    qr = qr.resize((qr_size, qr_size), Image.NEAREST)
    frame = Image.new("RGB", (WIDTH, HEIGHT), "white")
    frame.paste(qr, ((WIDTH - qr_size) // 2, (HEIGHT - qr_size) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (WIDTH // 2, HEIGHT // 2)
    planes = y.tobytes() + cb.resize(half, Image.BILINEAR).tobytes() + cr.resize(half, Image.BILINEAR).tobytes()
    out = Path(out)
    with out.open("wb") as f:
        f.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(FRAMES):
            f.write(b"FRAME\n" + planes)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m tests.e2e.fake_camera QR.png OUT.y4m")
    print(write_y4m(sys.argv[1], sys.argv[2]))
