"""The organiser's and the public's pages at a city's size: a category of 1,000 entries with
1,000,000 valid votes over ten days and 5,000 reviews, read through the app as a signed-in
organiser and as a visitor.

    python -m benchmarks.pages [--votes N] [--entries N] [--reviews N] [--database-url URL]
                               [--repeat N]

Prints, for each page, the median time of ``--repeat`` reads (after one read to warm what is
kept), its size and the statements it sent, beside the baseline measured in the same run: the
health check through the same client (the least a request to the app costs).
"""
import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

#: What an organiser looks at during a campaign, and what the public reads.
ORGANISER_PAGES = [
    "/admin/",
    "/admin/campaigns/load",
    "/moderation/load/hotlines/?status=all",
    "/review/manage/load/hotlines/",
    "/review/manage/load/hotlines/methods",
    "/review/manage/load/hotlines/leniency",
    "/results/manage/load/hotlines/",
    "/results/manage/load/hotlines/sensitivity",
    "/vote/manage/load/hotlines/fraud",
]
PUBLIC_PAGES = ["/c/load", "/c/load/hotlines/", "/c/load/hotlines/HL-0001",
                "/c/load/hotlines/ranking", "/c/load/hotlines/ranking?page=2"]
PASSWORD = "pages benchmark"


def read(client, engine, url, repeat):
    """(median ms, KB, statements) of ``repeat`` reads of ``url``, one read before to warm."""
    from sqlalchemy import event

    assert client.get(url).status_code == 200, url
    times, sent = [], []

    def count(*_args):
        sent.append(1)

    for _ in range(repeat):
        sent.clear()
        event.listen(engine, "before_cursor_execute", count)
        begun = time.perf_counter()
        response = client.get(url)
        times.append(1000 * (time.perf_counter() - begun))
        event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, (url, response.status_code)
    return (round(statistics.median(times), 1), round(len(response.get_data()) / 1024, 1),
            len(sent))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=1_000)
    parser.add_argument("--reviews", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)

    from app.extensions import db
    from app.models import Role, User

    from .harness import close_connections, own_database
    from .load import make_app
    from .seed import seed_city_category

    with (tempfile.TemporaryDirectory(prefix="award-pages-") as instance,
          own_database(args.database_url) as database_url):
        app = make_app(Path(instance), database_url)
        app.config["PUBLIC_CACHE_SECONDS"] = 0  # every public read is rendered, not kept
        with app.app_context():
            started = time.perf_counter()
            seed_city_category(args.entries, args.votes, args.reviews)
            seeded = time.perf_counter() - started
            organiser = User(email="organiser@example.test", name="组织者", role=Role.ORGANISER)
            organiser.set_password(PASSWORD)
            db.session.add(organiser)
            db.session.commit()
            engine = db.engine
            db.session.remove()

        visitor, client = app.test_client(), app.test_client()
        login = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        assert client.post("/auth/login", data={"email": "organiser@example.test",
                                                "password": PASSWORD,
                                                "csrf_token": token}).status_code == 302
        baseline = read(visitor, engine, "/healthz", args.repeat)[0]
        pages = {url: read(client, engine, url, args.repeat) for url in ORGANISER_PAGES}
        pages.update({url: read(visitor, engine, url, args.repeat) for url in PUBLIC_PAGES})
        close_connections(app)
    print(json.dumps({"database": engine.dialect.name, "votes": args.votes, "entries": args.entries,
                      "reviews": args.reviews, "seed_seconds": round(seeded, 1),
                      "baseline_ms": baseline,
                      "pages": {url: {"ms": ms, "kb": kb, "statements": n}
                                for url, (ms, kb, n) in pages.items()}}, ensure_ascii=False))
    for url, (ms, kb, statements) in pages.items():
        print(f"{url:44} {ms:8.1f} ms {ms / baseline:7.0f}x the baseline  {kb:7.1f} KB "
              f"{statements:3d} statements")
    print(f"baseline: the health check, {baseline} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
