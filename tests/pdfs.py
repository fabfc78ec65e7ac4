"""Checks that a PDF reads the same on any machine (SPEC §4.11), with poppler-utils
(installed by `make test`: scripts/system-deps.sh)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from PIL import Image, ImageChops

# A fontconfig that knows only DejaVu (Latin, no Chinese): a printer's or a partner's machine
# without Chinese fonts. poppler looks up every font a PDF does not embed through fontconfig.
DEJAVU_ONLY = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>/usr/share/fonts/truetype/dejavu</dir>
  <cachedir>{cache}</cachedir>
</fontconfig>
"""


def fonts(pdf: Path) -> list[dict]:
    """`pdffonts`' table: each font's name, type and whether it is embedded."""
    out = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        # name, type (may contain spaces), encoding, emb, sub, uni, object, generation
        match = re.match(r"^(\S+)\s+(.+?)\s+(\S+)\s+(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+$", line)
        assert match, line
        rows.append({"name": match[1], "type": match[2], "emb": match[4] == "yes"})
    return rows


def render(pdf: Path, prefix: Path, *, fontconfig: Path | None = None, dpi: int = 60) -> list[Image.Image]:
    """Every page as an image, with the machine's fonts or with the given fontconfig."""
    env = dict(os.environ)
    if fontconfig is not None:
        env["FONTCONFIG_FILE"] = str(fontconfig)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(prefix)], check=True, env=env,
                   capture_output=True)
    pages = sorted(prefix.parent.glob(f"{prefix.name}-*.png"))
    assert pages, "pdftoppm drew no page"
    return [Image.open(page).convert("RGB") for page in pages]


def dejavu_only(tmp_path: Path) -> Path:
    config = tmp_path / "dejavu-only.conf"
    config.write_text(DEJAVU_ONLY.format(cache=tmp_path / "fontconfig-cache"))
    return config


def differing_pages(pdf: Path, tmp_path: Path) -> list[int]:
    """The pages that look different on a machine whose only fonts are DejaVu (1-based)."""
    here = render(pdf, tmp_path / "here")
    there = render(pdf, tmp_path / "there", fontconfig=dejavu_only(tmp_path))
    assert len(here) == len(there)
    return [n for n, (a, b) in enumerate(zip(here, there, strict=True), 1) if ImageChops.difference(a, b).getbbox()]
