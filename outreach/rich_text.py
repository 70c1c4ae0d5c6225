"""Rich text the team writes for recipients (email bodies, signatures): the safelist it is cleaned
to, what the cleaning took out, said in words to whoever wrote it, and plain text written before
the editor existed read as paragraphs.

Here rather than in sequences because a signature belongs to the mailbox (senders) and is cleaned
by the same rules as the body it ends."""

import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "b", "em", "i", "u", "a", "ul", "ol", "li", "blockquote", "div"}
)
# `div`: browsers' contenteditable makes one per line; stripping it would run lines together.
# `span` is left out: without style or class attributes, which are not allowed, it carries
# nothing. `img` is left out too: users have no business adding remote images to cold email
# (they are how tracking pixels work, and the product adds its own open tracking at send time,
# where it can be controlled and switched off), images hurt deliverability, and every `src` would
# be one more URL to police.
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Their content is not text a recipient should read.
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "title", "head", "iframe", "noscript", "template", "textarea", "object"}
)


def sanitize_html(html: str) -> str:
    """The rich-text body reduced to the safelist: formatting, lists, quotes and links to http,
    https and mailto (with rel="noopener noreferrer"). Scripts, styles, event handlers, images and
    every other attribute go. Tokens come through unchanged, also in an href, so that the token
    check can report those. Plain text from before the editor becomes paragraphs first."""
    return nh3.clean(
        paragraphs(html),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={"a": {"href"}},
        attribute_filter=_filter_attribute,
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    # nh3 has already dropped hrefs with a scheme that is not allowed; it lets relative ones
    # through, which mean nothing in an email. Those holding a token stay for the token check.
    if tag == "a" and attribute == "href" and not _keeps_address(value):
        return None
    return value


def _keeps_address(href: str) -> bool:
    href = href.strip()
    if "{{" in href:
        return True
    # urlsplit drops the tabs and line breaks a browser ignores ("java\tscript:"), as nh3 does.
    return urlsplit(href).scheme.lower() in ALLOWED_URL_SCHEMES


_TAG_RE = re.compile(r"<[^>]*>")


def has_text(html: str) -> bool:
    """Does cleaned HTML show anything? An emptied editor leaves tags like "<p><br></p>"."""
    return bool(_TAG_RE.sub("", html).replace("&nbsp;", "").strip())


# Plain text from before the editor ---------------------------------------------------------------

_BLOCK_RE = re.compile(r"<\s*(p|div|br|ul|ol|li|blockquote|h[1-6]|table|pre)\b", re.IGNORECASE)
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\n\s*")


def paragraphs(html: str) -> str:
    """A body typed as plain text (no block tags: written in the old textarea, or through the
    API) as the writer laid it out: a paragraph per blank line, a line break per newline. HTML
    would otherwise run it all into one paragraph. Anything with block tags is left as it is."""
    text = html.replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\n" not in text or _BLOCK_RE.search(text):
        return html
    return "".join(
        "<p>" + "<br>".join(line.strip() for line in chunk.split("\n")) + "</p>"
        for chunk in _BLANK_LINE_RE.split(text)
    )


# What the cleaning removed -----------------------------------------------------------------------

# The tag as the writer knows it, singular and plural. A tag not named here reads as "<tag>".
_TAG_WORDS: dict[str, tuple[str, str]] = {
    "img": ("an image", "images"),
    "picture": ("an image", "images"),
    "svg": ("a drawing", "drawings"),
    "script": ("a script", "scripts"),
    "style": ("a style sheet", "style sheets"),
    "iframe": ("an embedded page", "embedded pages"),
    "object": ("an embedded object", "embedded objects"),
    "embed": ("an embedded object", "embedded objects"),
    "video": ("a video", "videos"),
    "audio": ("a sound", "sounds"),
    "table": ("a table", "tables"),
    "form": ("a form", "forms"),
    "input": ("a form field", "form fields"),
    "button": ("a button", "buttons"),
    "select": ("a form field", "form fields"),
    "textarea": ("a form field", "form fields"),
    "hr": ("a horizontal line", "horizontal lines"),
    "pre": ("a code block", "code blocks"),
    "code": ("code formatting", "pieces of code formatting"),
    "span": ("text formatting", "pieces of text formatting"),
    "font": ("a font", "fonts"),
    "s": ("a strikethrough", "strikethroughs"),
    "strike": ("a strikethrough", "strikethroughs"),
    "del": ("a strikethrough", "strikethroughs"),
    "sub": ("a subscript", "subscripts"),
    "sup": ("a superscript", "superscripts"),
    "title": ("a page title", "page titles"),
    "head": ("a page header", "page headers"),
    "meta": ("page information", "pieces of page information"),
    "link": ("a linked style sheet", "linked style sheets"),
    **{f"h{n}": ("a heading", "headings") for n in range(1, 7)},
}
# The page around pasted content, and the parts of a table or list reported with it: nothing a
# writer would miss on their own.
_UNREPORTED_TAGS = frozenset(
    {"html", "body", "thead", "tbody", "tfoot", "tr", "td", "th", "col", "colgroup", "caption"}
    | {"source", "track", "option", "optgroup", "label", "o:p"}
)
_ATTRIBUTE_WORDS = {
    "dir": "the text direction",
    "align": "the alignment",
    "target": "the new-window setting",
    "title": "the tooltip",
}
# Put back on every link by the cleaning itself.
_UNREPORTED_ATTRIBUTES = frozenset({"rel"})


@dataclass(frozen=True)
class Cleaned:
    html: str
    # What the cleaning took out, in words ("an image", "the style on 3 elements"), in the order
    # first met; empty when nothing was.
    removed: list[str]

    @property
    def summary(self) -> str:
        """One sentence for the writer, or "" when nothing was removed."""
        if not self.removed:
            return ""
        return f"We removed what an email can't carry: {_and(self.removed)}."


def clean(html: str) -> Cleaned:
    """`html` through `sanitize_html`, and what that took out."""
    return Cleaned(sanitize_html(html), _removed(html))


def _removed(html: str) -> list[str]:
    finder = _RemovalFinder()
    finder.feed(html)
    finder.close()
    words = []
    for tag, count in finder.tags.items():
        singular, plural = _TAG_WORDS.get(tag, (f"a <{tag}> element", f"<{tag}> elements"))
        words.append(singular if count == 1 else f"{count} {plural}")
    for attribute, count in finder.attributes.items():
        what = _ATTRIBUTE_WORDS.get(attribute) or (
            f"the {attribute} script" if attribute.startswith("on") else f"the {attribute}"
        )
        words.append(f"{what} on {_count(count, 'element')}")
    if finder.addresses:
        shown = ", ".join(f'"{address[:40]}"' for address in finder.addresses[:3])
        words.append(
            f"the address of {_count(len(finder.addresses), 'link')} ({shown}): "
            "only web (http, https) and mailto addresses work in an email"
        )
    return words


class _RemovalFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.attributes: Counter[str] = Counter()
        self.addresses: list[str] = []
        # Inside a script or a style sheet nothing else counts: it goes as a whole.
        self._dropping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._dropping:
            # Only the same tag nests: what closes the outermost one is its own end tag.
            if tag == self._dropping[0]:
                self._dropping.append(tag)
            return
        if tag in DROPPED_WITH_CONTENT:
            self._dropping.append(tag)
        if tag not in ALLOWED_TAGS:
            if tag not in _UNREPORTED_TAGS:
                self.tags[tag] += 1
            return
        for name, value in attrs:
            if tag == "a" and name == "href":
                if not _keeps_address(value or ""):
                    self.addresses.append((value or "").strip())
            elif name not in _UNREPORTED_ATTRIBUTES:
                self.attributes[name] += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if self._dropping and self._dropping[-1] == tag:
            self._dropping.pop()

    def handle_endtag(self, tag: str) -> None:
        if self._dropping and self._dropping[-1] == tag:
            self._dropping.pop()


def _count(number: int, noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}" if number == 1 else f"{number} {noun}s"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
