"""Tokens in email stages: finding, validating, rendering; sanitizing the rich-text body and
deriving its plain-text part.

Pure functions over strings, no models, so the same code serves the editor (validation at save,
token picker, live preview), the enrollment check and the send path.

Syntax: `{{name}}` or `{{name|fallback}}`, spaces allowed inside the braces. `name` is one of
`TOKENS` or `custom.<key>`. Rendering is a single pass of plain string substitution: no template
language ever runs on user text, and a value that itself contains `{{...}}` stays text.

Every `{{` in a template must open a valid token, otherwise validation fails and rendering
refuses, so a raw `{{...}}` can never reach a recipient. `}}` on its own is ordinary text.

Tokens are not allowed inside HTML tags (in practice: in a link's address). A value placed at
the start of an href could choose the URL scheme (`javascript:`) or host, and escaping for an
attribute is a different job from escaping text; refusing the case is simpler and safer than
URL-encoding values, and `validate(..., html=True)` says so at save.
"""

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape, unescape
from html.parser import HTMLParser
from typing import NamedTuple

from outreach import rich_text
from outreach.mail_headers import header_text


class TokenInfo(NamedTuple):
    name: str
    label: str
    example: str

    @property
    def placeholder(self) -> str:
        """What the token picker inserts."""
        return "{{" + self.name + "}}"


# Built-in tokens in picker order.
TOKENS: list[TokenInfo] = [
    TokenInfo("first_name", "First name", "Alex"),
    TokenInfo("last_name", "Last name", "Morgan"),
    TokenInfo("full_name", "Full name", "Alex Morgan"),
    TokenInfo("company", "Company", "Northwind Robotics"),
    TokenInfo("title", "Job title", "Staff Engineer"),
    TokenInfo("sender_first_name", "Sender's first name", "Sam"),
    TokenInfo("sender_full_name", "Sender's full name", "Sam Rivera"),
    TokenInfo("sender_email", "Sender's email", "sam.rivera@example.com"),
]
BUILTIN_TOKENS: frozenset[str] = frozenset(t.name for t in TOKENS)
CUSTOM_PREFIX = "custom."
CUSTOM_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")

# Values for a preview without a prospect. Custom fields have no sample: a preview of a stage that
# uses one needs a real prospect (or shows which token is missing).
SAMPLE_VALUES: dict[str, str] = {t.name: t.example for t in TOKENS}

# Gmail already clips an email whose HTML passes about 100 KB ("[Message clipped]"), and a
# recruiting email is a few paragraphs: a body past this is a paste gone wrong (a whole document,
# an inline image), not an email. It also bounds what every save, preview and send does with it.
MAX_EMAIL_BYTES = 200 * 1024


class TemplateError(ValueError):
    """A template that must not be rendered; the message is meant for the user."""


class UnknownToken(TemplateError):
    def __init__(self, token: str, raw: str | None = None):
        self.token = token
        self.raw = raw or "{{" + token + "}}"
        super().__init__(f"Unknown token {self.raw}")


class MissingValue(TemplateError):
    def __init__(self, token: str):
        self.token = token
        super().__init__(f"No value for {{{{{token}}}}}")


class EmailTooLong(TemplateError):
    def __init__(self, size: int):
        self.size = size
        super().__init__(
            f"This email is too long ({_file_size(size)}); "
            f"keep it under {_file_size(MAX_EMAIL_BYTES)}."
        )


@dataclass(frozen=True)
class Token:
    name: str
    fallback: str | None
    raw: str
    # Offsets of `raw` in the template.
    start: int
    end: int


def is_known(name: str) -> bool:
    if name in BUILTIN_TOKENS:
        return True
    key = name.removeprefix(CUSTOM_PREFIX)
    return key != name and CUSTOM_KEY_RE.fullmatch(key) is not None


def find_tokens(template: str, *, html: bool = False) -> list[Token]:
    """The well-formed tokens of `template` in order, known or not; malformed ones are left out
    (`validate` reports them). With `html`, the template is HTML source: entities inside a token
    are decoded, so `{{company|Smith &amp; Co}}` has the fallback "Smith & Co"."""
    return _scan(template, html)[0]


def validate(template: str, *, html: bool = False) -> list[str]:
    """Every problem in `template`, as messages for the user, in order of position; empty if it
    is fine. Pass `html=True` for a body so that tokens inside tags are reported."""
    try:
        _check_size(template)
    except EmailTooLong as error:
        return [str(error)]
    tokens, problems = _scan(template, html)
    found = list(problems)
    # Looking for a close match takes difflib a while: once per spelling, not per occurrence.
    unknown: dict[str, str] = {}
    for token in tokens:
        if not is_known(token.name):
            if token.raw not in unknown:
                unknown[token.raw] = _unknown_message(token)
            found.append((token.start, unknown[token.raw]))
    messages = [message for _, message in sorted(found, key=lambda p: p[0])]
    return list(dict.fromkeys(messages))


