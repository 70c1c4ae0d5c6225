"""Indexes for the Outreach stats query (sequences/stats.py), all partial on the rows it reads:
- an organization's sent emails by date: what the page's date range selects;
- an enrollment's sent emails by date: its last email, to which its reply, bounce or
  unsubscribe is attributed (an index-only backward scan);
- an organization's inbound replies and bounces: enrollments that ended by one.

Raw SQL rather than Meta.indexes, so that they need no change to the models' state; built
CONCURRENTLY (outside a transaction) so that building them on a live table blocks no send."""

from django.db import migrations

INDEXES = {
    "message_sent_by_org": (
        "sequences_message (organization_id, sent_at) "
        "WHERE direction = 'outbound' AND status = 'sent'"
    ),
    "message_sent_by_enrollment": (
        "sequences_message (enrollment_id, sent_at, id) "
        "WHERE direction = 'outbound' AND status = 'sent'"
    ),
    "message_inbound_outcome": (
        "sequences_message (organization_id) INCLUDE (enrollment_id, inbound_kind) "
        "WHERE direction = 'inbound' AND inbound_kind IN ('reply', 'bounce')"
    ),
}


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("sequences", "0004_sequence_unsubscribe_footer"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}",
            f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
        )
        for name, definition in INDEXES.items()
    ]
