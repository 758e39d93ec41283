#!/usr/bin/env python3
"""Independent oracle: read the certificate's QR code with zxing-cpp and OpenCV, and make a
simulated phone photo of the printed code (issue 12, must-show 2).

Usage: qr_decoders.py PAGE150.png PAGE100.png PAGE300.png PHOTO_OUT.jpg

- zxing-cpp reads the 150 dpi and the 100 dpi renders;
- OpenCV (QRCodeDetector, then QRCodeDetectorAruco if the first finds nothing) reads the
  300 dpi render;
- the photo: the QR region of the 300 dpi render (located by zxing-cpp, with half a symbol of
  paper around it) rotated 3 degrees, warped in perspective (the top edge 8 % narrower than the
  bottom, as from a phone held below the page), blurred (Gaussian, sigma 1.5 px, about a third
  of a module) and saved as JPEG quality 40; zxing-cpp and OpenCV then read the JPEG.

Prints one JSON object on stdout: {"zxing_150": [texts], "zxing_100": [...], "opencv_300": [...],
"photo": PHOTO_OUT, "photo_size": [w, h], "zxing_photo": [...], "opencv_photo": [...],
"opencv_detectors": {"opencv_300": name, "opencv_photo": name}, "grey_150": n, "grey_100": n}
(pixels of the symbol neither black nor white in each render; null when zxing finds none). Each list holds the texts of
the QR codes the decoder found (empty when it found none). Exits 2 on usage or I/O errors.
"""
import io
import json
import sys

import cv2
import numpy as np
import zxingcpp
from PIL import Image, ImageFilter

ROTATE_DEGREES = 3.0
PERSPECTIVE = 0.08
BLUR_SIGMA = 1.5
JPEG_QUALITY = 40


def zxing(image):
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def grey_modules(image):
    """Pixels of the QR symbol (as zxing-cpp locates it) that are neither black nor white: 0
    when every module edge falls on a pixel edge, as the issuer places the symbol for 100 and
    150 dpi renders."""
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    if not found:
        return None
    pos = found[0].position
    xs = [pos.top_left.x, pos.top_right.x, pos.bottom_left.x, pos.bottom_right.x]
    ys = [pos.top_left.y, pos.top_right.y, pos.bottom_left.y, pos.bottom_right.y]
    region = image.convert("L").crop((min(xs), min(ys), max(xs) + 1, max(ys) + 1))
    return sum(1 for v in region.get_flattened_data() if v not in (0, 255))


def opencv(image):
    """Texts OpenCV reads, and which of its detectors read them."""
    gray = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2GRAY)
    for name, detector in (
        ("QRCodeDetector", cv2.QRCodeDetector()),
        ("QRCodeDetectorAruco", cv2.QRCodeDetectorAruco()),
    ):
        text, _points, _straight = detector.detectAndDecode(gray)
        if text:
            return [text], name
    return [], None


def photo(page300):
    """The simulated phone photo of the QR region of a 300 dpi render, as JPEG bytes."""
    found = zxingcpp.read_barcodes(page300, formats=zxingcpp.BarcodeFormat.QRCode)
    if not found:
        raise SystemExit("zxing-cpp finds no QR code in the 300 dpi render to photograph")
    pos = found[0].position
    xs = [pos.top_left.x, pos.top_right.x, pos.bottom_left.x, pos.bottom_right.x]
    ys = [pos.top_left.y, pos.top_right.y, pos.bottom_left.y, pos.bottom_right.y]
    side = max(max(xs) - min(xs), max(ys) - min(ys))
    margin = side // 2
    box = (
        max(min(xs) - margin, 0),
        max(min(ys) - margin, 0),
        min(max(xs) + margin, page300.width),
        min(max(ys) + margin, page300.height),
    )
    region = page300.convert("RGB").crop(box)
    # Paper is not pure white under room light.
    paper = (236, 232, 222)
    region = region.rotate(ROTATE_DEGREES, resample=Image.BICUBIC, expand=True, fillcolor=paper)
    w, h = region.size
    inset = PERSPECTIVE * w / 2
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[inset, 0], [w - inset, 0], [w, h], [0, h]])
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(
        np.asarray(region), matrix, (w, h), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=paper,
    )
    image = Image.fromarray(warped).filter(ImageFilter.GaussianBlur(BLUR_SIGMA))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        page150, page100, page300 = (Image.open(p) for p in argv[1:4])
        page150.load()
        page100.load()
        page300.load()
    except OSError as e:
        print(f"cannot read a render: {e}", file=sys.stderr)
        return 2
    result = {"zxing_150": zxing(page150), "zxing_100": zxing(page100)}
    result["grey_150"] = grey_modules(page150)
    result["grey_100"] = grey_modules(page100)
    result["opencv_300"], d300 = opencv(page300)
    jpeg = photo(page300)
    with open(argv[4], "wb") as f:
        f.write(jpeg)
    shot = Image.open(io.BytesIO(jpeg))
    shot.load()
    result["photo"] = argv[4]
    result["photo_size"] = list(shot.size)
    result["zxing_photo"] = zxing(shot)
    result["opencv_photo"], dphoto = opencv(shot)
    result["opencv_detectors"] = {"opencv_300": d300, "opencv_photo": dphoto}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
