"""SVG charts of a ranking, drawn by the app (no script, no outside service), put inline in pages."""
from markupsafe import Markup, escape

EXPERT_COLOUR, PUBLIC_COLOUR = "#1f4f99", "#d9822b"
COLOURS = ("#b3261e", "#1f4f99", "#1a7f37", "#9a6700", "#6f42c1", "#0b7285", "#c2255c",
           "#5c940d", "#364fc7", "#e8590c")


def _svg(width, height, label, parts):
    # nosec B704: every text in the parts went through escape(); the rest are numbers
    return Markup(  # nosec B704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(label)}" font-family="sans-serif" '
        f'font-size="12">' + "".join(parts) + "</svg>")


def score_bars(rows, labels, expert_weight, public_weight, label, limit=30, width=720):
    """A bar per entry (best first) split into its expert part (expert_weight x expert score) and
    its public part (public_weight x public score); winners' labels in bold, a dashed line under
    the last winner."""
    rows = rows[:limit]
    if not rows:
        return Markup("")
    bar, gap, left, right = 16, 6, 90, width - 50
    height = len(rows) * (bar + gap) + 30
    scale = (right - left) / 100
    parts = []
    for index, row in enumerate(rows):
        y = 6 + index * (bar + gap)
        expert_part = expert_weight * row.expert * scale
        public_part = public_weight * row.public * scale
        weight = "bold" if row.winner else "normal"
        parts.append(f'<text x="{left - 6}" y="{y + bar - 4}" text-anchor="end" '
                     f'font-weight="{weight}">{escape(labels[row.entry])}</text>')
        if expert_part:
            parts.append(f'<rect x="{left}" y="{y}" width="{expert_part:.1f}" height="{bar}" '
                         f'fill="{EXPERT_COLOUR}"/>')
        if public_part:
            parts.append(f'<rect x="{left + expert_part:.1f}" y="{y}" width="{public_part:.1f}" '
                         f'height="{bar}" fill="{PUBLIC_COLOUR}"/>')
        parts.append(f'<text x="{left + expert_part + public_part + 4:.1f}" y="{y + bar - 4}">'
                     f'{row.final:.1f}</text>')
        following = rows[index + 1] if index + 1 < len(rows) else None
        if row.winner and following is not None and not following.winner:
            line_y = y + bar + gap / 2
            parts.append(f'<line x1="0" y1="{line_y}" x2="{width}" y2="{line_y}" stroke="#b3261e" '
                         f'stroke-dasharray="4 3"/>')
    axis_y = height - 18
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{right}" y2="{axis_y}" stroke="#999"/>')
    for tick in (0, 25, 50, 75, 100):
        x = left + tick * scale
        parts.append(f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle" fill="#666">{tick}'
                     '</text>')
    return _svg(width, height, label, parts)


def bump_chart(paths, labels, columns, winners, label, current=None, width=720):
    """Lines of rank (1 at the top) across ``columns`` (scenario names), one per entry of
    ``paths`` {entry: [rank per column]}; the band of winning ranks is shaded and the column of
    the settings in use (index ``current``) marked."""
    if not paths or len(columns) < 2:
        return Markup("")
    worst = max(rank for ranks in paths.values() for rank in ranks if rank is not None)
    left, right, top, row = 80, width - 30, 14, 22
    bottom = top + (worst - 1) * row
    height = bottom + 46

    def x(index):
        return left + (right - left) * index / (len(columns) - 1)

    def y(rank):
        return top + (rank - 1) * row

    band = y(winners) + row / 2 if winners <= worst else bottom + row / 2
    parts = [f'<rect x="{left}" y="{top - row / 2}" width="{right - left}" '
             f'height="{band - top + row / 2:.1f}" fill="#eaf4ec"/>']
    if current is not None:
        parts.append(f'<line x1="{x(current):.1f}" y1="{top - row / 2}" x2="{x(current):.1f}" '
                     f'y2="{bottom + row / 2}" stroke="#444" stroke-dasharray="2 3"/>')
    for rank in range(1, worst + 1):
        parts.append(f'<text x="{right + 10}" y="{y(rank) + 4}" fill="#666">{rank}</text>')
    for index, name in enumerate(columns):
        parts.append(f'<text x="{x(index):.1f}" y="{height - 8}" text-anchor="middle" '
                     f'fill="#444">{escape(name)}</text>')
    for number, (entry, ranks) in enumerate(paths.items()):
        colour = COLOURS[number % len(COLOURS)]
        points = [(x(i), y(rank)) for i, rank in enumerate(ranks) if rank is not None]
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                     + " ".join(f"{px:.1f},{py:.1f}" for px, py in points) + '"/>')
        for px, py in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>')
        first_x, first_y = points[0]
        parts.append(f'<text x="{first_x - 8:.1f}" y="{first_y + 4:.1f}" text-anchor="end" '
                     f'fill="{colour}">{escape(labels[entry])}</text>')
    return _svg(width, height, label, parts)
