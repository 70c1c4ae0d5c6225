"""Tokens, rendering, sanitizing and the plain-text part: pure functions, no database."""

import gc
import time
from collections.abc import Callable

import pytest

from sequences.templating import (
    MAX_EMAIL_BYTES,
    SAMPLE_VALUES,
    TOKENS,
    EmailTooLong,
    MissingValue,
    ProspectValues,
    SenderValues,
    TemplateError,
    Token,
    UnknownToken,
    find_tokens,
    html_to_text,
    missing_tokens,
    render,
    render_stage,
    sanitize_html,
    validate,
    validate_stage,
    values_for,
)

VALUES = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "full_name": "Ada Lovelace",
    "company": "Analytical & Co <Engines>",
    "title": "Mathematician",
    "sender_first_name": "Sam",
    "sender_full_name": "Sam Rivera",
    "sender_email": "sam@acme.example",
    "custom.school": "King's College",
}


def shape(tokens: list[Token]) -> list[tuple[str, str | None, str]]:
    return [(t.name, t.fallback, t.raw) for t in tokens]


# The token list -----------------------------------------------------------------------------------


def test_tokens_list_the_built_ins_in_picker_order_with_examples():
    assert [t.name for t in TOKENS] == [
        "first_name",
        "last_name",
        "full_name",
        "company",
        "title",
        "sender_first_name",
        "sender_full_name",
        "sender_email",
    ]
    assert all(t.label and t.example for t in TOKENS)
    assert TOKENS[0].placeholder == "{{first_name}}"
    name, label, example = TOKENS[0]
    assert (name, label, example) == ("first_name", "First name", "Alex")


def test_sample_values_render_every_built_in_token():
    template = " ".join(t.placeholder for t in TOKENS)
    assert render(template, SAMPLE_VALUES, html=False) == " ".join(t.example for t in TOKENS)


# Finding and validating ---------------------------------------------------------------------------


def test_find_tokens_reads_names_fallbacks_and_raw_text():
    template = "Hi {{first_name}}, {{ company | your team }} and {{custom.school-name|a school}}"
    assert shape(find_tokens(template)) == [
        ("first_name", None, "{{first_name}}"),
        ("company", "your team", "{{ company | your team }}"),
        ("custom.school-name", "a school", "{{custom.school-name|a school}}"),
    ]
    first = find_tokens(template)[0]
    assert template[first.start : first.end] == "{{first_name}}"


def test_fallback_may_hold_spaces_and_punctuation():
    [token] = find_tokens("{{first_name|dear friend, & co. (hi!)}}")
    assert token.fallback == "dear friend, & co. (hi!)"


def test_a_valid_template_has_no_problems():
    assert validate("Hi {{ first_name }}, {{custom.a_b-9}} at {{company|your company}}") == []
    assert validate("No tokens at all } or }} or {single}") == []


def test_unknown_token_is_named_as_written():
    problems = validate("Hi {{frist_name}}!")
    assert len(problems) == 1
    assert problems[0].startswith("Unknown token {{frist_name}}")
    assert "{{first_name}}" in problems[0]  # the suggestion


def test_every_problem_is_reported_in_order():
    problems = validate("{{nope}} {{}} {{company}} {{also_nope|x}}")
    assert problems == [
        "Unknown token {{nope}}",
        "Empty token {{}}",
        "Unknown token {{also_nope|x}}",
    ]


