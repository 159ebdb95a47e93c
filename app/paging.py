"""Pages of a list computed in the worker (a tally sorted by what changes), read by the ``pager``
macro as it reads ``db.paginate``'s pages of a query."""
from dataclasses import dataclass


@dataclass(frozen=True)
class ListPage:
    items: list
    page: int
    pages: int
    total: int

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def prev_num(self):
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self):
        return self.page + 1 if self.has_next else None


def page_count(total, per_page):
    """How many pages ``total`` rows fill, ``per_page`` a page (an empty list has one page)."""
    return max(1, -(-total // per_page))


def page_of(items, page, per_page):
    """Page ``page`` (from 1; one out of range gives the nearest) of ``items``."""
    pages = page_count(len(items), per_page)
    page = min(max(1, page), pages)
    return ListPage(items[(page - 1) * per_page:page * per_page], page, pages, len(items))
