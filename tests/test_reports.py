"""/offline/report/: anyone may POST to it, so no body, header or flood can hurt the site."""

import json
import logging
from types import SimpleNamespace

import pytest
from django.core.cache import caches

from wagtail_offline import conf, reports

pytestmark = pytest.mark.django_db

URL = "/offline/report/"


@pytest.fixture(autouse=True)
def empty_rate_limits():
    """Every test starts with a fresh budget, whatever the tests before it reported."""
    caches[conf.get("WAGTAIL_OFFLINE_CACHE")].clear()
    yield
    caches[conf.get("WAGTAIL_OFFLINE_CACHE")].clear()


@pytest.fixture
def logged(caplog):
    """The messages the endpoint logged."""
    caplog.set_level(logging.WARNING, logger="wagtail_offline.reports")

    def messages():
        return [
            record.getMessage()
            for record in caplog.records
            if record.name == "wagtail_offline.reports"
        ]

    return messages


def report_body(*failures, version="abc123"):
    return json.dumps(
        {
            "type": "wagtail-offline:precache-failed",
            "version": version,
            "failures": list(failures)
            or [{"url": "/trails/big/", "reason": "quota", "message": "No room"}],
        },
        ensure_ascii=False,
    )


def post(client, body=None, **headers):
    return client.post(
        URL,
        data=report_body() if body is None else body,
        content_type="application/json",
        **headers,
    )


def test_reports_from_readers_browsers_are_logged(client, site, caplog):
    caplog.set_level(logging.WARNING)
    response = post(client)
    assert response.status_code == 204
    [record] = caplog.records
    assert (record.name, record.levelno) == ("wagtail_offline.reports", logging.WARNING)
    assert record.getMessage() == (
        "wagtail-offline: a reader's browser could not store 1 entries of Trails [default] "
        "(version abc123): /trails/big/: No room (quota)"
    )


@pytest.mark.parametrize(
    "body, status",
    [
        pytest.param(b"[" * 2000, 400, id="nested-past-the-recursion-limit"),
        pytest.param(b"[" * 60_000, 400, id="nested-just-under-the-size-cap"),
        pytest.param(b"[" * 100_000, 413, id="nested-and-oversized"),
        pytest.param(b'{"failures": "\xff\xfe"}', 400, id="not-utf-8"),
        pytest.param(b"", 400, id="empty"),
        pytest.param(b"null", 400, id="null"),
        pytest.param(b"nonsense", 400, id="not-json"),
        pytest.param(b'"\\ud800"', 400, id="a-string"),
        pytest.param(b'{"failures": NaN}', 400, id="nan"),
        pytest.param(b'{"failures": [' + b"1" * 5000 + b"]}", 400, id="huge-int"),
        pytest.param(b'{"version": "abc"}', 400, id="no-failures"),
        pytest.param(b'{"failures": []}', 400, id="empty-failures"),
        pytest.param(b'{"failures": "x"}', 400, id="failures-a-string"),
        pytest.param(b'{"failures": {"url": "/"}}', 400, id="failures-an-object"),
        pytest.param(b'{"failures": [1]}', 400, id="failure-a-number"),
        pytest.param(b'{"failures": [{"url": "/"}]}', 400, id="no-message"),
        pytest.param(
            b'{"failures": [{"url": 1, "message": []}]}', 400, id="wrong-field-types"
        ),
        pytest.param(
            b'{"failures": [{"url": "/", "message": "m", "reason": 5}]}',
            400,
            id="reason-a-number",
        ),
        pytest.param(report_body(version="../x"), 400, id="version-not-hex"),
        pytest.param(report_body(version="a" * 65), 400, id="version-too-long"),
        pytest.param(report_body(version=7), 400, id="version-a-number"),
        pytest.param(
            report_body(*[{"url": "/x/", "message": "x" * 200}] * 80),
            204,
            id="16-kb-of-legal-report",
        ),
        pytest.param(
            report_body({"url": "/x/", "message": "x" * 70_000}),
            413,
            id="over-the-size-cap",
        ),
    ],
)
def test_hostile_bodies_are_refused_without_a_server_error(
    client, site, logged, body, status
):
    # The test client raises whatever the view raises, so a 500 fails here loudly.
    response = post(client, body)
    assert response.status_code == status
    if status != 204:
        assert logged() == []


def test_a_malformed_content_length_is_an_empty_body_not_a_server_error(client, site):
    assert post(client, CONTENT_LENGTH="lots").status_code == 400


def test_control_characters_and_line_breaks_are_escaped_in_one_line(
    client, site, logged
):
    body = report_body(
        {
            "url": "/forged/\u202etxt.exe\x00",
            "reason": "quota\n",
            "message": "one\ntwo\r\nthree\x1b[2J four\u2028five\u2029\x85 C:\\dir é 日本",
        }
    )
    assert post(client, body).status_code == 204
    [message] = logged()
    assert not set(message) & set("\n\r\x1b\x00\x85\u2028\u2029\u202e")
    assert (
        "/forged/\\u202etxt.exe\\x00: one\\ntwo\\r\\nthree\\x1b[2J four\\u2028five"
        "\\u2029\\x85 C:\\\\dir é 日本 (quota\\n)"
    ) in message