def validate_stage(subject: str, body_html: str) -> list[str]:
    """Every problem of an email stage's templates: the subject as text, the body as HTML."""
    return validate(subject) + validate(body_html, html=True)


def render(template: str, values: Mapping[str, str | None], *, html: bool) -> str:
    """`template` with each token replaced by its value, else its fallback.

    In HTML mode values and fallbacks are HTML-escaped; in text mode (subject, plain text) they
    are inserted as they are. Raises `TemplateError` for a malformed template, `EmailTooLong`,
    `UnknownToken` and `MissingValue` (value None, empty or blank, and no fallback)."""
    _check_size(template)
    tokens, problems = _scan(template, html)
    if problems:
        raise TemplateError(problems[0][1])
    for token in tokens:
        if not is_known(token.name):
            raise UnknownToken(token.name, token.raw)
    pieces = []
    position = 0
    for token in tokens:
        value = _value(values, token.name)
        if value is None:
            if token.fallback is None:
                raise MissingValue(token.name)
            value = token.fallback
        pieces += [template[position : token.start], escape(value) if html else value]
        position = token.end
    pieces.append(template[position:])
    return "".join(pieces)


def render_note(template: str, values: Mapping[str, str | None]) -> str:
    """`template` as plain text with each known token replaced by its value, else its fallback;
    a token with neither, an unknown one and a malformed one stay as typed. For text read by the
    team (a manual stage's instructions), never by a recipient: nothing is refused."""
    pieces = []
    position = 0
    for token in find_tokens(template):
        value = _value(values, token.name) if is_known(token.name) else None
        if value is None:
            value = token.fallback if is_known(token.name) else None
        if value is None:
            continue
        pieces += [template[position : token.start], value]
        position = token.end
    pieces.append(template[position:])
    return "".join(pieces)


def missing_tokens(templates: Iterable[str], values: Mapping[str, str | None]) -> list[str]:
    """Names of the tokens that have neither a value nor a fallback, each once, in order: the
    enrollment check reports them all at once. Unknown and malformed tokens are `validate`'s
    business, not this function's."""
    missing: dict[str, None] = {}
    for template in templates:
        for token in find_tokens(template):
            if token.fallback is None and _value(values, token.name) is None:
                missing[token.name] = None
    return list(missing)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def render_stage(
    subject: str, body_html: str, values: Mapping[str, str | None], *, signature_html: str = ""
) -> RenderedEmail:
    """The email for one prospect. `body_html` is the stored body, already through
    `sanitize_html` (a plain-text one from before the editor is read as paragraphs); the inserted
    values are escaped, so the result needs no second pass. `signature_html`, cleaned when it was
    saved and free of tokens, ends the email: after "-- " in the text part, the delimiter mail
    clients recognize, and in a div of its own in the HTML.

    The text part is derived from the rendered HTML, so values come out escaped in the HTML and
    as they are in the text, both from a single substitution."""
    rendered_html = render(rich_text.paragraphs(body_html), values, html=True)
    text = html_to_text(rendered_html)
    if signature_html:
        rendered_html += f'<div class="signature">{signature_html}</div>'
        text += "\n\n-- \n" + html_to_text(signature_html)
    return RenderedEmail(
        # The subject becomes a header: a line break from a value must not start another one.
        subject=header_text(render(subject, values, html=False)),
        html=rendered_html,
        text=text,
    )


@dataclass(frozen=True)
class ProspectValues:
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    title: str = ""
    custom: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SenderValues:
    full_name: str = ""
    email: str = ""


def values_for(prospect: ProspectValues, sender: SenderValues) -> dict[str, str]:
    """The token values for one prospect and sender. Blank values are kept as "" and count as
    missing when rendering."""
    first, last = prospect.first_name.strip(), prospect.last_name.strip()
    sender_name = " ".join(sender.full_name.split())
    values = {
        "first_name": first,
        "last_name": last,
        "full_name": " ".join(part for part in (first, last) if part),
        "company": prospect.company.strip(),
        "title": prospect.title.strip(),
        "sender_first_name": sender_name.split(" ")[0],
        "sender_full_name": sender_name,
        "sender_email": sender.email.strip(),
    }
    for key, value in prospect.custom.items():
        # Only scalars become text: a list or an object would come out as a Python repr, so it
        # counts as missing and blocks the enrollment instead.
        if (
            CUSTOM_KEY_RE.fullmatch(key)
            and isinstance(value, str | int | float)
            and not isinstance(value, bool)
        ):
            values[CUSTOM_PREFIX + key] = str(value)
    return values


