"""The visual strategy map: the plan as a top-down tree of cards, laid out here and drawn as SVG.

The layout is a tidy tree in two passes: each card's subtree is as wide as its children side by side
(or one card), and a parent sits centred above its first and last child, so no two cards overlap and
every level is a row. Only the open branches are laid out: a closed card shows how many children it
holds and a link that opens it (``open`` in the address, so an opened map has its own URL).

Markup is written with ``esc()`` on every value, as the map's rows are (``templatetags/map_rows.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.safestring import SafeString, mark_safe

from bizops.templatetags.ui import esc

CARD_W, CARD_H = 216, 84
H_GAP, V_GAP, MARGIN = 16, 48, 16
TITLE_CHARS = 30  # a line of a card's title at 13 px in 216 px
TONES = {"good": "#1f7a4d", "warn": "#b25e09", "bad": "#b42318", "neutral": "#6b7280", "accent": "#2453d4"}
STEP_TONES = {"done": "good", "doing": "accent", "blocked": "bad", "todo": "neutral"}


@dataclass
class Card:
    key: str  # "plan", "m12", "o34", "s56": what ``open`` names
    kind: str  # the word above the title
    title: str
    url: str
    percent: int | None
    tone: str  # a ``TONES`` key: the stripe's colour
    status: str  # the status in words (colour is never the only sign)
    meta: str = ""
    children: list[Card] = field(default_factory=list)
    count: int = 0  # children it holds, shown or not
    count_label: str = ""  # "objectives", "steps"
    is_open: bool = False
    x: float = 0.0
    y: float = 0.0
    span: float = 0.0


def layout(root: Card) -> tuple[float, float]:
    """Place every shown card (``x``, ``y``: its top left); returns the drawing's width and height."""
    depth = _measure(root, 0)
    _place(root, MARGIN, 0)
    return root.span + 2 * MARGIN, MARGIN * 2 + depth * CARD_H + (depth - 1) * V_GAP + 28


def _measure(card: Card, level: int) -> int:
    """Each card's subtree width (``span``); returns how many levels deep the shown tree is."""
    deepest = level + 1
    if card.is_open and card.children:
        for child in card.children:
            deepest = max(deepest, _measure(child, level + 1))
        card.span = max(CARD_W, sum(c.span for c in card.children) + H_GAP * (len(card.children) - 1))
    else:
        card.span = CARD_W
    return deepest


def _place(card: Card, left: float, level: int) -> None:
    card.y = MARGIN + level * (CARD_H + V_GAP)
    if card.is_open and card.children:
        width = sum(c.span for c in card.children) + H_GAP * (len(card.children) - 1)
        x = left + (card.span - width) / 2
        for child in card.children:
            _place(child, x, level + 1)
            x += child.span + H_GAP
        card.x = (card.children[0].x + card.children[-1].x) / 2
    else:
        card.x = left + (card.span - CARD_W) / 2


def toggle_url(query: QueryDict, opened: set[str], key: str) -> str:
    """The address of this map with ``key`` opened or closed (the other parameters kept)."""
    return open_url(query, opened ^ {key})


def open_url(query: QueryDict, keys: set[str]) -> str:
    """The address of this map with exactly ``keys`` open (the filters kept)."""
    flat = [(name, value) for name, values in query.lists() if name != "open" for value in values]
    flat.append(("open", ",".join(sorted(keys))))
    return "?" + urlencode(flat)


def _lines(title: str) -> list[str]:
    """The title in at most two lines of ``TITLE_CHARS``, cut at words; "…" where it is cut short."""
    words = title.split()
    lines: list[str] = []
    line = ""
    used = 0
    for word in words:
        candidate = f"{line} {word}".strip()
        if len(candidate) <= TITLE_CHARS:
            line, used = candidate, used + 1
            continue
        if line:
            lines.append(line)
        if len(lines) == 2:
            line = ""
            break
        line, used = (word if len(word) <= TITLE_CHARS else word[: TITLE_CHARS - 1] + "…"), used + 1
    if line and len(lines) < 2:
        lines.append(line)
    if used < len(words) and lines and not lines[-1].endswith("…"):
        lines[-1] = lines[-1][: TITLE_CHARS - 1].rstrip() + "…"
    return lines or [""]


