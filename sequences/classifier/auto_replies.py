"""Auto-reply wording: the last resort when neither headers nor subject nor envelope tell, and
deliberately strict, because a human reply taken for an auto-reply means a follow-up after a
reply. The own text must state the absence or its automatic nature (a strong cue), every other
sentence must be the stuff auto-replies are made of, and nothing a person answering us would
write may appear in it."""

from __future__ import annotations

import re

from .calendar_words import _MONTHS, _WEEKDAY_NUMBERS
from .text import _before_sign_off, _sentences

_FIRST_PERSON = (
    r"\b(?:i am|i'm|im|i will be|i'll be|i shall be|i'm going to be)\s+"
    r"(?:currently\s+|now\s+|presently\s+|unfortunately\s+|still\s+)?"
)
_ABSENT = (
    r"(?:out of (?:the )?office|ooo\b|away\b|on (?:\w+ )?leave\b"
    r"|on (?:holiday|vacation|sabbatical|pto|a business trip|business travel)\b"
    r"|travel(?:l)?ing\b|out\b(?=[^.]{0,40}\b(?:until|till|til|through|thru|return|back)\b))"
)
_STRONG_CUES = [
    re.compile(pattern, re.I)
    for pattern in (
        r"\b(?:this|it) is an? (?:automatic|automated|auto-?generated|auto)[- ]?"
        r"(?:reply|response|message|e-?mail|notification|acknowledge?ment|confirmation)\b",
        r"\bthis (?:e-?mail|message|reply|response) (?:is|was|has been) (?:sent |generated )?"
        r"automatically\b",
        _FIRST_PERSON + _ABSENT,
        r"\b(?:is|are) (?:currently )?(?:out of (?:the )?office|on (?:\w+ )?leave"
        r"|on (?:holiday|vacation))\b",
        r"\blimited access to (?:my )?e-?mails?\b",
        r"\b(?:has|have) left (?:the company|the firm|the organi[sz]ation|\w+)\b",
        r"\bno longer (?:with|at|employed|working|part of)\b",
        r"\bthis (?:mailbox|inbox|e-?mail address|e-?mail account|address|account) is (?:no longer"
        r"|not|un)[ -]?(?:being )?(?:monitored|active|in use|checked|attended)\b",
        r"\b(?:your|this) (?:request|ticket|case|inquiry|enquiry|e-?mail|message)\b[^.]{0,60}"
        r"\b(?:has been|was|is being|have been) (?:received|logged|created|opened|assigned"
        r"|registered)\b",
        r"\b(?:ticket|case|request|reference) (?:number|id|no\.?|#)",
        r"\b(?:ich bin|bin ich|befinde ich mich)\b(?:\s+\S+){0,6}?\s+(?:nicht im büro|abwesend"
        r"|im urlaub|außer haus|nicht erreichbar|auf dienstreise|in elternzeit)",
        r"\bautomatische (?:antwort|nachricht|benachrichtigung)\b",
        r"\bnicht mehr (?:bei|für|im unternehmen)\b",
        r"\bje suis (?:actuellement |en ce moment )?(?:absente?|en congés?|en vacances"
        r"|hors du bureau|en déplacement)",
        r"\bréponse automatique\b|\bne fait plus partie\b",
        r"\b(?:estoy|me encuentro) (?:actualmente )?(?:fuera de la oficina|de vacaciones|ausente"
        r"|de viaje)",
        r"\brespuesta automática\b|\bya no (?:trabaja|forma parte)\b",
        r"\bik ben (?:momenteel |op dit moment )?(?:afwezig|met vakantie|niet op kantoor"
        r"|op vakantie|niet aanwezig)",
        r"\bautomatisch (?:antwoord|bericht)\b",
        r"\bsono (?:attualmente )?(?:fuori (?:ufficio|sede)|in ferie|assente|in vacanza)",
        r"\brisposta automatica\b",
        r"\bestou (?:atualmente )?(?:fora do escritório|de férias|ausente)",
        r"\bresposta automática\b",
    )
]
# What auto-replies are made of, in the languages above: function words and the vocabulary of
# absence, return, contact and acknowledgement. A sentence with more than one word outside these
# (names, dates and addresses aside) says something else, most likely what a person answers.
_FUNCTION_WORD = re.compile(
    r"(?:"
    r"a|about|after|all|also|am|an|and|another|any|anything|are|as|at|be|been|before|being|both"
    r"|but|by|can|cannot|can't|could|did|do|does|don't|during|each|either|for|from|had|has|have"
    r"|he|her|here|his|how|i|i'd|i'll|i'm|i've|if|im|in|including|inclusive|into|is|it|it's|its"
    r"|kindly|may|me|meantime|meanwhile|might|mine|more|must|my|no|nor|not|of|on|one|only|onto"
    r"|or|other|our|please|regarding|shall|she|should|so|some|soon|still|such|than|that|the"
    r"|their|them|there|these|they|this|those|through|till|til|to|under|unfortunately|until|upon"
    r"|us|very|via|was|we|we'll|were|what|when|where|whether|which|while|who|will|with|within"
    r"|without|won't|would|you|you'll|you're|your|yours|currently|presently|ab|auf|aus|bei|bin"
    r"|bis|bitte|das|dass|dem|den|der|des|die|diese|dieser|diesem|dieses|ein|eine|einen|einer|es"
    r"|für|habe|haben|hat|ich|ihnen|ihre|ihrer|ihren|ist|kann|können|meine|meinem|meinen|meiner"
    r"|mich|mir|mit|nach|nicht|nur|oder|sich|sie|sind|und|uns|vom|von|während|wieder|wir|wird"
    r"|werden|zu|zum|zur|zeit|einschließlich|à|au|aux|avec|ce|cette|d'un|dans|de|du|elle|en|et"
    r"|il|je|jusqu'au|jusqu'à|l'adresse|la|le|les|ma|mes|mon|ne|nous|ou|par|pas|plus|pour|que"
    r"|qui|sans|se|sera|serai|suis|sur|un|une|vos|votre|vous|al|con|del|el|está|estaré|estoy"
    r"|hasta|las|lo|los|mi|mis|o|para|pero|por|puede|sin|su|sus|una|y|als|bent|ben|bij|dan|deze"
    r"|dit|een|het|ik|kan|kunt|met|mijn|na|niet|om|op|te|tot|u|uw|van|voor|wordt|zal|alla|alle"
    r"|da|dal|dalla|della|di|e|fino|mia|mio|non|per|sono|ao|até|com|em|eu|minha|meu|não|os|sem"
    r"|sou|um|uma"
    r")",
    re.I,
)
_TEMPLATE_WORD = re.compile(
    r"(?:"
    r"thank\w*|thx|e-?mails?|mails?|messages?|notes?|repl(?:y|ies|ied)|respon\w*|answer\w*"
    r"|return\w*|back|office|ooo|out|away|absen\w*|leave|annual|parental|maternity|paternity"
    r"|sick|medical|vacation\w*|holidays?|pto|sabbatical|travel\w*|trip|business|conference"
    r"|limited|intermittent|access|check\w*|read|inbox|mailbox|address|account|monitored|active"
    r"|urgen\w*|emergenc\w*|matters?|assistance|immediate\w*|help|contact\w*|reach\w*"
    r"|forward\w*|redirected|routed|handled|colleagues?|team|department|support|desk|staff"
    r"|requests?|tickets?|case|reference|number|id|received|receipt|confirm\w*|automatic\w*"
    r"|automated|auto|generated|notification|delay\w*|possible|asap|days?|hours|left|longer"
    r"|employed|company|organi[sz]ation|sender|customer|dear|hello|hi|hey|regards|best|kind"
    r"|inquir\w*|enquir\w*|questions?|information|info|directed?|person|appropriate"
    r"|attention|patience|understanding|appreciate|apolog\w*|inconvenience|sorry|mobile|phone"
    r"|call|monitor\w*|unavailable|available|attending|training|event|offsite|site|abroad"
    r"|vielen|dank|danke|nachricht\w*|büro|abwesen\w*|urlaub\w*|zurück\w*|erreichbar|dringend\w*"
    r"|fällen|fall|angelegenheiten|wenden|kolleg\w*|vertretung|weitergeleitet|gelesen|zugriff"
    r"|eingeschränkt\w*|beantwort\w*|bearbeit\w*|rückkehr|elternzeit|dienstreise|außer|haus"
    r"|guten|tag|hallo|sehr|geehrte\w*|damen|herren|anfrage\w*|keinen|keine"
    r"|absente?|bureau|congés?|vacances|retour|répondrai|courriel|urgence|contacter|merci"
    r"|collègue|accès|limité|inclus|bonjour|transmis|lu"
    r"|gracias|mensajes?|fuera|oficina|vacaciones|ausente|regreso|volveré|acceso|limitado|correo"
    r"|asuntos|contactar|compañer[oa]|tendré|responderé|hola|saludos"
    r"|afwezig|bericht|doorgestuurd|dringende|zaken|collega|vakantie|terug|kantoor|beste"
    r"|afzender|bedankt|opnemen"
    r"|fuori|ufficio|accesso|limitato|posta|risponderò|rientro|ferie|contattare|grazie"
    r"|messaggio|buongiorno"
    r")",
    re.I,
)
_CONTACT_BITS = re.compile(r"(?<!\S)\S*@\S+|(?:https?://|www\.)\S+|\+?\d[\d ()./-]{5,}\d")
_WORD = re.compile(r"(?<![\w@.])[^\W\d_]+(?:['-][^\W\d_]+)*(?![\w@])")


