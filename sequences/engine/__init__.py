"""The sending engine: claim due enrollments, then send each stage exactly once, never after the
prospect replied, never from an inbox the sender may no longer use.

    claims    who may send what, until when (the claim); claiming what is due
    checks    the checks before a send, made again at every send
    mime      the email as it goes out
    send      one stage, from the claim to Gmail and back (why it is exactly once: there)
    health    what /healthz reports

Only sequences.tasks hands claims to workers: `claim_due()` returns them.
"""

from .claims import CLAIM_KIND, Claim, claim_due
from .health import health
from .mime import build_mime
from .send import send_stage
from .skip import Skip

__all__ = ["CLAIM_KIND", "Claim", "Skip", "build_mime", "claim_due", "health", "send_stage"]
