"""No slowdown or crash by input on the paths that parse what a prospect or a recruiter wrote:
a reply's HTML (read by the classifier), a stage body nested thousands deep, a body far over the
size limit (refused before it is cleaned)."""

import time

import pytest
from django.core.exceptions import ValidationError

from sequences import classifier, services, templating
from sequences.models import Stage
from tests.factories import SequenceFactory


def reply_with_html(markup: str) -> bytes:
    return (
        "From: Casey <casey@candidates.example>\r\nTo: rick@acme.example\r\n"
        "Subject: Re: A platform role\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n"
        f"<p>Happy to talk.</p>{markup}"
    ).encode()


@pytest.mark.parametrize("malformed", ["<!--", "<a", "</"])
def test_a_reply_full_of_malformed_html_is_classified_in_well_under_a_second(malformed):
    raw = reply_with_html(malformed * 100_000)  # 200 to 400 KB
    started = time.perf_counter()
    verdict = classifier.classify(raw)
    assert time.perf_counter() - started < 2
    assert verdict.kind == classifier.REPLY


def test_a_body_nested_thousands_deep_converts_to_text():
    body = "<blockquote>" * 5000 + "Hello {{first_name}}" + "</blockquote>" * 5000
    assert "Hello {{first_name}}" in templating.html_to_text(body)


@pytest.mark.django_db
def test_a_stage_body_far_over_the_limit_is_refused_before_it_is_cleaned(recruiter):
    sequence = SequenceFactory(owner=recruiter, stages=0)
    stage = Stage(sequence=sequence, subject="Hi", body_html="<ul><li>x" * 400_000)
    started = time.perf_counter()
    with pytest.raises(ValidationError, match="This email is too long"):
        services.save_stage(stage=stage, by=recruiter)
    assert time.perf_counter() - started < 1