def render(root: Card, *, label: str, toggles: dict[str, str]) -> SafeString:
    """The SVG of the laid-out tree. ``toggles``: the open/close address of each card with children."""
    width, height = layout(root)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="visual-map__svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="group" '
        f'aria-label="{esc(label)}" data-width="{width:.0f}" data-height="{height:.0f}">'
    ]
    edges: list[str] = []
    cards: list[str] = []
    _draw(root, edges, cards, toggles)
    parts.append(f'<g class="vm-edges" aria-hidden="true">{"".join(edges)}</g>')
    parts.extend(cards)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every value is escaped in ``_draw``


def _draw(card: Card, edges: list[str], cards: list[str], toggles: dict[str, str]) -> None:
    x, y = card.x, card.y
    tone = TONES.get(card.tone, TONES["neutral"])
    lines = _lines(card.title)
    text = "".join(
        f'<text class="vm-title" x="{x + 14:.1f}" y="{y + 34 + 16 * i:.1f}">{esc(line)} </text>'
        for i, line in enumerate(lines)
    )
    status = esc(card.status)
    bar = ""
    if card.percent is not None:
        filled = max(0.0, min(100.0, card.percent)) * 1.2
        bar = (
            f'<rect class="vm-track" x="{x + 14:.1f}" y="{y + CARD_H - 14:.1f}" width="120" height="6" rx="3"/>'
            f'<rect class="vm-bar" x="{x + 14:.1f}" y="{y + CARD_H - 14:.1f}" width="{filled:.1f}" height="6" rx="3"/>'
            f'<text class="vm-percent" x="{x + 142:.1f}" y="{y + CARD_H - 8:.1f}">{card.percent}%</text>'
        )
    # The link's name starts with its visible text (kind, status, the title's first words), as
    # assistive technology and voice control expect; the bar and percent are in the name, drawn apart.
    name = (
        f"{card.kind} · {card.status} {card.title}"
        + (f", {card.percent}%" if card.percent is not None else "")
        + (f", {card.meta}" if card.meta else "")
    )
    cards.append(
        f'<g class="vm-card vm-card--{esc(card.key[0])}" id="vm-{esc(card.key)}">'
        f'<a href="{esc(card.url)}" aria-label="{esc(name)}">'
        f'<rect class="vm-box" x="{x:.1f}" y="{y:.1f}" width="{CARD_W}" height="{CARD_H}" rx="8"/>'
        f'<rect x="{x:.1f}" y="{y:.1f}" width="6" height="{CARD_H}" rx="3" fill="{tone}"/>'
        f'<text class="vm-kind" x="{x + 14:.1f}" y="{y + 16:.1f}">{esc(card.kind)} · '
        f'<tspan fill="{tone}">{status}</tspan> </text>{text}</a>'
        f'<g aria-hidden="true"><title>{esc(card.title)}</title>{bar}</g>'
    )
    if card.count:
        href = toggles.get(card.key, "")
        sign = "−" if card.is_open else "+"
        words = f"{sign} {card.count} {card.count_label}"
        cx, cy = x + CARD_W / 2, y + CARD_H + 4
        cards.append(
            f'<a class="vm-toggle" href="{esc(href)}" hx-get="{esc(href)}" hx-target="#visual-map" '
            f'hx-swap="outerHTML" hx-push-url="true" aria-expanded="{"true" if card.is_open else "false"}" '
            f'aria-label="{"Close" if card.is_open else "Open"} {esc(card.title)}: {card.count} {esc(card.count_label)}">'
            f'<rect x="{cx - 60:.1f}" y="{cy:.1f}" width="120" height="20" rx="10"/>'
            f'<text x="{cx:.1f}" y="{cy + 14:.1f}" text-anchor="middle">{esc(words)}</text></a>'
        )
    cards.append("</g>")
    if card.is_open:
        for child in card.children:
            px, py = x + CARD_W / 2, y + CARD_H + (24 if card.count else 0)
            qx, qy = child.x + CARD_W / 2, child.y
            mid = (py + qy) / 2
            edges.append(f'<path d="M{px:.1f} {py:.1f} V{mid:.1f} H{qx:.1f} V{qy:.1f}"/>')
            _draw(child, edges, cards, toggles)