def test_one_report_logs_at_most_4_kb_whatever_it_holds(client, site, logged):
    # Each field as long as it may be, in characters that cost the most once logged:
    # four UTF-8 bytes each, or escaped to four characters.
    widest = {
        "url": "𝔘" * (reports.MAX_URL_CHARS + 1),
        "reason": "\x00" * (reports.MAX_REASON_CHARS + 1),
        "message": "\x1b" * (reports.MAX_MESSAGE_CHARS + 1),
    }
    body = report_body(*[widest] * 20, *[{}] * 1000)
    assert len(body.encode()) < reports.MAX_REPORT_BYTES
    assert post(client, body).status_code == 204
    [message] = logged()
    assert len(message.encode()) <= 4096
    assert "1020 entries" in message
    assert message.endswith(" more")


def test_a_client_past_its_limit_is_answered_429_and_not_logged(
    client, site, logged, settings
):
    settings.WAGTAIL_OFFLINE_REPORTS_PER_MINUTE = 3
    statuses = [post(client, REMOTE_ADDR="203.0.113.5").status_code for _ in range(5)]
    assert statuses == [204, 204, 204, 429, 429]
    assert len(logged()) == 3
    # Another reader is not held back by the first one.
    assert post(client, REMOTE_ADDR="203.0.113.6").status_code == 204


def test_x_forwarded_for_does_not_make_another_client(client, site, settings):
    settings.WAGTAIL_OFFLINE_REPORTS_PER_MINUTE = 2
    statuses = [
        post(
            client, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        ).status_code
        for n in range(3)
    ]
    assert statuses == [204, 204, 429]


def test_the_limit_starts_again_each_minute(client, site, settings, monkeypatch):
    settings.WAGTAIL_OFFLINE_REPORTS_PER_MINUTE = 1
    now = [1_000_000 * 60.0]
    monkeypatch.setattr(reports, "time", SimpleNamespace(time=lambda: now[0]))
    assert [post(client).status_code for _ in range(2)] == [204, 429]
    now[0] += 60
    assert post(client).status_code == 204


@pytest.mark.parametrize("no_limit", [0, None])
def test_a_limit_of_0_or_none_lets_every_report_through(
    client, site, settings, no_limit
):
    settings.WAGTAIL_OFFLINE_REPORTS_PER_MINUTE = no_limit
    assert {post(client).status_code for _ in range(30)} == {204}


def test_a_count_that_expires_between_add_and_incr_starts_again(
    client, site, monkeypatch
):
    class ExpiringCache:
        def add(self, key, value, timeout):
            return False  # Someone else counted first...

        def incr(self, key):
            raise ValueError(key)  # ...and the entry expired just after.

    monkeypatch.setattr(
        reports, "caches", {conf.get("WAGTAIL_OFFLINE_CACHE"): ExpiringCache()}
    )
    assert post(client).status_code == 204


@pytest.mark.parametrize(
    "headers, status",
    [
        pytest.param({}, 204, id="no-origin-headers"),
        pytest.param({"HTTP_ORIGIN": "http://testserver"}, 204, id="own-origin"),
        pytest.param(
            {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"},
            204,
            id="own-origin-fetch-metadata",
        ),
        pytest.param(
            {"HTTP_ORIGIN": "https://testserver", "secure": True},
            204,
            id="own-origin-over-https",
        ),
        pytest.param({"HTTP_ORIGIN": "http://evil.example"}, 403, id="other-origin"),
        pytest.param({"HTTP_ORIGIN": "http://other.example"}, 403, id="other-site"),
        pytest.param(
            {"HTTP_ORIGIN": "http://testserver.evil.example"}, 403, id="lookalike"
        ),
        pytest.param({"HTTP_ORIGIN": "https://testserver"}, 403, id="other-scheme"),
        pytest.param({"HTTP_ORIGIN": "null"}, 403, id="null-origin"),
        pytest.param({"HTTP_SEC_FETCH_SITE": "cross-site"}, 403, id="cross-site"),
        pytest.param({"HTTP_SEC_FETCH_SITE": "same-site"}, 403, id="same-site"),
        pytest.param({"HTTP_SEC_FETCH_SITE": "none"}, 403, id="typed-by-hand"),
        pytest.param(
            {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "cross-site"},
            403,
            id="fetch-metadata-contradicts-origin",
        ),
        pytest.param(
            {"HTTP_HOST": "evil.example", "HTTP_ORIGIN": "http://evil.example"},
            400,
            id="disallowed-host",
        ),
    ],
)
def test_only_the_sites_own_origin_may_report(client, site, logged, headers, status):
    assert post(client, **headers).status_code == status
    assert len(logged()) == (1 if status == 204 else 0)


def test_refused_origins_do_not_use_up_the_limit(client, site, settings):
    settings.WAGTAIL_OFFLINE_REPORTS_PER_MINUTE = 1
    for _ in range(3):
        assert post(client, HTTP_ORIGIN="http://evil.example").status_code == 403
    assert post(client).status_code == 204


def test_reports_must_be_posted(client, site):
    assert client.get(URL).status_code == 405