# Sanitizing: outreach.rich_text, shared with the mailbox signature.

sanitize_html = rich_text.sanitize_html
DROPPED_WITH_CONTENT = rich_text.DROPPED_WITH_CONTENT


# Plain text.

_BLOCK_TAGS = frozenset(
    {"p", "div", "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre"}
    | {"table", "tr", "hr", "section", "article", "header", "footer", "address", "figure"}
)
_VOID_TAGS = frozenset({"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area"})
MAX_NESTING = 64
_WHITESPACE_RE = re.compile(r"\s+")


def html_to_text(html: str) -> str:
    """The plain-text part: paragraphs separated by blank lines, <br> as a line break, links as
    "text (url)" unless the text is the address, list items as "- item" ("1. item" in an ordered
    list, nested ones indented), quotes prefixed with "> ", entities decoded, no tags."""
    parser = _TreeBuilder()
    parser.feed(html)
    parser.close()
    return "\n\n".join(_blocks(parser.root.children))


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str]
    children: list["_Element | str"] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("", {})
        self._open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = _Element(tag, {name: value or "" for name, value in attrs})
        self._open[-1].children.append(element)
        # Past a depth no email has, what is inside stays at that depth: the text is kept and
        # the walk over the tree cannot run out of stack.
        if tag not in _VOID_TAGS and len(self._open) < MAX_NESTING:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open[-1].children.append(_Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        # Closes the nearest open element of that name and whatever was left open inside it; a
        # stray end tag is ignored.
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._open[-1].children.append(data)


def _blocks(children: list[_Element | str]) -> list[str]:
    """Paragraphs (each possibly several lines) of a run of nodes."""
    blocks: list[str] = []
    inline: list[str] = []

    def flush() -> None:
        paragraph = _paragraph("".join(inline))
        inline.clear()
        if paragraph:
            blocks.append(paragraph)

    for child in children:
        if isinstance(child, _Element) and child.tag in _BLOCK_TAGS:
            flush()
            blocks.extend(_block(child))
        else:
            inline.append(_inline(child))
    flush()
    return blocks


def _block(element: _Element) -> list[str]:
    if element.tag in ("ul", "ol"):
        listing = _list(element)
        return [listing] if listing else []
    if element.tag == "li":
        item = _item("- ", element)
        return [item] if item else []
    if element.tag == "blockquote":
        quoted = "\n\n".join(_blocks(element.children))
        if not quoted:
            return []
        return ["\n".join(f"> {line}" if line else ">" for line in quoted.split("\n"))]
    return _blocks(element.children)


def _list(element: _Element) -> str:
    lines = []
    number = 0
    for child in element.children:
        if isinstance(child, str):
            if child.strip():
                lines.append(f"- {_paragraph(_inline(child))}")
        elif child.tag in ("ul", "ol"):
            # A list directly inside a list, as some editors write a nested one.
            nested = _list(child)
            if nested:
                lines += [f"  {line}" for line in nested.split("\n")]
        else:
            number += 1
            item = _item(f"{number}. " if element.tag == "ol" else "- ", child)
            if item:
                lines.append(item)
    return "\n".join(lines)


def _item(marker: str, element: _Element) -> str:
    text = "\n".join(_blocks(element.children))
    if not text:
        return ""
    first, *rest = text.split("\n")
    indent = " " * len(marker)
    return "\n".join([marker + first, *(indent + line if line else "" for line in rest)])


def _inline(node: _Element | str) -> str:
    if isinstance(node, str):
        return _WHITESPACE_RE.sub(" ", node)
    if node.tag in DROPPED_WITH_CONTENT:
        return ""
    if node.tag == "br":
        return "\n"
    inner = "".join(_inline(child) for child in node.children)
    if node.tag == "a":
        return _link(inner, node.attrs.get("href", "").strip())
    if node.tag in _BLOCK_TAGS:
        return f"\n{inner}\n"
    return inner


def _link(inner: str, href: str) -> str:
    text = inner.strip()
    if not href or text in (href, href.removeprefix("mailto:")):
        return inner
    if not text:
        return href
    # Spaces around the link text belong to the sentence, not to the link.
    before = " " if inner.startswith(" ") else ""
    after = " " if inner.endswith(" ") else ""
    return f"{before}{text} ({href}){after}"


def _paragraph(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


# Parsing.


def _check_size(template: str) -> None:
    if too_long(template):
        raise EmailTooLong(len(template.encode("utf-8", "surrogatepass")))


def too_long(template: str) -> bool:
    """Over the limit: whoever cleans or converts a body asks first, so that the work done on a
    pasted document is never more than on an email."""
    return len(template.encode("utf-8", "surrogatepass")) > MAX_EMAIL_BYTES


def _file_size(size: int) -> str:
    # Rounded up: an email just over the limit must not read as being at it.
    if size < 1024 * 1024:
        return f"{math.ceil(size / 1024)} KB"
    return f"{math.ceil(size / (1024 * 1024) * 10) / 10:.1f} MB"


def _scan(template: str, html: bool) -> tuple[list[Token], list[tuple[int, str]]]:
    """The well-formed tokens and the (position, message) of every syntax problem.

    One pass, left to right, in time proportional to the text: each "{{", "}}" and tag is looked
    for once. (Looking for the closing braces again from every "{{", and through every tag for
    each token, made a long body take minutes of a worker.)"""
    tokens: list[Token] = []
    problems: list[tuple[int, str]] = []
    # Tags come in order and never overlap, so the only one that can hold a token is the first
    # one not ended before it.
    tags = iter(_tag_spans(template) if html else ())
    tag = next(tags, None)
    start = template.find("{{")
    # The first "}}" from `start + 2` on, or -1 when there is none left: found again only once
    # `start` has passed it.
    close = template.find("}}")
    while start != -1:
        # Where the next token starts, whether this one closes or not: its "}}" comes first.
        reopen = template.find("{{", start + 2)
        if -1 < close < start + 2:
            close = template.find("}}", start + 2)
        if close == -1 or -1 < reopen < close:
            problems.append(
                (start, f'Unclosed "{{{{" at character {start + 1}: "{_snippet(template, start)}"')
            )
            start = reopen
            continue
        end = close + 2
        raw = template[start:end]
        parsed = _parse_token(template[start + 2 : close], raw, html)
        while tag is not None and tag[1] <= start:
            tag = next(tags, None)
        if isinstance(parsed, str):
            problems.append((start, parsed))
        elif tag is not None and tag[0] < start:
            problems.append(
                (start, f"{raw} can't be used in a link address or another HTML attribute")
            )
        else:
            tokens.append(Token(parsed.name, parsed.fallback, raw, start, end))
        start = reopen
    return tokens, problems


class _Parsed(NamedTuple):
    name: str
    fallback: str | None


def _parse_token(inner: str, raw: str, html: bool) -> _Parsed | str:
    """The name and fallback between the braces, or what is wrong with them."""
    if html:
        if "<" in inner or ">" in inner:
            # In sanitized HTML a literal angle bracket can only be a tag: part of the token got
            # formatted (bold, a link...) in the editor.
            return f"{raw} contains formatting; type the token again as plain text"
        # The fallback is text of the HTML source: `&amp;` means "&". Rendering escapes it again.
        inner = unescape(inner)
    # A name never legitimately holds an entity, but an editor may write `&nbsp;` for a space
    # typed inside the braces of a subject or body alike.
    name, bar, fallback = inner.partition("|")
    name = unescape(name).strip()
    if not name and not bar:
        return f"Empty token {raw}"
    if not name:
        return f"{raw} has a fallback but no token name"
    if not bar:
        return _Parsed(name, None)
    if "|" in fallback or "}" in fallback:
        return f'The fallback in {raw} can\'t contain "|" or "}}"'
    fallback = fallback.strip()
    if not fallback:
        return f'Empty fallback in {raw}: write one or remove the "|"'
    return _Parsed(name, fallback)


def _tag_spans(html: str) -> list[tuple[int, int]]:
    """(start, end) of every tag in `html`, quoted attribute values included, so a `>` inside
    quotes does not end the tag."""
    spans = []
    position = 0
    while (start := html.find("<", position)) != -1:
        if not re.match(r"</?[A-Za-z!?]", html[start : start + 2]):
            position = start + 1
            continue
        index = start + 1
        quote = ""
        while index < len(html):
            char = html[index]
            if quote:
                if char == quote:
                    quote = ""
            elif char in "\"'":
                quote = char
            elif char == ">":
                break
            index += 1
        spans.append((start, index + 1))
        position = index + 1
    return spans


def _unknown_message(token: Token) -> str:
    message = f"Unknown token {token.raw}"
    if token.name.startswith(CUSTOM_PREFIX):
        return f"{message}: a custom field name uses only letters, digits, _ and -"
    close = difflib.get_close_matches(token.name, BUILTIN_TOKENS, n=1)
    if close:
        return f"{message} (did you mean {{{{{close[0]}}}}}?)"
    return message


def _snippet(template: str, start: int) -> str:
    snippet = " ".join(template[start : start + 24].split())
    return snippet + ("…" if len(template) > start + 24 else "")


def _value(values: Mapping[str, str | None], name: str) -> str | None:
    value = values.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()