def test_the_same_problem_is_reported_once():
    assert validate("{{nope}} and {{nope}}") == ["Unknown token {{nope}}"]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hi {{first_name", 'Unclosed "{{" at character 4: "{{first_name"'),
        ("{{first_name, how {{company}}", 'Unclosed "{{" at character 1'),
        ("{{ }}", "Empty token {{ }}"),
        ("{{|there}}", "{{|there}} has a fallback but no token name"),
        ("{{first_name|}}", "Empty fallback in {{first_name|}}"),
        ("{{first_name|  }}", "Empty fallback in {{first_name|  }}"),
        ("{{first_name|a|b}}", 'The fallback in {{first_name|a|b}} can\'t contain "|" or "}"'),
        ("{{first_name|a}b}}", 'The fallback in {{first_name|a}b}} can\'t contain "|" or "}"'),
        ("{{First_Name}}", "Unknown token {{First_Name}}"),
        ("{{first name}}", "Unknown token {{first name}}"),
        ("{{custom.}}", "Unknown token {{custom.}}: a custom field name uses only"),
        ("{{custom.a b}}", "Unknown token {{custom.a b}}: a custom field name uses only"),
        ("{{custom.a.b}}", "Unknown token {{custom.a.b}}"),
    ],
)
def test_malformed_tokens_are_reported(template, expected):
    problems = validate(template)
    assert len(problems) == 1
    assert problems[0].startswith(expected)


def test_unclosed_brace_names_a_snippet_of_the_text_that_follows():
    [problem] = validate("Hello there {{first_name and a long sentence after it")
    assert problem == 'Unclosed "{{" at character 13: "{{first_name and a long…"'


def test_unclosed_then_valid_token_reports_only_the_unclosed_one():
    assert len(validate("{{first_name {{company}}")) == 1
    assert shape(find_tokens("{{first_name {{company}}")) == [("company", None, "{{company}}")]


# No code execution --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "{{7*7}}",
        "{{ 7*7 }}",
        "{{ first_name.__class__ }}",
        "{{ first_name.__class__.__mro__ }}",
        "{{ config }}",
        "{{ request.user }}",
        "{{ lipsum.__globals__ }}",
        "{{ ''.__class__ }}",
    ],
)
def test_expressions_are_unknown_tokens_and_never_evaluate(template):
    [problem] = validate(template)
    assert problem.startswith(f"Unknown token {template}")
    with pytest.raises(UnknownToken):
        render(template, VALUES, html=False)
    with pytest.raises(UnknownToken):
        render(template, VALUES, html=True)


def test_jinja_filter_syntax_is_just_a_fallback():
    assert validate("{{ first_name|upper }}") == []
    assert render("{{ first_name|upper }}", VALUES, html=False) == "Ada"
    assert render("{{ first_name|upper }}", {}, html=False) == "upper"
    assert validate("{{ x|upper }}") == ["Unknown token {{ x|upper }}"]


@pytest.mark.parametrize(
    "text",
    [
        "{% load static %}{% static 'x' %}",
        "{% for x in y %}{% endfor %}",
        "{# comment #}",
        "{%- if true %}",
        "${7*7} #{7*7} <%= 7*7 %>",
    ],
)
def test_template_language_tags_are_plain_text(text):
    assert validate(text) == []
    assert render(text, VALUES, html=False) == text


# Rendering ----------------------------------------------------------------------------------------


def test_values_replace_tokens():
    rendered = render(
        "Hi {{first_name}} ({{ title }}) from {{sender_full_name}}", VALUES, html=False
    )
    assert rendered == "Hi Ada (Mathematician) from Sam Rivera"


def test_fallback_is_used_when_the_value_is_missing_empty_or_blank():
    for values in ({}, {"first_name": None}, {"first_name": ""}, {"first_name": " \t\n"}):
        assert render("Hi {{first_name|there}},", values, html=False) == "Hi there,"


def test_value_wins_over_fallback():
    assert render("Hi {{first_name|there}},", VALUES, html=False) == "Hi Ada,"


def test_values_are_stripped():
    assert render("Hi {{first_name}},", {"first_name": "  Ada \n"}, html=False) == "Hi Ada,"


@pytest.mark.parametrize("value", [None, "", "   ", "\n"])
def test_missing_value_without_fallback_names_the_token(value):
    values = {**VALUES, "company": value}
    with pytest.raises(MissingValue) as caught:
        render("At {{ company }}", values, html=True)
    assert caught.value.token == "company"
    assert str(caught.value) == "No value for {{company}}"
    assert isinstance(caught.value, TemplateError)


def test_custom_fields_render_and_can_be_missing():
    assert render("{{custom.school}}", VALUES, html=False) == "King's College"
    assert render("{{custom.degree|a degree}}", VALUES, html=False) == "a degree"
    with pytest.raises(MissingValue) as caught:
        render("{{custom.degree}}", VALUES, html=False)
    assert str(caught.value) == "No value for {{custom.degree}}"


def test_unknown_token_at_render_time_is_refused():
    with pytest.raises(UnknownToken) as caught:
        render("Hi {{frist_name|there}}", VALUES, html=False)
    assert caught.value.token == "frist_name"
    assert str(caught.value) == "Unknown token {{frist_name|there}}"


def test_malformed_template_is_refused_at_render_time():
    with pytest.raises(TemplateError, match="Unclosed"):
        render("Hi {{first_name", VALUES, html=False)
    with pytest.raises(TemplateError, match="Empty token"):
        render("Hi {{}}", VALUES, html=True)


def test_html_mode_escapes_values_and_fallbacks():
    assert (
        render("<p>{{company}}</p>", VALUES, html=True)
        == "<p>Analytical &amp; Co &lt;Engines&gt;</p>"
    )
    assert render("<p>{{custom.x|&lt;b&gt; &amp;}}</p>", {}, html=True) == "<p>&lt;b&gt; &amp;</p>"
    assert render("<p>{{custom.school}}</p>", VALUES, html=True) == "<p>King&#x27;s College</p>"


def test_text_mode_carries_values_as_they_are():
    assert render("{{company}}", VALUES, html=False) == "Analytical & Co <Engines>"
    assert render("{{custom.x|<b>&</b>}}", {}, html=False) == "<b>&</b>"


def test_fallback_written_in_html_is_decoded_then_escaped_once():
    # The editor stores "Smith & Co" typed in a fallback as "Smith &amp; Co".
    body = sanitize_html("<p>{{company|Smith & Co}}</p>")
    assert body == "<p>{{company|Smith &amp; Co}}</p>"
    assert render(body, {}, html=True) == "<p>Smith &amp; Co</p>"
    assert shape(find_tokens(body, html=True)) == [
        ("company", "Smith & Co", "{{company|Smith &amp; Co}}")
    ]


def test_nbsp_from_the_editor_counts_as_a_space_inside_braces():
    assert render("<p>{{&nbsp;first_name&nbsp;}}</p>", VALUES, html=True) == "<p>Ada</p>"


def test_a_value_containing_a_token_is_not_rendered_again():
    values = {**VALUES, "first_name": "{{company}}", "last_name": "{{ 7*7 }}"}
    assert render("{{first_name}} {{last_name}}", values, html=False) == "{{company}} {{ 7*7 }}"
    assert render("{{first_name}}", values, html=True) == "{{company}}"


def test_a_fallback_containing_a_brace_is_not_rendered_again():
    assert render("{{first_name|{x}}", {}, html=False) == "{x"
    assert render("Hi {{first_name|{there}}", {}, html=False) == "Hi {there"


def test_rendered_text_never_keeps_a_token():
    template = "{{first_name|there}} {{ company }} {{custom.school}}"
    rendered = render(template, VALUES, html=True)
    assert "{{" not in rendered and "}}" not in rendered


# Tokens in links ----------------------------------------------------------------------------------


def test_a_token_in_a_link_address_survives_sanitizing_and_is_reported():
    body = sanitize_html('<p><a href="https://x.example/{{custom.slug}}">book</a></p>')
    assert 'href="https://x.example/{{custom.slug}}"' in body
    assert validate(body, html=True) == [
        "{{custom.slug}} can't be used in a link address or another HTML attribute"
    ]
    with pytest.raises(TemplateError, match="link address"):
        render(body, {"custom.slug": "javascript:alert(1)"}, html=True)


def test_a_link_address_made_only_of_a_token_is_reported_too():
    body = sanitize_html('<a href="{{custom.url}}">x</a>')
    assert 'href="{{custom.url}}"' in body
    assert validate(body, html=True) == [
        "{{custom.url}} can't be used in a link address or another HTML attribute"
    ]


def test_a_token_as_link_text_is_fine():
    body = sanitize_html('<a href="https://x.example/">{{company}}</a>')
    assert validate(body, html=True) == []
    assert render(body, {"company": "A&B"}, html=True) == (
        '<a href="https://x.example/" rel="noopener noreferrer">A&amp;B</a>'
    )


def test_a_formatted_token_is_reported():
    body = sanitize_html("<p>{{first_<b>name</b>}}</p>")
    [problem] = validate(body, html=True)
    assert "contains formatting" in problem


def test_quoted_angle_bracket_does_not_end_a_tag():
    assert validate('<a title="a > b {{company}}" href="https://x.example">x</a>', html=True) == [
        "{{company}} can't be used in a link address or another HTML attribute"
    ]


def test_angle_brackets_in_a_subject_are_not_tags():
    assert validate("Re: <b {{first_name}}>") == []


def test_validate_stage_checks_the_subject_as_text_and_the_body_as_html():
    assert validate_stage("Hi {{frist_name}}", '<a href="https://x/{{company}}">x</a>') == [
        "Unknown token {{frist_name}} (did you mean {{first_name}}?)",
        "{{company}} can't be used in a link address or another HTML attribute",
    ]


# Long bodies --------------------------------------------------------------------------------------


def fastest(run: Callable[[], object], *, enough: float = 0.0) -> float:
    """Seconds of the fastest of three runs, stopping at the first one within `enough`; without
    the garbage collector, as timeit does, so that its passes do not blur the measure."""
    best = float("inf")
    gc.disable()
    try:
        for _ in range(3):
            began = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - began)
            if best <= enough:
                break
    finally:
        gc.enable()
    return best


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("pattern", "html"),
    [
        # Opening braces with nothing closing them, in a subject and in a body.
        ("{{", False),
        ("{{a", True),
        # Many tokens between many tags.
        ("<b>{{first_name}}</b>", True),
    ],
)
def test_scanning_takes_time_in_proportion_to_the_text(pattern, html):
    # 100 times the text: about 100 times the time when linear, 10,000 times when quadratic
    # (minutes for the megabyte, so the timeout fails the test first). find_tokens has no size
    # limit, so this is the scan itself on a text far over it.
    small = pattern * (10_000 // len(pattern))
    large = pattern * (1_000_000 // len(pattern))
    small_seconds = fastest(lambda: find_tokens(small, html=html))
    large_seconds = fastest(lambda: find_tokens(large, html=html), enough=300 * small_seconds)
    assert large_seconds / small_seconds < 300


def test_a_body_over_the_size_limit_is_refused_with_its_size():
    body = "<p>" + "a" * 1_200_000 + "</p>"
    message = "This email is too long (1.2 MB); keep it under 200 KB."
    assert validate(body, html=True) == [message]
    assert validate_stage("Hi", body) == [message]
    with pytest.raises(EmailTooLong, match=r"\(1\.2 MB\)"):
        render(body, VALUES, html=True)
    with pytest.raises(TemplateError, match="too long"):
        render_stage("Hi", body, VALUES)


def test_the_size_limit_counts_bytes_and_the_limit_itself_is_fine():
    at_limit = "a" * MAX_EMAIL_BYTES
    assert validate(at_limit, html=True) == []
    assert render(at_limit, {}, html=True) == at_limit
    # Two bytes each in UTF-8: under the limit in characters, over it in bytes.
    accented = "é" * (MAX_EMAIL_BYTES // 2 + 1)
    assert validate(accented, html=True) == [
        "This email is too long (201 KB); keep it under 200 KB."
    ]


# Missing values for the enrollment check ----------------------------------------------------------


def test_missing_tokens_reports_all_of_them_once_in_order():
    templates = [
        "Hi {{first_name}} at {{company}}",
        "<p>{{custom.school}} {{title|your role}} {{company}} {{custom.team}}</p>",
    ]
    values = {"first_name": "Ada", "company": " ", "custom.school": ""}
    assert missing_tokens(templates, values) == ["company", "custom.school", "custom.team"]


def test_missing_tokens_is_empty_when_everything_has_a_value_or_fallback():
    assert missing_tokens(["{{first_name}} {{company|you}}"], {"first_name": "Ada"}) == []


# Values for a prospect and sender -----------------------------------------------------------------


def test_values_for_builds_full_names_and_custom_fields():
    values = values_for(
        ProspectValues(
            first_name=" Ada ",
            last_name="Lovelace",
            company="Analytical",
            title="Countess",
            custom={"school": "King's", "year": 1843, "score": 9.5, "tags": ["a"], "bad key": "x"},
        ),
        SenderValues(full_name="  Sam   Rivera ", email="sam@acme.example"),
    )
    assert values == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "full_name": "Ada Lovelace",
        "company": "Analytical",
        "title": "Countess",
        "sender_first_name": "Sam",
        "sender_full_name": "Sam Rivera",
        "sender_email": "sam@acme.example",
        "custom.school": "King's",
        "custom.year": "1843",
        "custom.score": "9.5",
    }


def test_values_for_with_one_name_part_or_none():
    only_last = values_for(ProspectValues(last_name="Lovelace"), SenderValues("Sam", "s@x.example"))
    assert only_last["full_name"] == "Lovelace"
    assert only_last["sender_first_name"] == "Sam"
    nothing = values_for(ProspectValues(), SenderValues())
    assert nothing["full_name"] == "" and nothing["sender_first_name"] == ""
    with pytest.raises(MissingValue):
        render("{{full_name}}", nothing, html=False)


def test_values_for_drops_lists_booleans_and_nulls_so_they_count_as_missing():
    values = values_for(
        ProspectValues(custom={"tags": ["a", "b"], "ok": True, "none": None}), SenderValues()
    )
    assert missing_tokens(["{{custom.tags}} {{custom.ok}} {{custom.none}}"], values) == [
        "custom.tags",
        "custom.ok",
        "custom.none",
    ]


# A whole stage ------------------------------------------------------------------------------------


def test_render_stage_escapes_in_html_only():
    body = sanitize_html("<p>Hi {{first_name}},</p><p>How is {{company}}?</p>")
    email = render_stage("{{company}}: a question", body, VALUES)
    assert email.subject == "Analytical & Co <Engines>: a question"
    assert email.html == "<p>Hi Ada,</p><p>How is Analytical &amp; Co &lt;Engines&gt;?</p>"
    assert email.text == "Hi Ada,\n\nHow is Analytical & Co <Engines>?"


def test_render_stage_subject_cannot_inject_headers():
    values = {**VALUES, "company": "Acme\r\nBcc: victim@example.com\r\n\r\nbody", "title": "a\x00b"}
    email = render_stage("About {{company}} {{title}}", "<p>{{company}}</p>", values)
    assert email.subject == "About Acme Bcc: victim@example.com body a b"
    assert "\r" not in email.subject and "\n" not in email.subject
    assert email.text == "Acme Bcc: victim@example.com body"


def test_render_stage_collapses_line_breaks_written_in_the_subject_template():
    assert render_stage("Hello\n{{first_name}}\u2028!", "<p>x</p>", VALUES).subject == "Hello Ada !"


def test_render_stage_refuses_a_missing_value_in_either_part():
    with pytest.raises(MissingValue, match=r"\{\{custom.team\}\}"):
        render_stage("Hi", "<p>{{custom.team}}</p>", VALUES)
    with pytest.raises(MissingValue, match=r"\{\{custom.team\}\}"):
        render_stage("{{custom.team}}", "<p>Hi</p>", VALUES)


# Sanitizing ---------------------------------------------------------------------------------------


def test_sanitizer_keeps_the_safelist():
    html = (
        "<p>a<br><strong>b</strong><b>c</b><em>d</em><i>e</i><u>f</u></p>"
        "<ul><li>g</li></ul><ol><li>h</li></ol><blockquote>i</blockquote><div>j</div>"
    )
    assert sanitize_html(html) == html


def test_sanitizer_keeps_http_https_and_mailto_links_with_rel():
    assert sanitize_html('<a href="https://x.example/a?b=1&amp;c=2">x</a>') == (
        '<a href="https://x.example/a?b=1&amp;c=2" rel="noopener noreferrer">x</a>'
    )
    assert sanitize_html('<a href="http://x.example" target="_blank">x</a>') == (
        '<a href="http://x.example" rel="noopener noreferrer">x</a>'
    )
    assert sanitize_html('<a href="mailto:a@x.example" rel="opener">m</a>') == (
        '<a href="mailto:a@x.example" rel="noopener noreferrer">m</a>'
    )


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java&#x09;script:alert(1)",
        " javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "ftp://x.example/file",
        "/relative/path",
        "//evil.example/",
    ],
)
def test_sanitizer_drops_other_link_addresses(href):
    assert sanitize_html(f'<a href="{href}">x</a>') == '<a rel="noopener noreferrer">x</a>'


