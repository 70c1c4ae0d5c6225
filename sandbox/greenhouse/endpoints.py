"""Ids of the Greenhouse endpoints the sandbox serves, as the fault switches, API key permissions
and the call log name them. Greenhouse has no method ids of its own; these follow the route."""

TOKEN = "greenhouse.auth.token"  # noqa: S105 (an endpoint id, not a secret)

V1_CANDIDATES_LIST = "greenhouse.v1.candidates.list"
V1_CANDIDATES_GET = "greenhouse.v1.candidates.get"
V1_USERS_LIST = "greenhouse.v1.users.list"
V1_PROSPECTS_CREATE = "greenhouse.v1.prospects.create"
V1_ACTIVITY_FEED = "greenhouse.v1.candidates.activity_feed.get"
V1_NOTES_CREATE = "greenhouse.v1.candidates.activity_feed.notes.create"
V1_EMAILS_CREATE = "greenhouse.v1.candidates.activity_feed.emails.create"

V3_CANDIDATES_LIST = "greenhouse.v3.candidates.list"
V3_USERS_LIST = "greenhouse.v3.users.list"
V3_NOTES_LIST = "greenhouse.v3.notes.list"
V3_NOTES_CREATE = "greenhouse.v3.notes.create"

V1 = (
    V1_CANDIDATES_LIST,
    V1_CANDIDATES_GET,
    V1_USERS_LIST,
    V1_PROSPECTS_CREATE,
    V1_ACTIVITY_FEED,
    V1_NOTES_CREATE,
    V1_EMAILS_CREATE,
)
V3 = (V3_CANDIDATES_LIST, V3_USERS_LIST, V3_NOTES_LIST, V3_NOTES_CREATE)
ALL = (TOKEN, *V1, *V3)
# The endpoints that change state: the only ones whose answer a fault can drop after the commit.
WRITES = (V1_PROSPECTS_CREATE, V1_NOTES_CREATE, V1_EMAILS_CREATE, V3_NOTES_CREATE)
