from datetime import timedelta

from bs4 import BeautifulSoup

from app.database import utcnow


def test_home_page_lists_public_campaigns(client, demo):
    html = client.get("/").get_data(as_text=True)
    assert "2020年广州社工宣传周评选" in html


def test_each_campaign_on_the_home_page_says_which_phases_are_open(
        app, client, make_campaign, make_category):
    """A citizen sees from the list which campaign takes votes now, and which is to come or
    over; a campaign hidden from the public is not listed. The page reads as many statements
    for six campaigns as for three (no campaign's categories loaded one by one)."""
    from .test_growing_lists import statements

    app.config["PUBLIC_CACHE_SECONDS"] = 0
    now = utcnow()
    voting = make_campaign(title="投票中的评选")
    make_category(voting, kind="hotline", expert_weight=0.0, public_weight=1.0)
    later = now + timedelta(days=30)
    coming = make_campaign(title="筹备中的评选", nomination_opens=later, nomination_closes=later,
                           review_opens=later, review_closes=later, voting_opens=later,
                           voting_closes=later)
    make_category(coming, expert_weight=0.5, public_weight=0.5)
    hidden = make_campaign(title="未公开的评选", is_public=False)
    make_category(hidden)

    def cards():
        soup = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
        return {card.h2.get_text(strip=True): [b.get_text(strip=True) for b in card.select(".badge")]
                for card in soup.select("a.campaign-card")}

    assert cards() == {"投票中的评选": ["申报 · 进行中", "公众投票 · 进行中"],
                       "筹备中的评选": ["申报 · 未开始", "专家评审 · 未开始", "公众投票 · 未开始"]}

    def cost():
        client.get("/")
        with statements() as sent:
            assert client.get("/").status_code == 200
        return len(sent)

    few = cost()
    for n in range(3):
        make_category(make_campaign(title=f"评选{n}"))
    assert cost() == few
