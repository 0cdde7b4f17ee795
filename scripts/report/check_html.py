"""Render OUT/report.html with headless Chromium and check the screenshot is a drawn page.

    .venv/bin/python scripts/report/check_html.py OUT [--screenshot PNG]

Asserts that the screenshot has the requested size (1280 x 4000), that at least 3 % of its pixels
are not white (text, tables and figures rendered), and that at least 500 pixels have the reference
traces' orange (#ff7f0e, used nowhere in the page's CSS), so the SVG figures were loaded and drawn.
Needs the Debian package `chromium`.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile

import numpy as np
from PIL import Image

SIZE = (1280, 4000)
MIN_INK, MIN_ORANGE = 0.03, 500
ORANGE = np.array([0xFF, 0x7F, 0x0E])


def screenshot(html_path: str, png: str) -> None:
    """Render html_path to png with headless Chromium at SIZE (own throw-away profile, no sandbox
    because the tests run as root)."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([shutil.which("chromium") or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
                        f"--window-size={SIZE[0]},{SIZE[1]}", "file://" + os.path.abspath(html_path)],
                       check=True, capture_output=True, timeout=180)


def check(png: str) -> dict:
    """The screenshot's size, fraction of non-white pixels and count of orange pixels; raises
    AssertionError when the page looks blank or the figures are missing."""
    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB")).astype(int)
        size = image.size
    ink = float(np.mean(pixels.min(axis=2) < 245))
    orange = int(np.sum(np.abs(pixels - ORANGE).max(axis=2) < 40))
    assert size == SIZE, f"screenshot is {size}, wanted {SIZE}"
    assert ink >= MIN_INK, f"only {100 * ink:.2f} % of the pixels are not white: blank page?"
    assert orange >= MIN_ORANGE, f"only {orange} orange pixels: figures not drawn?"
    return {"size": size, "ink": ink, "orange_pixels": orange}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="report folder with report.html")
    parser.add_argument("--screenshot", help="keep the screenshot at this path (default: a temporary file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        png = args.screenshot or os.path.join(tmp, "report.png")
        screenshot(os.path.join(args.out, "report.html"), png)
        print(check(png))


if __name__ == "__main__":
    main()