def test_sanitizer_strips_scripts_styles_handlers_and_images():
    html = (
        '<p onclick="steal()" style="color:red" class="x" id="y">Hello</p>'
        "<script>alert(1)</script><style>p { color: red }</style>"
        '<img src="https://tracker.example/pixel.gif" onerror="alert(1)">'
        '<iframe src="https://x.example">frame</iframe><svg onload="alert(1)"></svg>'
        '<span style="font-weight:bold">span</span><h1>Title</h1><!-- comment -->'
        '<form action="https://x.example"><input name="q"></form><table><tr><td>t</td></tr></table>'
    )
    assert sanitize_html(html) == "<p>Hello</p>spanTitlet"


def test_sanitizer_keeps_tokens_unchanged():
    html = "<p>Hi {{ first_name | there }}, {{custom.school}} {{company|A. B. & C}}</p>"
    assert sanitize_html(html) == (
        "<p>Hi {{ first_name | there }}, {{custom.school}} {{company|A. B. &amp; C}}</p>"
    )


# Plain text ---------------------------------------------------------------------------------------


def test_text_has_blank_lines_between_paragraphs_and_newlines_for_br():
    html = "<p>Hi Ada,</p>\n<p>line one<br>line two<br/>  line three</p><div>signed</div>"
    assert html_to_text(html) == "Hi Ada,\n\nline one\nline two\nline three\n\nsigned"


