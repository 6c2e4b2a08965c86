"""How wide a line of the workflow picture is drawn, and where a long one wraps.

The picture is laid out before any browser sees it (an SVG file, a notebook cell), so
text is measured here, from the widths of DejaVu Sans (Debian's and most Linux desktops'
sans-serif, and wider than Helvetica, Arial or Segoe UI: text measured with it fits when
drawn in those) and of a monospace font (0.602 em a character in DejaVu Sans Mono, Menlo
and Courier alike). The SVG names DejaVu Sans first, so the widths it is drawn with are
the widths it was measured with wherever that font exists.

The widths (thousandths of an em, characters 32 to 126) were read from the fonts with a
canvas's `measureText` in Chromium; any other character counts as a whole em, which is as
wide as the wide symbols and CJK characters are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FIRST = 32
_REGULAR = (
    "318 401 460 838 636 950 780 275 390 390 500 838 318 361 318 337 636 636 636 636 636 636 "
    "636 636 636 636 337 337 838 838 838 531 1000 684 686 698 770 632 575 775 752 295 295 656 "
    "557 863 748 787 603 787 695 635 611 732 684 989 685 611 685 390 337 390 838 500 500 613 "
    "635 550 635 615 352 635 634 278 278 579 278 974 634 612 635 635 411 521 392 634 592 818 "
    "592 592 525 636 337 636 838"
)
_BOLD = (
    "348 456 521 838 696 1002 872 306 457 457 523 838 380 415 380 365 696 696 696 696 696 696 "
    "696 696 696 696 400 400 838 838 838 580 1000 774 762 734 830 683 683 821 837 372 372 775 "
    "637 995 837 850 733 850 770 720 682 812 774 1103 771 724 725 457 365 457 838 500 500 675 "
    "716 593 716 678 435 716 712 343 343 665 343 1042 712 687 716 716 493 595 478 712 652 924 "
    "645 652 582 712 365 712 838"
)
WIDTHS = {
    False: tuple(int(width) / 1000 for width in _REGULAR.split()),
    True: tuple(int(width) / 1000 for width in _BOLD.split()),
}
MONO_WIDTH = 0.602
# Room for a font that renders a little wider than the one measured, and for rounding.
SAFETY = 1.04

SANS = "'DejaVu Sans','Bitstream Vera Sans',system-ui,sans-serif"
MONO = "'DejaVu Sans Mono',Menlo,Consolas,'Liberation Mono',monospace"


@dataclass(frozen=True)
class Font:
    """A font the picture draws with: its size in pixels, bold or not, monospace or not."""

    size: float
    bold: bool = False
    mono: bool = False

    def width(self, text: str) -> float:
        """How many pixels wide `text` is drawn, at most."""
        if self.mono:
            ems = sum(MONO_WIDTH if _FIRST <= ord(c) < 127 else 1.0 for c in text)
        else:
            table = WIDTHS[self.bold]
            ems = sum(
                table[ord(c) - _FIRST] if _FIRST <= ord(c) < _FIRST + len(table) else 1.0
                for c in text
            )
        return ems * self.size * SAFETY

    @property
    def line_height(self) -> float:
        return round(self.size * 1.35, 1)


# Where a word that does not fit may break: after these characters, or between a lower-
# case letter and an upper-case one (CamelCase), keeping the character with what it ends.
_BREAK_AFTER = re.compile(r"(?<=[.,:/_\-\]\)])(?=.)|(?<=[a-z0-9])(?=[A-Z$])")


def wrap(text: str, font: Font, room: float) -> list[str]:
    """`text` in lines no wider than `room` pixels: broken at spaces where it can, inside
    a long word (after `.`, `_`, `:`... or at a CamelCase hump) where it must, and between
    any two characters as the last resort. Nothing is ever left out."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if font.width(candidate) <= room:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for piece in split_word(word, font, room):
            if font.width(piece) <= room and line and font.width(line + piece) <= room:
                line += piece
            else:
                if line:
                    lines.append(line)
                line = piece
    if line or not lines:
        lines.append(line)
    return lines


def split_word(word: str, font: Font, room: float) -> list[str]:
    """`word` in pieces each no wider than `room`, cut where `_BREAK_AFTER` allows first."""
    if font.width(word) <= room:
        return [word]
    pieces = [piece for piece in _BREAK_AFTER.split(word) if piece]
    result: list[str] = []
    for piece in pieces:
        while font.width(piece) > room and len(piece) > 1:
            cut = max(1, fitting_prefix(piece, font, room))
            result.append(piece[:cut])
            piece = piece[cut:]
        result.append(piece)
    return result


def fitting_prefix(text: str, font: Font, room: float) -> int:
    """How many of `text`'s first characters fit in `room`."""
    count = 0
    while count < len(text) and font.width(text[: count + 1]) <= room:
        count += 1
    return count


def wrap_clauses(text: str, font: Font, room: float) -> list[str]:
    """A Choice rule in lines, each `and`/`or` clause starting a line of its own when the
    whole rule does not fit on one."""
    if font.width(text) <= room:
        return [text]
    clauses = re.split(r" (?=(?:and|or) )", text)
    return [line for clause in clauses for line in wrap(clause, font, room)]
