"""Redaction by families of sensitive names: every spelling, every placement, additions and exceptions."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hoptrace.redaction import PLAIN_TEXT, REDACTED, Rules, redact, redact_query_string, redact_text, rules_from_env

SECRET = "Zq7Hx9Wv2Lp4"
# One spelling per family as people write them, with the prefixes and suffixes they add.
NAMES = ("password", "db_password", "PASSWD", "pwd", "userPassword", "passphrase", "secret", "client_secret",
         "clientSecret", "AWS_SECRET_ACCESS_KEY", "token", "access_token", "refresh_token", "x-auth-token",
         "idToken", "X-Amz-Security-Token", "api_key", "apikey", "x-api-key", "API-KEY", "apiKey", "Api Key",
         "auth", "authorization", "Proxy-Authorization", "oauth_token", "credential", "credentials", "session",
         "sessionId", "session_token", "cookie", "set-cookie", "signature", "X-Amz-Signature", "private_key",
         "privateKey", "ssh-private-key", "jwt", "csrf_token", "xsrf", "access_key", "pass", "sig")
TEXT_FORMS = ("{n}={v}", "{n}: {v}", "{n} = {v}", '"{n}": "{v}"', "'{n}': '{v}'", '{{"{n}":"{v}","page":1}}',
              "error calling https://api.example.com/v1/items?{n}={v}&page=2 (HTTP 500)",
              "ValueError: bad request {{'{n}': '{v}', 'qty': 2}}", 'body="{{\\"{n}\\":\\"{v}\\"}}"',
              "header {n}: Bearer {v}", "{n}={v}; Path=/; HttpOnly")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("form", TEXT_FORMS)
def test_every_family_spelling_is_redacted_in_every_free_text_form(name: str, form: str) -> None:
    # GIVEN a name of a sensitive family in one of the ways text carries a pair
    text = form.format(n=name, v=SECRET)
    # WHEN it is redacted / THEN the value is gone and the name (the clue for a reader) stays
    cleaned = redact_text(text)
    assert SECRET not in cleaned
    assert REDACTED in cleaned and name in cleaned


@pytest.mark.parametrize("name", NAMES)
def test_every_family_spelling_is_redacted_as_a_payload_key_at_any_depth_and_in_json_bodies(name: str) -> None:
    event = {"a": [{"b": {name: SECRET}}], "body": json.dumps({"deep": {name: SECRET}}),
             "encoded": base64.b64encode(json.dumps({name: SECRET}).encode()).decode()}
    cleaned = json.dumps(redact(event))
    assert SECRET not in cleaned
    assert base64.b64encode(SECRET.encode())[:8].decode() not in cleaned


@pytest.mark.parametrize("name", NAMES)
def test_every_family_spelling_is_redacted_as_a_query_parameter(name: str) -> None:
    assert SECRET not in redact_query_string(f"page=2&{name}={SECRET}&sort=asc")
    assert "page=2" in redact_query_string(f"page=2&{name}={SECRET}&sort=asc")


@pytest.mark.parametrize("text", [
    "postgres://admin:hunter2secret@db.internal:5432/orders", "https://user:hunter2secret@example.com/x",
    "clone https://hunter2secret0123456789@github.com/org/repo.git failed",
    "Authorization: Basic hunter2secret", "sent Bearer hunter2secret.abc.def",
    "key=hunter2secret&maps=1", "-----BEGIN RSA PRIVATE KEY-----\nhunter2secret\n-----END RSA PRIVATE KEY-----",
])
def test_url_userinfo_bearer_tokens_bare_key_parameters_and_pem_keys_are_redacted(text: str) -> None:
    assert "hunter2secret" not in redact_text(text)


@pytest.mark.parametrize("text", [
    "the author: Bob", "GET /orders/123 took 41 ms", "max_tokens=512", "arn:aws:lambda:us-east-1:1:function:f",
    'File "/var/task/auth.py", line 3, in handler', "monkey=3", "SignatureVersion=1", "keyboard: us",
    "KeyError: 'password'", "partition_key=user-1",
])
def test_text_without_a_secret_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize("name", ["authorId", "author", "monkey", "s3_key", "partition_key", "max_tokens",
                                  "signatureVersion", "sessionCount", "keyword", "passenger_count"])
def test_names_outside_the_families_are_not_sensitive(name: str) -> None:
    assert redact({name: "visible"}) == {name: "visible"}


def test_flags_named_like_a_family_are_kept_since_a_boolean_is_no_secret() -> None:
    assert redact({"session": True, "token": None, "password": 1234}) == {"session": True, "token": None,
                                                                         "password": REDACTED}


def test_additions_and_exceptions_come_from_the_environment() -> None:
    # GIVEN HOPTRACE_REDACT_KEYS adds a family and HOPTRACE_REDACT_ALLOW exempts one name
    rules = rules_from_env({"HOPTRACE_REDACT_KEYS": "card_number, cvv", "HOPTRACE_REDACT_ALLOW": "session_id"})
    # THEN the family matches in every spelling, and the exempt name (only it) is kept
    assert rules.structure({"cardNumber": "4111", "x-card-number": "4111", "cvv": "123"}) == {
        "cardNumber": REDACTED, "x-card-number": REDACTED, "cvv": REDACTED}
    assert rules.text("card-number=4111 cvv: 123") == f"card-number={REDACTED} cvv: {REDACTED}"
    assert rules.structure({"session_id": "abc", "sessionToken": "t"}) == {"session_id": "abc",
                                                                          "sessionToken": REDACTED}
    assert rules.text("SessionId=abc") == "SessionId=abc"


def test_attributes_keep_their_dict_when_nothing_is_sensitive() -> None:
    attributes = {"http.route": "/orders", "faas.coldstart": False, "url.query": "page=1"}
    assert Rules().attributes(attributes) is attributes
    cleaned = Rules().attributes({"http.request.header.x-auth-token": "t", "exception.message": "pwd=abc"})
    assert cleaned == {"http.request.header.x-auth-token": REDACTED, "exception.message": f"pwd={REDACTED}"}


_SEPARATORS = st.sampled_from(["", "_", "-", ".", " "])
_FAMILY_WORDS = st.sampled_from([("pass", "word"), ("secret",), ("api", "key"), ("access", "token"),
                                 ("private", "key"), ("auth",), ("credential",), ("session",), ("cookie",),
                                 ("signature",), ("refresh", "token"), ("client", "secret"), ("passwd",)])
_AFFIX = st.sampled_from(["", "x", "db", "my", "user", "app", "github", "stripe"])


@st.composite
def family_names(draw: st.DrawFn) -> str:
    """Any spelling of a family member: case, separators, prefixes and suffixes."""
    family = draw(_SEPARATORS).join(draw(_FAMILY_WORDS))  # "api key" is a name in prose, too
    joiner = draw(_SEPARATORS.filter(lambda s: s != " "))  # … but "api key id" is prose, not a name
    words = [draw(_AFFIX), family, draw(st.sampled_from(["", "value", "header", "string"]))]
    name = joiner.join(w for w in words if w)
    return draw(st.sampled_from([name, name.upper(), name.title(), name.lower()]))


@settings(max_examples=300, deadline=None)
@given(name=family_names(), secret=st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/_",
                                           min_size=10, max_size=40), form=st.sampled_from(TEXT_FORMS))
def test_property_no_family_member_leaks_its_value_in_any_form(name: str, secret: str, form: str) -> None:
    assert secret not in redact_text(form.format(n=name, v=secret))
    if " " not in name:
        assert secret not in json.dumps(redact({"outer": {name: secret}}))


_PLAIN_WORDS = st.sampled_from(["token", "Bearer", "BEARER", "-----BEGIN", "PRIVATE", "KEY-----", "password", "pwd",
                                "api-key", "secret", "key", "pw", "sig", "otp", "https", "c6af9ac6-7b61", "x", "."])


@settings(max_examples=300, deadline=None)
@given(words=st.lists(_PLAIN_WORDS, max_size=8), joiner=st.sampled_from(["", "-", "_", "."]))
def test_property_text_taken_as_plain_holds_nothing_the_rules_would_mask(words: list[str], joiner: str) -> None:
    # GIVEN id-like text full of family words and secret markers, but without whitespace, `=` or `:`
    text = joiner.join(words)
    assert PLAIN_TEXT(text) is not None
    # WHEN the full search runs over it (what `Rules.text` skips for such text), with extra families too
    # THEN nothing in it is masked
    for rules in (Rules(), Rules(frozenset({"bench", "x"}))):
        assert rules._search(text) == text


@pytest.mark.parametrize("text", ["Bearer abcdefgh12345678", "password=hunter22", "https://user:pa55w0rd@host/x",
                                  "token: abcdef", "-----BEGIN RSA PRIVATE KEY-----abc"])
def test_text_with_a_secret_is_never_taken_as_plain(text: str) -> None:
    assert PLAIN_TEXT(text) is None
    assert REDACTED in Rules().text(text)
