"""Rebuild models/referral/fonts/NotoSansSC-Subset.otf, the poster font, from Noto's own file.

    python3 -m venv /tmp/fontvenv && /tmp/fontvenv/bin/pip install fonttools==4.68.0
    /tmp/fontvenv/bin/python tools/build_poster_font.py path/to/NotoSansCJK-VF.otf.ttc

The input is Noto Sans CJK as Noto publishes it (the variable OpenType collection
`Sans/Variable/OTC/NotoSansCJK-VF.otf.ttc` of the notofonts/noto-cjk repository, version 2.004);
the script refuses any other file (checked by sha256). It keeps the Simplified Chinese face and,
with fontTools' subsetter (what `pyftsubset` runs), only what a poster needs:

- every character of GB2312 (the 6,763 hanzi and its 682 symbols), ASCII, Latin-1, general
  punctuation, CJK punctuation and the full-width forms (RANGES);
- the weight axis and its named instances (the poster draws Regular, Medium and Bold), the
  outlines and their hints unchanged, so posters look exactly as with the full font;
- horizontal layout only: no vertical metrics, and no `locl` forms of the Japanese, Korean and
  Traditional faces (they would double the file and never show on a Simplified Chinese poster).

The same input and fontTools version give the same bytes (the font's timestamp is kept, not set
to the build time); the script prints the result's size and sha256 to compare with
tools/README.md. Only this script needs fontTools: the service reads the font with Pillow.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

UPSTREAM_NAME = "NotoSansCJK-VF.otf.ttc"
UPSTREAM_VERSION = "Version 2.004;hotconv 1.0.118;makeotfexe 2.5.65603"
UPSTREAM_SHA256 = "d3d8256cdec8dbcb3552284bc6b20c734dd60c2ee9df83b5758e34807c4bac32"
FACE = "Noto Sans CJK SC"
FONTTOOLS_VERSION = "4.68.0"
OUTPUT = Path(__file__).resolve().parent.parent / "models/referral/fonts/NotoSansSC-Subset.otf"

# Beyond GB2312, whole blocks of what shops write in titles and offers: ASCII, Latin-1 (¥ · ×),
# general punctuation (— … “ ”), letterlike symbols and number forms (™ ℃ Ⅻ), arrows (→ ⇒),
# enclosed numbers (① ⑳), geometric shapes (▶ ◆ ◌, the base HarfBuzz draws under a lone
# combining mark), miscellaneous symbols and dingbats (☆ ♥ ✓), CJK symbols and punctuation
# (、。「」【】), CJK compatibility forms (﹏), full-width and half-width forms (，０Ａ￥).
RANGES = (
    (0x20, 0x7E),
    (0xA0, 0xFF),
    (0x2000, 0x206F),
    (0x2100, 0x21FF),
    (0x2460, 0x24FF),
    (0x25A0, 0x27BF),
    (0x3000, 0x303F),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
)
# What HarfBuzz applies to horizontal Chinese and Latin text by default.
LAYOUT_FEATURES = "ccmp,locl,rlig,calt,clig,liga,kern,mark,mkmk,rvrn,curs"
# Language systems kept besides each script's default: Simplified Chinese. Those of Japanese,
# Korean and Traditional Chinese only lead `locl` to their own glyphs (5,800 of them).
LANGUAGES = ("ZHS ",)
DROPPED_TABLES = "vhea,vmtx,VORG,VVAR"


def gb2312() -> list[int]:
    """The code points of every character GB2312 encodes (rows 0xA1–0xF7)."""
    points = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                points.add(ord(bytes([high, low]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return sorted(points)


def codepoints() -> list[int]:
    spans = [point for low, high in RANGES for point in range(low, high + 1)]
    return sorted(set(gb2312()) | set(spans))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def face_number(upstream: Path) -> int:
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(upstream), lazy=True)
    for number, font in enumerate(collection.fonts):
        if font["name"].getDebugName(1) == FACE:
            return number
    raise SystemExit(f"{upstream}: no {FACE} face")


def keep_languages(font: Any) -> None:
    """Drop the language systems a Simplified Chinese poster never asks for, so the subsetter
    leaves out the features, lookups and glyphs that only they reach (the step `pyftsubset`
    has no option for; `--layout-scripts` keeps or drops whole scripts)."""
    for tag in ("GSUB", "GPOS"):
        scripts = font[tag].table.ScriptList.ScriptRecord
        for record in scripts:
            script = record.Script
            script.LangSysRecord = [
                lang for lang in script.LangSysRecord if lang.LangSysTag in LANGUAGES
            ]
            script.LangSysCount = len(script.LangSysRecord)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("upstream", type=Path, help=f"Noto's {UPSTREAM_NAME}")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    try:
        import fontTools
        from fontTools import subset
    except ImportError:
        print(f"needs fontTools: pip install fonttools=={FONTTOOLS_VERSION}", file=sys.stderr)
        return 2
    if fontTools.version != FONTTOOLS_VERSION:
        print(
            f"fontTools {fontTools.version} would not give the same bytes: "
            f"use fonttools=={FONTTOOLS_VERSION}",
            file=sys.stderr,
        )
        return 2
    if not args.upstream.is_file():
        print(f"{args.upstream}: no such file", file=sys.stderr)
        return 2
    found = sha256(args.upstream)
    if found != UPSTREAM_SHA256:
        print(
            f"{args.upstream}: sha256 {found}, expected {UPSTREAM_SHA256} "
            f"(Noto's {UPSTREAM_NAME}, {UPSTREAM_VERSION})",
            file=sys.stderr,
        )
        return 2
    # pyftsubset's own option parsing and steps (fontTools.subset.main), with keep_languages
    # between loading and subsetting.
    options = subset.Options()
    options.parse_opts(
        [
            f"--font-number={face_number(args.upstream)}",
            f"--layout-features={LAYOUT_FEATURES}",
            f"--drop-tables+={DROPPED_TABLES}",
            "--name-IDs=*",
            "--name-languages=*",
            "--notdef-outline",
        ]
    )
    font = subset.load_font(str(args.upstream), options, dontLoadGlyphNames=True)
    keep_languages(font)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints())
    subsetter.subset(font)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(args.output), options)
    size = args.output.stat().st_size
    print(f"{args.output}: {size:,} bytes, sha256 {sha256(args.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
