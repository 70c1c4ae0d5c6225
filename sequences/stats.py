"""Outreach stats: what the sequence emails sent over a date range led to, grouped by sequence,
stage, sender (mailbox) or recruiter (the user who sent), in one SQL query per table.

What each figure counts (the page says it too):
- sent: outbound sequence emails with status sent whose sent_at falls in the range (one-off
  emails are left out);
- opened / clicked: sent emails with at least one open / click that was not automated (a
  prefetching proxy or a link scanner); the rate's denominator is the sent emails that carried
  tracking: those of sequences that track it now, plus any email that has an event of that kind
  (it carried the pixel or the links when it was sent). No tracked email: no rate ("—");
- replied, interested, bounced, unsubscribed: an enrollment's outcome counts once, on the last
  email its enrollment sent (the one the prospect answered, bounced or unsubscribed from), so
  it lands on that email's sequence, stage, sender and recruiter, and in the range when that
  email was sent there. Replied: the enrollment's status is replied or a reply was recorded on it
  (a reply after the last stage leaves the enrollment finished); interested: replied and marked
  interested; bounced: status bounced or a bounce was recorded on it; unsubscribed: status
  unsubscribed (an unsubscribe from one of its emails after the sequence finished makes it so,
  see `unsubscribe`);
- every other rate is per sent email.

Confidential sequences the viewer may not see are left out of every figure.

Where the figures come from: the rollups (sequences/rollups.py), which count each day's emails
by these definitions; the page recomputes its range's dirty days first, so it is exact, and its
cost grows with days x sequences x stages x senders, not with the emails. Days are UTC days.
"""

import csv
import io
from dataclasses import dataclass, fields
from datetime import date, timedelta
from functools import cached_property

from django import forms
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from outreach.models import User
from senders.models import Mailbox

from . import rollups
from .models import (
    EmailTemplate,
    Enrollment,
    Message,
    Sequence,
    Stage,
    StatsMonthRollup,
    StatsRollup,
)
from .selectors import hidden_sequence_ids

DEFAULT_DAYS = 30
# The days the page accepts: every day the product could have sent on, and then some. Further
# out, Python's dates run out: the day after the end, or the default range before it, cannot be
# computed.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
CHART_BARS = 12


@dataclass(frozen=True)
class Grouping:
    name: str
    title: str
    columns: tuple[str, ...]  # the label columns of the table and the CSV
    key: str  # columns of the rollups (`r`) to group by
    labels: str  # what names each group, from `g` (the grouped counts) and `joins`
    joins: str
    order: str = "g.sent DESC, 1"


GROUPINGS = {
    g.name: g
    for g in (
        Grouping(
            "sequence",
            "By sequence",
            ("Sequence",),
            "r.sequence_id",
            "seq.name",
            "JOIN {sequence} seq ON seq.id = g.sequence_id",
        ),
        Grouping(
            "stage",
            "By stage",
            ("Sequence", "Stage"),
            "r.sequence_id, r.stage_id",
            # A deleted stage's emails keep their sequence and lose their position.
            "seq.name, COALESCE('Stage ' || (st.position + 1), 'Deleted stage')",
            "JOIN {sequence} seq ON seq.id = g.sequence_id"
            " LEFT JOIN {stage} st ON st.id = g.stage_id",
            # A sequence's stages in their order, as a funnel reads.
            "1, st.position NULLS LAST",
        ),
        Grouping(
            "sender",
            "By sender",
            ("Sender",),
            "r.mailbox_id",
            "mb.email",
            "JOIN {mailbox} mb ON mb.id = g.mailbox_id",
        ),
        Grouping(
            "recruiter",
            "By recruiter",
            ("Recruiter", "Email"),
            "r.sent_by_id",
            "COALESCE(u.full_name, 'Unknown'), COALESCE(u.email, '')",
            "LEFT JOIN {user} u ON u.id = g.sent_by_id",
        ),
    )
}

COLUMNS = ", ".join(["sequence_id", "stage_id", "mailbox_id", "sent_by_id", *rollups.COUNTERS])

TABLES = {
    "rollup": StatsRollup._meta.db_table,
    "month": StatsMonthRollup._meta.db_table,
    "sequence": Sequence._meta.db_table,
    "stage": Stage._meta.db_table,
    "mailbox": Mailbox._meta.db_table,
    "user": User._meta.db_table,
}