def _unexplained_words(sentence: str) -> int:
    """Words of the sentence that are neither function words, auto-reply vocabulary, month or
    weekday names, nor names (a capitalised word after the first)."""
    words = _WORD.findall(_CONTACT_BITS.sub(" ", sentence))
    return sum(
        1
        for position, word in enumerate(words)
        if not _FUNCTION_WORD.fullmatch(word)
        and word.lower() not in _MONTHS
        and word.lower() not in _WEEKDAY_NUMBERS
        and not _TEMPLATE_WORD.fullmatch(word)
        and not (position and word[:1].isupper())
    )


_TEMPLATE_QUESTION = re.compile(r"\b(?:urgent\w*|immediate|assistance|help|questions?)\b", re.I)
# What a person answering our email writes, and an auto-reply never does.
_ENGAGEMENT = re.compile(
    r"\b(?:interested|interesting|yes|yeah|yep|(?<!make )sure|absolutely|definitely|of course"
    r"|works|ping|now (?:at|with|working)|moved to|joined|my new"
    r"|sounds (?:good|great|interesting)|happy to|glad to|would love|love to|keen|let's|let us"
    r"|call me|text me|ring me|send (?:me|over)|tell me|more (?:about|details|info)|talk|chat"
    r"|catch up|hop on|jump on|schedule|book a|calendly|works for|work for me|not interested"
    r"|no thanks|no thank you|unsubscribe|remove me|stop (?:e-?mailing|contacting|sending)"
    r"|take me off|reaching out|role|opportunity|salary|compensation|resume|cv|interview"
    r"|interessiert|gerne|telefonieren|intéress\w*|volontiers|interesad\w*|me interesa"
    r"|geïnteresseerd|interessat\w*)\b",
    re.I,
)
_GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening|day)|hallo|guten tag"
    r"|sehr geehrte\w*|liebe\w*|bonjour|bonsoir|madame|monsieur|hola|estimad\w*|buongiorno"
    r"|gentile|beste|geachte|olá|caro|cara)(?:\s+[\w.'-]+){0,4}\s*[,!:]?$",
    re.I,
)
_SMALL_WORDS = frozenset(("of", "and", "the", "de", "von", "van", "der", "at"))


def _is_neutral(sentence: str) -> bool:
    """Greetings, contact details and name or title lines: neither template nor answer."""
    if _GREETING.match(sentence):
        return True
    rest = _CONTACT_BITS.sub(" ", sentence)
    if len(rest.split()) <= 2 and rest != sentence:
        return True
    words = sentence.split()
    return (
        len(words) <= 5
        and sentence[-1] not in ".!?"
        and words[0][:1].isupper()
        and all(w[:1].isupper() or not w[:1].isalpha() or w in _SMALL_WORDS for w in words)
    )


def _auto_body_reason(own: str) -> str | None:
    text = _before_sign_off(own)
    if _ENGAGEMENT.search(text):
        return None
    strong = None
    for sentence in _sentences(text):
        if _is_neutral(sentence):
            continue
        if sentence.endswith("?") and not _TEMPLATE_QUESTION.search(sentence):
            return None
        if _unexplained_words(sentence) > 1:
            return None
        strong = strong or next((m for m in (c.search(sentence) for c in _STRONG_CUES) if m), None)
    return f"body: {strong.group(0)!r}" if strong else None
