"""Draw the till's icons (exchange/static/till/icons/): a white coupon on the till's red.

Run once after changing the design: `.venv/bin/python scripts/till_icons.py`. The SVG and the
PNGs are drawn from the same shapes (a 64-unit grid), so they match.
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "exchange" / "static" / "till" / "icons"
RED, WHITE, INK = "#a4161a", "#ffffff", "#1f1f1f"
# The coupon (x, y, w, h, corner) with a notch on each side, and a 3×3 QR-like mark on it.
COUPON = (10, 18, 44, 28, 4)
NOTCH_R = 4
MARK = [(0, 0), (2, 0), (1, 1), (0, 2), (2, 2)]
MARK_AT, CELL = (18, 24), 5
LINES = [(38, 24, 48, 27), (38, 31, 48, 34), (38, 38, 44, 41)]


def svg() -> str:
    x, y, w, h, r = COUPON
    cells = "".join(f'<rect x="{MARK_AT[0] + cx * CELL}" y="{MARK_AT[1] + cy * CELL}" width="{CELL}" '
                    f'height="{CELL}" fill="{INK}"/>' for cx, cy in MARK)
    lines = "".join(f'<rect x="{a}" y="{b}" width="{c - a}" height="{d - b}" rx="1" fill="{RED}"/>'
                    for a, b, c, d in LINES)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
            f'<rect width="64" height="64" rx="12" fill="{RED}"/>'
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="{r}" fill="{WHITE}"/>'
            f'<circle cx="{x}" cy="{y + h / 2}" r="{NOTCH_R}" fill="{RED}"/>'
            f'<circle cx="{x + w}" cy="{y + h / 2}" r="{NOTCH_R}" fill="{RED}"/>'
            f'{cells}{lines}</svg>\n')


def png(size: int) -> Image.Image:
    s = size / 64
    image = Image.new("RGB", (size, size), RED)  # full bleed: also a maskable icon
    draw = ImageDraw.Draw(image)
    x, y, w, h, r = COUPON
    draw.rounded_rectangle([x * s, y * s, (x + w) * s, (y + h) * s], radius=r * s, fill=WHITE)
    for cx in (x, x + w):
        cy = y + h / 2
        draw.ellipse([(cx - NOTCH_R) * s, (cy - NOTCH_R) * s, (cx + NOTCH_R) * s, (cy + NOTCH_R) * s], fill=RED)
    for cx, cy in MARK:
        left, top = MARK_AT[0] + cx * CELL, MARK_AT[1] + cy * CELL
        draw.rectangle([left * s, top * s, (left + CELL) * s - 1, (top + CELL) * s - 1], fill=INK)
    for a, b, c, d in LINES:
        draw.rounded_rectangle([a * s, b * s, c * s, d * s], radius=s, fill=RED)
    return image


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon.svg").write_text(svg())
    for size in (192, 512):
        png(size).save(OUT / f"icon-{size}.png", optimize=True)