# The range's rollups (sequences/rollups.py), grouped: its whole months' from the month rollups,
# its other days' from the day rollups. An email's open (click) counts in the
# rate's denominator if its sequence tracks opens now or it has an open event: the rollups
# keep the emails with an event apart, so turning tracking on or off changes no rollup.
SQL = """
WITH g AS (
    SELECT {key},
        sum(r.sent) AS sent,
        sum(r.bounced) AS bounced,
        sum(CASE WHEN s.track_opens THEN r.sent ELSE r.open_evented END) AS open_tracked,
        sum(r.opened) AS opened,
        sum(CASE WHEN s.track_clicks THEN r.sent ELSE r.click_evented END) AS click_tracked,
        sum(r.clicked) AS clicked,
        sum(r.replied) AS replied,
        sum(r.interested) AS interested,
        sum(r.unsubscribed) AS unsubscribed
    FROM (
        SELECT {columns} FROM {month} WHERE organization_id = %s
            AND month >= %s AND month < %s
        UNION ALL
        SELECT {columns} FROM {rollup} WHERE organization_id = %s
            AND day >= %s AND day <= %s AND NOT (day >= %s AND day < %s)
    ) r
    JOIN {sequence} s ON s.id = r.sequence_id
    WHERE true{hidden}
    GROUP BY {key}
    -- A month's groups whose emails all went (deleted, moved) are left at zero.
    HAVING sum(r.sent) > 0
)
SELECT {labels}, g.sent, g.bounced, g.open_tracked, g.opened, g.click_tracked, g.clicked,
    g.replied, g.interested, g.unsubscribed
FROM g {joins}
ORDER BY {order}
"""


@dataclass(frozen=True)
class Metric:
    name: str
    title: str
    denominator: str


METRICS = (
    Metric("bounced", "Bounced", "sent"),
    Metric("opened", "Opened", "open_tracked"),
    Metric("clicked", "Clicked", "click_tracked"),
    Metric("replied", "Replied", "sent"),
    Metric("interested", "Interested", "sent"),
    Metric("unsubscribed", "Unsubscribed", "sent"),
)


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


@dataclass(frozen=True)
class Cell:
    count: int
    rate: float | None

    @property
    def rate_text(self) -> str:
        return percent(self.rate)


@dataclass(frozen=True)
class Counts:
    sent: int = 0
    bounced: int = 0
    open_tracked: int = 0
    opened: int = 0
    click_tracked: int = 0
    clicked: int = 0
    replied: int = 0
    interested: int = 0
    unsubscribed: int = 0

    def rate(self, metric: Metric) -> float | None:
        denominator = getattr(self, metric.denominator)
        return getattr(self, metric.name) / denominator if denominator else None

    @property
    def cells(self) -> list[Cell]:
        """The metrics after `sent`, in the order of METRICS, each with its rate."""
        return [Cell(getattr(self, m.name), self.rate(m)) for m in METRICS]

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class Row:
    labels: tuple[str, ...]
    counts: Counts

    @property
    def label(self) -> str:
        return " · ".join(part for part in self.labels if part)


# The SVG's geometry, in its viewBox units: labels on the left, bars, then each bar's value.
CHART_WIDTH, LABEL_WIDTH, BAR_WIDTH, BAR_SPACE = 440, 160, 220, 22


