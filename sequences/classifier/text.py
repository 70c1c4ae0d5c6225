"""Message structure and text: parsing the raw message, its own parts (never those of a message it
carries), HTML bodies as text (made well-formed by nh3 first), what the sender wrote without
quotes, forwarded messages and signature (`own_text`), and that text as sentences before its
sign-off.

Apart from the decisions because every cue that reads words reads this text: the delivery
reports' wording, the auto-reply wording and the return dates."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from email.message import Message
from html.parser import HTMLParser

import nh3


def _parse(message: Message | bytes | str) -> Message:
    if isinstance(message, Message):
        return message
    # As bytes even when given text: the parser decodes 8-bit bodies properly only from bytes.
    raw = message if isinstance(message, bytes) else message.encode("utf-8", "surrogateescape")
    return email.message_from_bytes(raw)


def _own_parts(message: Message) -> Iterator[Message]:
    """The leaves of the message itself: never those of a message it carries (a returned copy in a
    bounce, a forwarded message attached by a person)."""
    if message.is_multipart():
        for part in message.get_payload():
            # A multipart's payload is its parts; a str there would be a hand-built oddity.
            if not isinstance(part, Message):
                continue
            if part.get_content_maintype() == "message":
                yield part
            else:
                yield from _own_parts(part)
    else:
        yield message


def _first_part(message: Message, content_type: str) -> Message | None:
    return next((p for p in _own_parts(message) if p.get_content_type() == content_type), None)


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


class _HtmlText(HTMLParser):
    """Visible text of an HTML body, without what it quotes: a blockquote or Gmail's quote block
    is skipped whole, so an inline answer between quotes stays."""

    _BLOCK = re.compile(
        r"address|article|br|d[dlt]|div|footer|h[1-6r]|header|li|ol|p|pre|section|t[dhr]|table|ul"
    )
    _HIDDEN = frozenset(("head", "script", "style", "title", "blockquote"))
    _QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skipping: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipping:
            self._depth += tag == self._skipping
            return
        classes = dict(attrs).get("class") or ""
        if tag in self._HIDDEN or any(name in classes for name in self._QUOTE_CLASSES):
            self._skipping, self._depth = tag, 1
        elif self._BLOCK.fullmatch(tag):
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag == self._skipping:
                self._depth -= 1
                if not self._depth:
                    self._skipping = None
        elif self._BLOCK.fullmatch(tag):
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            # Spaces at the edges stay: "to <a>x@y</a> couldn't" must not run together.
            self.chunks.append(re.sub(r"\s+", " ", data))


def _html_to_text(markup: str) -> str:
    # What a prospect sends is rewritten well-formed first (nh3, in linear time): Python's
    # HTMLParser takes time in the square of the length of some malformed markup (CVE-2025-6069),
    # seconds for a few kilobytes of unclosed tags. Classes stay, for the quote blocks.
    markup = nh3.clean(
        markup,
        attributes={"*": {"class"}},
        clean_content_tags={"script", "style", "head", "title"},
        link_rel=None,
    )
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    return "".join(parser.chunks)


def _body_text(message: Message) -> str:
    """The message's own text: its plain parts, or its HTML parts as text when it has no plain
    one; attachments and carried messages left out."""
    plain, markup = [], []
    for part in _own_parts(message):
        if part.get_content_maintype() != "text" or part.get_content_disposition() == "attachment":
            continue
        if part.get_content_type() == "text/plain":
            plain.append(_decoded(part))
        elif part.get_content_type() == "text/html":
            markup.append(_html_to_text(_decoded(part)))
    text = "\n".join(plain or markup)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\xa0", " ").replace("\u2019", "'").replace("\u2018", "'")


_ATTRIBUTION = re.compile(
    r"^\s*(?:on|am|le|el|il|op|em|den|dne|w dniu)\b.{0,300}"
    r"\b(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev|napisał|kirjoitti)"
    r"\b[^:\n]{0,80}:\s*$",
    re.I | re.S,
)
_ORIGINAL_MARKER = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original"
    r"|messaggio originale|oorspronkelijk bericht|forwarded message|weitergeleitete nachricht"
    r"|message transféré|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht)\s*-{2,}"
    r"|begin forwarded message:|anfang der weitergeleiteten nachricht:|_{10,})\s*$",
    re.I,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:from|von|de|van|da|från|fra|od|от)\s*:\*?\s*\S", re.I)
_OUTLOOK_SENT = re.compile(
    r"^\s*\*?(?:sent|gesendet|envoyé|enviado|verzonden|inviato|skickat|sendt|wysłano|date|datum"
    r"|fecha|data|to|an|à|para|aan|a)\s*:",
    re.I,
)
_SIGNATURE = re.compile(
    r"^\s*(?:--|-- |sent from my \w+.*|sent from (?:outlook|mail|yahoo mail)\b.*"
    r"|get outlook for \w+.*|von meinem \w+ gesendet.*|envoyé de mon \w+.*"
    r"|enviado desde mi \w+.*|verzonden (?:vanaf|met) mijn \w+.*|inviato da(?:l mio)? \w+.*)\s*$",
    re.I,
)


def _is_quote_start(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _ORIGINAL_MARKER.match(line):
        return True
    # Gmail wraps a long attribution over two lines.
    if _ATTRIBUTION.match(line) or _ATTRIBUTION.match(" ".join(lines[index : index + 2])):
        return True
    if _OUTLOOK_FROM.match(line):
        return any(_OUTLOOK_SENT.match(following) for following in lines[index + 1 : index + 5])
    return False


def _strip_quotes(text: str) -> list[str]:
    lines = text.split("\n")
    kept = []
    for index, line in enumerate(lines):
        if _is_quote_start(lines, index) or _SIGNATURE.match(line):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.strip())
    return kept


def _own_text(message: Message) -> str:
    """What the sender wrote in this message: no quoted text, no forwarded message, no
    signature after its delimiter or a mobile footer."""
    return "\n".join(_strip_quotes(_body_text(message))).strip()


def own_text(message: Message | bytes | str) -> str:
    """What the sender of this raw message wrote, without what they quoted."""
    return _own_text(_parse(message))


# Sentences, for the auto-reply wording and the return dates -------------------------------------

_SIGN_OFF = re.compile(
    r"^(?:best regards|kind regards|warm regards|regards|best wishes|best|cheers|thanks|thank you"
    r"|many thanks|thanks again|sincerely|yours sincerely|yours truly|all the best|take care"
    r"|(?:mit freundlichen|freundliche|viele|beste|liebe)? ?gr(?:ü|ue)(?:ß|ss)(?:e|en)?"
    r"|gru(?:ß|ss)"
    r"|cordialement|bien cordialement|bien à vous|salutations|saludos|un saludo|atentamente"
    r"|cordiali saluti|saluti|distinti saluti|met vriendelijke groet(?:en)?|groeten|groet"
    r"|atenciosamente|abraços|mvh|vänliga hälsningar)\s*[,.!]*$",
    re.I,
)
_SENTENCE_BREAK = re.compile(r"(?<=[^\d\s][.!?])\s+")


def _unwrapped_lines(text: str) -> list[str]:
    """Lines with hard wraps undone: a line goes on when the previous one was cut mid-sentence
    (long, or followed by a lowercase word), while signature and address lines stay apart."""
    lines: list[str] = []
    for line in text.split("\n"):
        previous = lines[-1] if lines else ""
        if (
            line
            and previous
            and previous[-1] not in ".!?:;"
            and (len(previous) >= 60 or not line[0].isupper())
        ):
            lines[-1] = f"{previous} {line}"
        else:
            lines.append(line)
    return lines


def _sentences(text: str) -> list[str]:
    return [
        sentence.strip()
        for line in _unwrapped_lines(text)
        for sentence in _SENTENCE_BREAK.split(line)
        if sentence.strip(" .,;:!-*_")
    ]


def _before_sign_off(text: str) -> str:
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if _SIGN_OFF.match(line.strip()):
            return "\n".join(lines[:index])
    return text