def test_text_collapses_whitespace_like_a_browser():
    assert html_to_text("<p>  a \n  b\t c  </p>  <p>   </p>\n<p><br></p><p>d&nbsp;e</p>") == (
        "a b c\n\nd e"
    )


def test_text_writes_links_as_text_and_address():
    html = (
        '<p>See <a href="https://x.example/jobs">our jobs</a>, '
        '<a href="https://x.example">https://x.example</a>, '
        '<a href="mailto:sam@x.example">sam@x.example</a>, '
        '<a href="mailto:sam@x.example">write me</a>, <a href="https://x.example/e"></a> '
        "and <a>no address</a>.</p>"
    )
    assert html_to_text(html) == (
        "See our jobs (https://x.example/jobs), https://x.example, sam@x.example, "
        "write me (mailto:sam@x.example), https://x.example/e and no address."
    )


def test_text_writes_lists_as_dashes_numbers_and_indents():
    html = (
        "<p>Why:</p><ul><li>one</li><li>two<ul><li>two a</li></ul></li>"
        "<li><p>three</p></li></ul><ol><li>first</li><li>second</li></ol><p>Bye</p>"
    )
    assert html_to_text(html) == (
        "Why:\n\n- one\n- two\n  - two a\n- three\n\n1. first\n2. second\n\nBye"
    )


