"""register.js refreshes a form's CSRF token only for a POST to this site, in Chromium.

The page is synthetic: Playwright serves it on the live server's origin, with the real
{% offline_head %} markup, and answers the forms' submissions itself, for this origin
(localhost) and for another one (127.0.0.1, same port). register.js and the token
endpoint come from the live server.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from wagtail_offline.views import CACHE_PREFIX

pytestmark = pytest.mark.django_db(transaction=True)

HOME_ACTION = "/csrf-forms/sent/"
AWAY_PATH = "/collect/"


@pytest.fixture
def browser_context_args(browser_context_args):
    # The worker is not under test, and one controlling the page would take the forms'
    # submissions out of page.route's sight.
    return {**browser_context_args, "service_workers": "block"}


def offline_head():
    """What {% offline_head %} renders for a site with offline reading on."""
    return render_to_string(
        "wagtail_offline/head.html",
        {
            "service_worker_url": reverse("wagtail_offline:service_worker"),
            "csrf_token_url": reverse("wagtail_offline:csrf_token"),
            "cache_prefix": CACHE_PREFIX,
            "active": True,
            "persist": False,
        },
    )


def forms_page(away, base=""):
    token = '<input type="hidden" name="csrfmiddlewaretoken" value="stale">'
    base = f'<base href="{base}">' if base else ""
    return f"""<!doctype html>
<html><head><meta charset="utf-8">{base}<title>Forms</title>{offline_head()}</head>
<body>
<form id="home" method="post" action="{HOME_ACTION}">{token}
  <input name="comment" value="hello"><button>Send</button></form>
<form id="away" method="post" action="{away}{AWAY_PATH}">{token}
  <input name="comment" value="hello"><button>Send</button></form>
<form id="formaction-away" method="post" action="{HOME_ACTION}">{token}
  <button formaction="{away}{AWAY_PATH}">Send</button></form>
<form id="formaction-home" method="post" action="{away}{AWAY_PATH}">{token}
  <button formaction="{HOME_ACTION}">Send</button></form>
<form id="relative" method="post" action="sent/">{token}
  <button>Send</button></form>
<form id="get" method="get" action="{HOME_ACTION}">{token}
  <button>Search</button></form>
<form id="formmethod-get" method="post" action="{HOME_ACTION}">{token}
  <button formmethod="get">Search</button></form>
<form id="action-named-input" method="post" action="{away}{AWAY_PATH}">{token}
  <input type="hidden" name="action" value="save"><button>Send</button></form>
<form id="method-named-input" method="post" action="{HOME_ACTION}">{token}
  <input type="hidden" name="method" value="card"><button>Send</button></form>
<dialog open><form id="dialog" method="dialog">{token}<button>Close</button></form></dialog>
<form id="scripted" method="post" action="{HOME_ACTION}">{token}<button>Send</button></form>
<script>
  window.scriptedSubmissions = 0;
  document.getElementById("scripted").addEventListener("submit", (event) => {{
    event.preventDefault();  // The page sends this form itself, as AJAX forms do.
    window.scriptedSubmissions += 1;
  }});
</script>
</body></html>"""


class FormsSite:
    """The page, with every submission and every token request it leads to recorded."""

    def __init__(self, page, live_server):
        self.page = page
        self.home = live_server.url
        parts = urlsplit(self.home)
        assert parts.hostname == "localhost"
        self.away = f"http://127.0.0.1:{parts.port}"
        self.token_requests = []
        page.on("request", self._record)
        page.route("**/*", self._answer)

    def _record(self, request):
        if urlsplit(request.url).path == reverse("wagtail_offline:csrf_token"):
            self.token_requests.append(request.url)

    def _answer(self, route):
        url = route.request.url
        if url == f"{self.home}/csrf-forms/":
            return route.fulfill(content_type="text/html", body=forms_page(self.away))
        if url == f"{self.home}/csrf-forms/based/":
            # Every relative URL on this page, the forms' too, points to the other origin.
            page = forms_page(self.away, base=f"{self.away}/csrf-forms/")
            return route.fulfill(content_type="text/html", body=page)
        if urlsplit(url).path in (HOME_ACTION, AWAY_PATH):
            return route.fulfill(content_type="text/html", body="<p>Received.</p>")
        return route.continue_()  # register.js and the token come from the live server.

    def open(self, path="/csrf-forms/"):
        self.page.goto(self.home + path)  # Waits for "load": register.js has run.

    def submit(self, form_id):
        """Click the form's button; the URL it went to and the token it carried."""
        with self.page.expect_request(
            lambda request: urlsplit(request.url).path in (HOME_ACTION, AWAY_PATH)
        ) as sent:
            self.page.click(f"#{form_id} button")
        request = sent.value
        # Wait for the page it loads: a later goto must not race this navigation.
        self.page.wait_for_url(
            lambda url: urlsplit(url).path in (HOME_ACTION, AWAY_PATH)
        )
        parts = urlsplit(request.url)
        fields = parse_qs(request.post_data or "") if request.method == "POST" else {}
        fields.update(parse_qs(parts.query))
        (token,) = fields["csrfmiddlewaretoken"]
        return request.method, f"{parts.scheme}://{parts.netloc}{parts.path}", token


