"""Gmail's OAuth scopes, with the words Google's consent screen uses for them."""

MAIL = "https://mail.google.com/"
_GMAIL = "https://www.googleapis.com/auth/gmail."
READONLY = _GMAIL + "readonly"
SEND = _GMAIL + "send"
COMPOSE = _GMAIL + "compose"
MODIFY = _GMAIL + "modify"
INSERT = _GMAIL + "insert"
METADATA = _GMAIL + "metadata"
LABELS = _GMAIL + "labels"
SETTINGS_BASIC = _GMAIL + "settings.basic"
SETTINGS_SHARING = _GMAIL + "settings.sharing"
OPENID = "openid"
USERINFO_EMAIL = "https://www.googleapis.com/auth/userinfo.email"
USERINFO_PROFILE = "https://www.googleapis.com/auth/userinfo.profile"
# Google accepts the short names and answers with the long ones: a client comparing the scope it
# asked for with the one it got sees them differ.
SHORT_NAMES = {"email": USERINFO_EMAIL, "profile": USERINFO_PROFILE}

DESCRIPTIONS = {
    MAIL: "Read, compose, send, and permanently delete all your email from Gmail",
    READONLY: "View your email messages and settings",
    SEND: "Send email on your behalf",
    COMPOSE: "Manage drafts and send emails",
    MODIFY: "Read, compose, and send emails from your Gmail account",
    INSERT: "Add emails into your Gmail mailbox",
    METADATA: "View your email message metadata such as labels and headers, but not the email body",
    LABELS: "See and edit your email labels",
    SETTINGS_BASIC: "See, edit, create, or change your email settings and filters in Gmail",
    SETTINGS_SHARING: "Manage your sensitive mail settings, including who can manage your mail",
    OPENID: "Associate you with your personal info on Google",
    USERINFO_EMAIL: "See your primary Google Account email address",
    USERINFO_PROFILE: "See your personal info, including any personal info you've made publicly "
    "available",
}
KNOWN = frozenset(DESCRIPTIONS)


def normalize(scope: str) -> str:
    return SHORT_NAMES.get(scope, scope)


# Scopes under which Gmail refuses `q` searches and message bodies.
METADATA_ONLY = frozenset({METADATA})
FULL_CONTENT = frozenset({MAIL, READONLY, MODIFY})
