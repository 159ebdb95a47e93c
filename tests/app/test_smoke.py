def test_home_page_lists_public_campaigns(client, demo):
    html = client.get("/").get_data(as_text=True)
    assert "2020年广州社工宣传周评选" in html
