"""Pages whose lists grow with a campaign read as many statements with three rows as with thirty:
none loads its rows one by one (a page that does grows a query per entry, review or account in
a city's campaign)."""
from contextlib import contextmanager

from sqlalchemy import event, insert, select

from app.extensions import db
from app.models import Agency, Category, Role, User
from benchmarks.harness import make_load_campaign
from nominations.models import Entry, EntryStatus
from review.models import Review

from ..conftest import PASSWORD, csrf_token

#: Who looks, and at what. Each page lists entries, reviews or accounts, or all of them.
PAGES = {
    Role.EXPERT: ["/review/"],
    Role.AGENCY: ["/agency/"],
    Role.ORGANISER: ["/admin/", "/admin/accounts?status=all", "/admin/audit", "/admin/campaigns/load",
                     "/moderation/load/hotlines/?status=all", "/review/manage/load/hotlines/",
                     "/review/manage/load/hotlines/methods", "/review/manage/load/hotlines/leniency",
                     "/results/manage/load/hotlines/", "/results/manage/load/hotlines/sensitivity",
                     "/vote/manage/load/hotlines/fraud"],
    None: ["/", "/c/load", "/c/load/hotlines/", "/c/load/hotlines/ranking",
           "/api/v1/campaigns/load/categories/hotlines/entries",
           "/results/load/", "/results/load/anthology"],
}


@contextmanager
def statements():
    """A list that counts the statements sent to the database while the block runs."""
    sent = []

    def count(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def grow(category_id, agency, expert, count, start):
    """``count`` more approved entries of ``agency``, each assigned to ``expert``, and as many
    more expert accounts."""
    entries = [Entry(category_id=category_id, agency=agency, number=f"HL-{start + n:04d}",
                     title=f"热线{start + n}", status=EntryStatus.APPROVED)
               for n in range(count)]
    db.session.add_all(entries)
    db.session.flush()
    db.session.add_all(Review(entry_id=entry.id, expert_id=expert.id) for entry in entries)
    db.session.execute(insert(User), [
        {"email": f"panel{start + n}@example.test", "name": f"专家{start + n}",
         "role": Role.EXPERT, "password_hash": "-"} for n in range(count)])
    db.session.commit()


def cost(app, clients):
    """{page: statements it sent}, each page read once before to warm what is kept."""
    organiser, url = clients[Role.ORGANISER], "/results/manage/load/hotlines/"
    published = organiser.post(url + "publish", data={
        "kind": "provisional", "csrf_token": csrf_token(organiser, url)}, follow_redirects=True)
    assert "已发布第" in published.get_data(as_text=True)  # the winners, as many as there are
    sent_by_page = {}
    for role, urls in PAGES.items():
        for url in urls:
            clients[role].get(url)
            with statements() as sent:
                response = clients[role].get(url)
            assert response.status_code == 200, (url, response.status_code)
            sent_by_page[url] = len(sent)
    return sent_by_page


def test_list_pages_read_as_many_statements_however_long_their_lists(app, make_user):
    app.config["PUBLIC_CACHE_SECONDS"] = 0  # public pages are rendered, not kept, here
    category_id, _ids = make_load_campaign(3, 10)
    category = db.session.get(Category, category_id)  # reviewed and voted on
    category.kind, category.expert_weight, category.public_weight = "story", 0.6, 0.4
    agency = db.session.scalar(select(Agency))
    users = {Role.EXPERT: make_user(Role.EXPERT), Role.AGENCY: make_user(Role.AGENCY, agency=agency),
             Role.ORGANISER: make_user(Role.ORGANISER)}
    db.session.add_all(Review(entry_id=entry_id, expert_id=users[Role.EXPERT].id)
                       for entry_id in _ids)
    db.session.commit()
    clients = {None: app.test_client()}
    for role, user in users.items():
        clients[role] = app.test_client()
        clients[role].post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                                "csrf_token": csrf_token(clients[role])})
    few = cost(app, clients)
    grow(category_id, agency, users[Role.EXPERT], 27, start=4)
    many = cost(app, clients)
    # (a page of fewer rows than a page holds may skip its count: one statement fewer)
    assert {url: many[url] - few[url] for url in few if many[url] > few[url]} == {}
    assert all(sent > 0 for sent in many.values())  # each page was read from the database

