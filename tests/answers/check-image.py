#!/usr/bin/env python3
"""check-image.py FILE.svg... : each SVG parses as XML and draws lines and
text (the PNGs are decoded by check_png, with libpng). Prints one line per
file; exit 1 when one is bad."""
import sys
import xml.etree.ElementTree as ET


def check_svg(path):
    root = ET.parse(path).getroot()
    tags = [e.tag.split('}')[-1] for e in root.iter()]
    lines = tags.count('path') + tags.count('polyline') + tags.count('line')
    texts = tags.count('text')
    if lines < 5 or texts < 4:
        raise ValueError('blank: %d lines, %d texts' % (lines, texts))
    return '%d lines, %d texts' % (lines, texts)


ok = True
for f in sys.argv[1:]:
    try:
        what = check_svg(f)
        print('%s: %s' % (f, what))
    except Exception as e:  # noqa: BLE001 - any failure is the file's
        print('%s: BAD: %s' % (f, e))
        ok = False
sys.exit(0 if ok else 1)
