"""What a browser test of the admin screens does: log in through Wagtail's own form."""

PASSWORD = "walk-the-ridge"


def log_in(page, base, user):
    """Through the admin's own login form; ``user`` was created with ``PASSWORD``."""
    page.goto(base + "/admin/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == base + "/admin/"