@dataclass(frozen=True)
class Bar:
    label: str
    y: int
    width: int
    text: str

    @property
    def text_x(self) -> int:
        return LABEL_WIDTH + self.width + 6


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart, drawn as SVG by the template (which escapes the labels)."""

    title: str
    bars: list[Bar]
    of: int  # how many groups there are; the chart shows the first CHART_BARS

    width = CHART_WIDTH
    label_x = LABEL_WIDTH - 8
    bar_x = LABEL_WIDTH

    @property
    def height(self) -> int:
        return max(len(self.bars), 1) * BAR_SPACE

    @property
    def truncated(self) -> bool:
        return self.of > len(self.bars)


def bar_chart(title: str, rows: list[Row], value, text) -> Chart:
    """Bars for the first CHART_BARS rows; `value(counts)` may be None: no bar, `text` says why."""
    shown = rows[:CHART_BARS]
    values = [value(row.counts) for row in shown]
    top = max((v for v in values if v is not None), default=0) or 1
    bars = [
        Bar(
            label=row.label,
            y=index * BAR_SPACE,
            width=round((v or 0) / top * BAR_WIDTH),
            text=text(row.counts),
        )
        for index, (row, v) in enumerate(zip(shown, values, strict=True))
    ]
    return Chart(title, bars, len(rows))


CHARTED_RATES = (
    ("opened", "Open rate"),
    ("replied", "Reply rate"),
    ("interested", "Interested rate"),
)


def charts(rows: list[Row]) -> list[Chart]:
    metrics = {m.name: m for m in METRICS}
    return [
        bar_chart("Emails sent", rows, lambda c: c.sent, lambda c: str(c.sent)),
        *(
            bar_chart(
                title,
                rows,
                lambda c, m=metrics[name]: c.rate(m),
                lambda c, m=metrics[name]: percent(c.rate(m)),
            )
            for name, title in CHARTED_RATES
        ),
    ]


@dataclass(frozen=True)
class Report:
    grouping: Grouping
    start: date
    end: date
    rows: list[Row]

    @cached_property
    def total(self) -> Counts:
        # Each email belongs to exactly one group, so the groups add up to the whole.
        return sum((row.counts for row in self.rows), Counts())

    @cached_property
    def charts(self) -> list[Chart]:
        return charts(self.rows)


def whole_months(start: date, end: date) -> tuple[date, date]:
    """[first, after): the calendar months wholly inside start..end (first == after: none)."""
    first = start if start.day == 1 else _next_month(start)
    after = _next_month(end) if _next_month(end) - timedelta(days=1) == end else end.replace(day=1)
    return (first, after) if first < after else (start, start)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _hidden_clause(user: User) -> tuple[str, list]:
    hidden = hidden_sequence_ids(user).order_by()
    if hidden.query.is_empty():
        return "", []
    sql, params = hidden.query.sql_with_params()
    return f"\n        AND r.sequence_id NOT IN ({sql})", list(params)


def report(user: User, *, start: date, end: date, group: str) -> Report:
    """The figures of `user`'s organization from `start` to `end` (both UTC days included),
    grouped by `group`, read off the rollups once the range's dirty days are recomputed (see
    rollups.refresh); three queries, four when a day was dirty."""
    grouping = GROUPINGS[group]
    if user.organization_id is None:
        return Report(grouping, start, end, [])
    hidden, hidden_params = _hidden_clause(user)
    # Only fixed fragments from this module (table names, columns, the compiled visibility
    # subquery) are formatted in; every value is a parameter.
    sql = SQL.format(
        key=grouping.key,
        labels=grouping.labels,
        joins=grouping.joins.format(**TABLES),
        order=grouping.order,
        hidden=hidden,
        columns=COLUMNS,
        **TABLES,
    )
    org = user.organization_id
    with transaction.atomic(savepoint=False):
        rollups.refresh(org, start=start, end=end)
        with connection.cursor() as cursor:
            months = whole_months(start, end)
            params = [org, *months, org, start, end, *months, *hidden_params]
            cursor.execute(sql, params)
            result = cursor.fetchall()
    width = len(grouping.columns)
    rows = [Row(tuple(r[:width]), Counts(*r[width:])) for r in result]
    return Report(grouping, start, end, rows)


def _in_range(day: date) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise forms.ValidationError(
            f"Choose a day from {FIRST_DAY:%-d %B %Y} to {LAST_DAY:%-d %B %Y}."
        )


class StatsFilter(forms.Form):
    """The page's GET parameters; anything missing or invalid falls back to the default: the
    last DEFAULT_DAYS days, by sequence."""

    start = forms.DateField(
        required=False, validators=[_in_range], widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, validators=[_in_range], widget=forms.DateInput(attrs={"type": "date"})
    )
    group = forms.ChoiceField(
        required=False, choices=[(g.name, g.title) for g in GROUPINGS.values()]
    )

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start date must not be after the end date.")
        return data

    def period(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            start = end - timedelta(days=DEFAULT_DAYS - 1)
        return {"start": start, "end": end, "group": data.get("group") or "sequence"}


def safe_cell(value) -> str:
    """A spreadsheet must not run a name such as `=HYPERLINK(...)` as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            *report.grouping.columns,
            "Sent",
            *(header for m in METRICS for header in (m.title, f"{m.title} rate")),
        ]
    )
    blank = [""] * (len(report.grouping.columns) - 1)
    for labels, counts in [
        *((r.labels, r.counts) for r in report.rows),
        (("Total", *blank), report.total),
    ]:
        writer.writerow(
            [
                *(safe_cell(label) for label in labels),
                counts.sent,
                *(
                    value
                    for cell in counts.cells
                    for value in (cell.count, "" if cell.rate is None else f"{cell.rate:.4f}")
                ),
            ]
        )
    return out.getvalue()


# Templates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateRow:
    """A template of the library list with what its emails led to: `sent`, the emails sent
    from the stages and one-off emails it was loaded into; `replied`, those the prospect
    answered (as above, a reply counts on the last email its enrollment sent)."""

    template: EmailTemplate
    sent: int = 0
    replied: int = 0

    @property
    def reply_rate(self) -> float | None:
        return self.replied / self.sent if self.sent else None

    @property
    def reply_rate_text(self) -> str:
        return percent(self.reply_rate)


def template_rows(user: User, templates: list[EmailTemplate]) -> list[TemplateRow]:
    """`templates` (a page of the list) with their figures, in one query whatever their number;
    confidential sequences `user` may not see are left out."""
    if not templates:
        return []
    sent = Message.objects.filter(
        organization_id=user.team_id,
        direction=Message.Direction.OUTBOUND,
        status=Message.Status.SENT,
    )
    later = sent.filter(enrollment=OuterRef("enrollment"), sent_at__gt=OuterRef("sent_at"))
    answered = Q(enrollment__status=Enrollment.Status.REPLIED) | Q(
        enrollment__replied_at__isnull=False
    )
    figures = {
        row["stage__template"]: row
        for row in sent.filter(stage__template__in=[t.pk for t in templates])
        .exclude(enrollment__sequence_id__in=hidden_sequence_ids(user))
        .order_by()
        .values("stage__template")
        .annotate(sent=Count("pk"), replied=Count("pk", filter=answered & ~Exists(later)))
    }
    return [
        TemplateRow(
            t,
            sent=figures.get(t.pk, {}).get("sent", 0),
            replied=figures.get(t.pk, {}).get("replied", 0),
        )
        for t in templates
    ]