def test_text_quotes_blockquotes():
    html = "<p>Earlier:</p><blockquote><p>one</p><p>two<br>three</p></blockquote><p>ok</p>"
    assert html_to_text(html) == "Earlier:\n\n> one\n>\n> two\n> three\n\nok"


def test_text_unescapes_entities_and_drops_tags():
    assert html_to_text("<p>A &amp; B &lt;c&gt; &quot;d&quot; &#39;e&#39; &eacute;</p>") == (
        "A & B <c> \"d\" 'e' é"
    )
    assert html_to_text("<p><b>bold</b> <i>it</i><u>u</u></p><script>x()</script>") == "bold itu"


def test_text_of_plain_text_and_of_nothing():
    assert html_to_text("just text") == "just text"
    assert html_to_text("") == ""
    assert html_to_text("<p></p><p> </p>") == ""


# Plain-text bodies and signatures -----------------------------------------------------------------


def test_a_plain_text_body_is_sent_as_its_paragraphs():
    email = render_stage("Hi", "Hi {{first_name}},\n\nA role for you.\nRemote.", VALUES)
    assert email.html == "<p>Hi Ada,</p><p>A role for you.<br>Remote.</p>"
    assert email.text == "Hi Ada,\n\nA role for you.\nRemote."


def test_the_signature_ends_both_parts_after_the_text_delimiter():
    email = render_stage(
        "Hi",
        '<p>Hi {{first_name}}, see <a href="https://acme.example/jobs">the role</a>.</p>',
        VALUES,
        signature_html="<p><strong>Rick Recruiter</strong><br>Acme</p>",
    )
    assert email.html.endswith(
        '<div class="signature"><p><strong>Rick Recruiter</strong><br>Acme</p></div>'
    )
    assert email.text == (
        "Hi Ada, see the role (https://acme.example/jobs).\n\n-- \nRick Recruiter\nAcme"
    )
