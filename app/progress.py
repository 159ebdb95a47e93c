"""Where a campaign stands, category by category, for the organiser's campaign page.

The core knows no feature: nominations, review, voting and results each register, with
``section``, a column of the page and how to count it. A section is given many categories at
once (a campaign's, or those of every campaign on the organiser's list, each with its
``campaign`` loaded) and counts them in a few grouped statements, never one category at a time,
and answers {category id: [Figure, ...]}; a category missing from the answer shows a dash (no
review in a category without experts, no vote without a public weight).
"""
from dataclasses import dataclass

_sections = []


@dataclass(frozen=True)
class Figure:
    """One count of a category: what it counts, its value as shown, where to act on it, and
    whether something waits for the organiser there (the page marks it)."""

    label: str
    value: int | str  # a count is shown in the reader's locale
    url: str | None = None
    attention: bool = False
    #: The same for every category (the site's codes): the organiser's list shows it once a
    #: campaign, where it first stands.
    site_wide: bool = False


@dataclass(frozen=True)
class Section:
    order: int
    title: object  # a lazy string: the page is rendered in the reader's language
    count: object  # (categories, now) -> {category id: [Figure, ...]}


def section(order, title):
    """Register a column of the campaign page; ``order`` places it (nominations first)."""

    def register(count):
        _sections.append(Section(order, title, count))
        _sections.sort(key=lambda s: s.order)
        return count

    return register


def progress(campaign, now):
    """The registered sections' titles, and for each of the campaign's categories its figures,
    one list per section in the same order."""
    categories = list(campaign.categories)
    counted = _counted(categories, now)
    rows = [(category, [figures.get(category.id) for figures in counted])
            for category in categories]
    return [s.title for s in _sections], rows


def waiting(campaigns, now):
    """{campaign id: [(category, Figure), ...]}: what waits for the organiser in each campaign
    of their list, the marked figures of its categories in the campaign page's order. All the
    campaigns are counted together: as many statements for twenty campaigns as for one."""
    categories = [category for campaign in campaigns for category in campaign.categories]
    counted = _counted(categories, now)
    marked = {campaign.id: [] for campaign in campaigns}
    shown = {campaign.id: set() for campaign in campaigns}  # the site-wide figures listed
    for category in categories:
        for figures in counted:
            for figure in figures.get(category.id, ()):
                if not figure.attention or figure.label in shown[category.campaign_id]:
                    continue
                if figure.site_wide:
                    shown[category.campaign_id].add(figure.label)
                marked[category.campaign_id].append((category, figure))
    return marked


def _counted(categories, now):
    """Each section's figures of ``categories``: [{category id: [Figure, ...]}, ...]."""
    return [s.count(categories, now) for s in _sections]
