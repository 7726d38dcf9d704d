"""Charts as inline SVG, drawn on the server: no JavaScript, nothing fetched, allowed by a strict
Content-Security-Policy, readable with scripts off and printable.

Every string that reaches the SVG is escaped; colours and sizes are attributes or classes of the
site stylesheet, never inline ``style`` (which the CSP forbids). Each chart has a text twin on
its page (the event list, the article table, the JSON), so the SVG is a view, not the only record.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from ..records import Article

__all__ = ["activity_chart", "activity_counts", "languages_chart", "timeline_chart"]

WIDTH = 960
MARGIN = 16
# Okabe & Ito's palette, told apart with every common colour-vision deficiency; languages beyond
# eight repeat it.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
# Timeline: one row per event; text beyond LABEL_CHARS is in the tooltip; beyond MAX_EVENTS rows
# the chart stops and the event list below it carries the rest.
ROW = 26
AXIS_Y = 24
LABEL_CHARS = 64
MIN_LABEL_CHARS = 12
CHAR_WIDTH = 6.6  # average advance of a 12px sans-serif character, for fitting labels
LABEL_GAP = 6
MAX_EVENTS = 60
MIN_MARK = 6  # a day on a years-long axis is still this wide
# Bars: at most this wide; period labels thinned out to about MAX_LABELS.
BAR_MAX = 48
BAR_HEIGHT = 160
MAX_LABELS = 16
# Collection languages: one row per language, the smallest grouped as "other" past MAX_LANGUAGES.
MAX_LANGUAGES = 20
TICKS = 8
UNDATED = "undated"
_PRECISION_RANK = {"year": 0, "month": 1, "day": 2}


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _svg(height: float, label: str, body: Iterable[str]) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>'
    )


def _text(x: float, y: float, content: str, cls: str, anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">{escape(content)}</text>'


def _period(date: Mapping[str, Any]) -> tuple[dt.date, dt.date] | None:
    """The days a date of some precision covers, as [start, end)."""
    value, precision = date.get("date"), date.get("precision")
    if not value:
        return None
    try:
        parts = [int(p) for p in str(value).split("-")]
        if precision == "year":
            return dt.date(parts[0], 1, 1), dt.date(parts[0] + 1, 1, 1)
        if precision == "month":
            year, month = parts[0], parts[1]
            return dt.date(year, month, 1), dt.date(year + month // 12, month % 12 + 1, 1)
        day = dt.date(*parts[:3])
        return day, day + dt.timedelta(days=1)
    except (ValueError, IndexError, TypeError):
        return None


def _ticks(low: dt.date, high: dt.date) -> list[tuple[dt.date, str]]:
    """About TICKS dates between low and high, on day, month or year boundaries by the span."""
    days = (high - low).days
    if days <= 62:
        step = max(1, math.ceil(days / TICKS))
        return [(low + dt.timedelta(days=i), (low + dt.timedelta(days=i)).isoformat()) for i in range(0, days + 1, step)]
    if days <= 3 * 366:
        months = (high.year - low.year) * 12 + high.month - low.month
        step = max(1, math.ceil(months / TICKS))
        out = []
        for i in range(0, months + 1, step):
            index = low.month - 1 + i
            tick = dt.date(low.year + index // 12, index % 12 + 1, 1)
            if low <= tick <= high:
                out.append((tick, f"{tick.year:04d}-{tick.month:02d}"))
        return out
    step = max(1, math.ceil((high.year - low.year) / TICKS))
    return [(dt.date(y, 1, 1), str(y)) for y in range(low.year + 1, high.year + 1, step)]


def _isolate(text: str) -> str:
    """Text of any direction kept in one piece inside a line: between Unicode's first-strong
    isolate and its pop, an Arabic event in a left-to-right label neither reorders the date
    before it nor the sources after it."""
    return f"\u2068{text}\u2069"


def _cut(text: str, size: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _label(left: float, right: float, y: float, head: str, text: str, tail: str) -> str:
    """An event's label beside its mark: on the right where it fits, else on the side with more
    room, its text cut to the room there."""
    after, before = WIDTH - MARGIN - right - LABEL_GAP, left - LABEL_GAP - MARGIN
    needed = CHAR_WIDTH * (len(head) + min(len(text), LABEL_CHARS) + len(tail))
    on_right = after >= needed or after >= before
    room = int((after if on_right else before) / CHAR_WIDTH) - len(head) - len(tail)
    label = head + _isolate(_cut(text, max(MIN_LABEL_CHARS, min(LABEL_CHARS, room)))) + (_isolate(tail) if tail else "")
    if on_right:
        return _text(right + LABEL_GAP, y, label, "label")
    return _text(left - LABEL_GAP, y, label, "label", "end")


def timeline_chart(
    events: Sequence[Mapping[str, Any]], articles: Sequence[Mapping[str, Any]], link: Callable[[Mapping[str, Any]], str]
) -> Markup:
    """Dated events on a time axis, one row each, as long as the period their date gives (a day,
    a month, a year); uncertain dates drawn hollow. A row names the event's sources and links to
    its first citation. Empty when no event has a date."""
    source = {a["id"]: a["source"] for a in articles}
    dated = [(p, e) for e in events if (p := _period(e["date"])) is not None][:MAX_EVENTS]
    if not dated:
        return Markup("")
    low = min(p[0] for p, _ in dated)
    high = max(p[1] for p, _ in dated)
    span = max((high - low).days, 1)
    usable = WIDTH - 2 * MARGIN

    def x(day: dt.date) -> float:
        return MARGIN + usable * (day - low).days / span

    height = AXIS_Y + 12 + ROW * len(dated)
    body = [f'<line class="axis" x1="{MARGIN}" y1="{AXIS_Y}" x2="{WIDTH - MARGIN}" y2="{AXIS_Y}"/>']
    for day, label in _ticks(low, high):
        body.append(f'<line class="grid" x1="{x(day):.1f}" y1="{AXIS_Y - 4}" x2="{x(day):.1f}" y2="{height}"/>')
        body.append(_text(x(day), AXIS_Y - 8, label, "tick", "middle"))
    for row, ((start, end), event) in enumerate(dated):
        y = AXIS_Y + 12 + ROW * row
        left, right = x(start), max(x(end), x(start) + MIN_MARK)
        names = sorted({source.get(c["article_id"], "") for c in event["citations"]} - {""})
        date = event["date"]["date"] + (" (uncertain)" if event["uncertain"] else "")
        cls = f"event {event['date']['precision']}" + (" uncertain" if event["uncertain"] else "")
        words = _label(left, right, y + 9, f"{date} · ", event["text"], f" — {', '.join(names)}" if names else "")
        href = link(event["citations"][0]) if event["citations"] else ""
        body.append(
            f'<a href="{escape(href)}"><g class="row"><title>{escape(date + ": " + event["text"])}</title>'
            f'<rect class="{cls}" x="{left:.1f}" y="{y:.1f}" width="{right - left:.1f}" height="12" rx="3"/>{words}</g></a>'
        )
    return _svg(height, "Timeline of the story's events", body)


def activity_counts(articles: Sequence[Article]) -> list[dict[str, Any]]:
    """Original articles per publication period and language, in time order. A period is as
    precise as the dates allow (a day, or a whole month where only the month is known);
    undated articles are counted last."""
    counts: Counter[tuple[str, str, str]] = Counter()
    order: dict[str, tuple[bool, str, int]] = {}
    for article in articles:
        if article.duplicate_of is not None:
            continue
        date = article.published
        period = str(date) if date.value is not None else UNDATED
        precision = date.precision.value
        counts[(period, precision, article.language)] += 1
        order[period] = (date.value is None, "" if date.value is None else date.value.isoformat(), _PRECISION_RANK.get(precision, 3))
    return [
        {"period": period, "precision": precision, "language": language, "articles": n}
        for (period, precision, language), n in sorted(counts.items(), key=lambda kv: (order[kv[0][0]], kv[0][2]))
    ]


def activity_chart(counts: Sequence[Mapping[str, Any]]) -> Markup:
    """Stacked bars: articles per period, coloured by language, with a legend."""
    if not counts:
        return Markup("")
    periods = list(dict.fromkeys(c["period"] for c in counts))
    languages = sorted({c["language"] for c in counts})
    totals = Counter[str]()
    for c in counts:
        totals[c["period"]] += c["articles"]
    peak = max(totals.values())
    top, left = 40, MARGIN + 24
    slot = (WIDTH - left - MARGIN) / len(periods)
    bar = min(BAR_MAX, slot * 0.7)
    scale = BAR_HEIGHT / peak
    base = top + BAR_HEIGHT
    body = [f'<line class="axis" x1="{left}" y1="{base}" x2="{WIDTH - MARGIN}" y2="{base}"/>']
    step = max(1, math.ceil(peak / 4))
    for value in range(0, peak + 1, step):
        y = base - value * scale
        body += [f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{WIDTH - MARGIN}" y2="{y:.1f}"/>', _text(left - 6, y + 4, str(value), "tick", "end")]
    for i, language in enumerate(languages):
        body.append(f'<rect x="{left + i * 90}" y="8" width="12" height="12" fill="{_colour(i)}"/>')
        body.append(_text(left + i * 90 + 16, 18, language, "legend"))
    label_every = max(1, math.ceil(len(periods) / MAX_LABELS))
    for p, period in enumerate(periods):
        cx = left + slot * (p + 0.5)
        y = base
        for c in (c for c in counts if c["period"] == period):
            h = c["articles"] * scale
            y -= h
            colour = _colour(languages.index(c["language"]))
            tip = f"{period}, {c['language']}: {c['articles']} article{'s' if c['articles'] != 1 else ''}"
            body.append(f'<rect x="{cx - bar / 2:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}"><title>{escape(tip)}</title></rect>')
        if p % label_every == 0:
            body.append(_text(cx, base + 16, period, "tick", "middle"))
    return _svg(base + 24, "Articles per period and language", body)


def languages_chart(counts: Sequence[Mapping[str, Any]]) -> Markup:
    """Horizontal bars: original articles per language across the collection."""
    if not counts:
        return Markup("")
    rows = [(c["language"], c["articles"]) for c in counts[:MAX_LANGUAGES]]
    rest = sum(c["articles"] for c in counts[MAX_LANGUAGES:])
    if rest:
        rows.append(("other", rest))
    peak = max(n for _, n in rows)
    left, row = MARGIN + 48, 22
    usable = WIDTH - left - MARGIN - 60
    body = []
    for i, (language, n) in enumerate(rows):
        y = 8 + i * row
        width = max(2.0, usable * n / peak)
        body.append(_text(left - 8, y + 13, language, "legend", "end"))
        body.append(f'<rect x="{left}" y="{y}" width="{width:.1f}" height="16" fill="{_colour(i)}"><title>{escape(f"{language}: {n}")}</title></rect>')
        body.append(_text(left + width + 6, y + 13, str(n), "tick"))
    return _svg(16 + row * len(rows), "Articles per language in the collection", body)