@pytest.fixture
def forms_site(page, live_server):
    site = FormsSite(page, live_server)
    site.open()
    return site


def assert_fresh(token):
    assert token != "stale"
    assert len(token) == 64  # A masked Django token.


def test_a_same_origin_post_form_gets_a_fresh_token(forms_site):
    method, url, token = forms_site.submit("home")
    assert (method, url) == ("POST", forms_site.home + HOME_ACTION)
    assert_fresh(token)
    assert len(forms_site.token_requests) == 1


def test_a_form_posting_to_another_origin_keeps_its_token(forms_site):
    assert forms_site.submit("away") == ("POST", forms_site.away + AWAY_PATH, "stale")
    assert forms_site.token_requests == []


def test_a_button_whose_formaction_is_another_origin_keeps_the_token(forms_site):
    method, url, token = forms_site.submit("formaction-away")
    assert (method, url, token) == ("POST", forms_site.away + AWAY_PATH, "stale")
    assert forms_site.token_requests == []


def test_a_button_whose_formaction_is_this_origin_gets_a_fresh_token(forms_site):
    method, url, token = forms_site.submit("formaction-home")
    assert (method, url) == ("POST", forms_site.home + HOME_ACTION)
    assert_fresh(token)
    assert len(forms_site.token_requests) == 1


def test_a_relative_action_is_resolved_as_the_browser_does(forms_site):
    method, url, token = forms_site.submit("relative")
    assert (method, url) == ("POST", forms_site.home + HOME_ACTION)
    assert_fresh(token)

    forms_site.token_requests.clear()
    forms_site.open("/csrf-forms/based/")
    method, url, token = forms_site.submit("relative")
    assert (method, url, token) == ("POST", forms_site.away + HOME_ACTION, "stale")
    assert forms_site.token_requests == []


@pytest.mark.parametrize("form_id", ["get", "formmethod-get"])
def test_a_get_submission_does_not_put_a_fresh_token_into_its_url(forms_site, form_id):
    method, url, token = forms_site.submit(form_id)
    assert (method, url, token) == ("GET", forms_site.home + HOME_ACTION, "stale")
    assert forms_site.token_requests == []


def test_an_input_named_action_does_not_hide_where_the_form_posts(forms_site):
    method, url, token = forms_site.submit("action-named-input")
    assert (method, url, token) == ("POST", forms_site.away + AWAY_PATH, "stale")
    assert forms_site.token_requests == []


def test_an_input_named_method_does_not_hide_a_post(forms_site):
    method, url, token = forms_site.submit("method-named-input")
    assert (method, url) == ("POST", forms_site.home + HOME_ACTION)
    assert_fresh(token)


def test_a_dialog_form_is_left_alone(forms_site):
    forms_site.page.click("#dialog button")
    forms_site.page.wait_for_function("!document.querySelector('dialog').open")
    assert forms_site.token_requests == []


def test_a_form_the_page_sends_itself_is_not_submitted_again(forms_site):
    forms_site.page.click("#scripted button")
    # Long enough for a token request and a second submission, had there been any.
    forms_site.page.wait_for_timeout(1000)
    assert forms_site.page.evaluate("window.scriptedSubmissions") == 1
    assert forms_site.token_requests == []
