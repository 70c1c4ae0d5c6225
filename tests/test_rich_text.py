"""What cleaning a body or a signature removes, said to the writer; plain text as paragraphs."""

from outreach.rich_text import clean, has_text, paragraphs, sanitize_html


def test_what_the_cleaning_removes_is_said_in_words():
    pasted = (
        '<p style="color:red">Hi</p><p class="x" style="margin:0">there</p>'
        '<p><img src="https://tracker.example/p.gif"><span style="font-weight:700">bold</span></p>'
        "<script>alert(1)</script><h2>Role</h2>"
        '<table><tr><td style="x">cell</td></tr></table><a href="javascript:alert(1)">x</a>'
    )
    cleaned = clean(pasted)
    assert cleaned.html == sanitize_html(pasted)
    assert "<img" not in cleaned.html and "style" not in cleaned.html
    assert cleaned.removed == [
        "an image",
        "text formatting",
        "a script",
        "a heading",
        "a table",
        "the style on 2 elements",
        "the class on an element",
        'the address of a link ("javascript:alert(1)"): '
        "only web (http, https) and mailto addresses work in an email",
    ]
    assert cleaned.summary.startswith(
        "We removed what an email can't carry: an image, text formatting, a script, a heading, "
    )


def test_nothing_is_reported_for_what_the_editor_writes():
    written = (
        "<p>Hi <strong>{{first_name}}</strong>, <em>see</em> "
        '<a href="https://acme.example/jobs" rel="noopener noreferrer">the role</a>.</p>'
        "<ul><li>Remote</li></ul><ol><li>Apply</li></ol>"
    )
    cleaned = clean(written)
    assert cleaned.removed == [] and cleaned.summary == ""
    assert cleaned.html == written


def test_a_script_counts_once_whatever_it_holds():
    assert clean("<p>a</p><script><img src=x><script>b</script></script>").removed == ["a script"]


def test_a_plain_text_body_becomes_paragraphs_and_line_breaks():
    typed = "Hi {{first_name}},\r\n\r\nA role at <b>Acme</b>.\nRemote.\n\n\n\nRick"
    assert paragraphs(typed) == (
        "<p>Hi {{first_name}},</p><p>A role at <b>Acme</b>.<br>Remote.</p><p>Rick</p>"
    )
    assert sanitize_html(typed) == paragraphs(typed)
    # Written as HTML, or a single line: left as it is.
    assert paragraphs("<p>a</p>\n\n<p>b</p>") == "<p>a</p>\n\n<p>b</p>"
    assert paragraphs("Hi there") == "Hi there"


def test_an_emptied_editor_has_no_text():
    assert not has_text("<p><br></p><p>&nbsp; </p>")
    assert has_text("<p><strong>Rick</strong></p>")


def test_attributes_are_named_as_a_writer_knows_them():
    pasted = '<div dir="ltr" onclick="x()">a</div><a href="https://x.example" target="_blank">b</a>'
    assert clean(pasted).removed == [
        "the text direction on an element",
        "the onclick script on an element",
        "the new-window setting on an element",
    ]
