"""The stats page and its CSV export."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import stats


def _stats_report(request):
    filters = stats.StatsFilter(request.GET)
    return filters, stats.report(request.user, **filters.period())


@require_GET
def stats_page(request):
    filters, report = _stats_report(request)
    return render(
        request,
        "sequences/stats.html",
        {
            "filters": filters,
            "report": report,
            "groupings": stats.GROUPINGS.values(),
            "metrics": stats.METRICS,
        },
    )


@require_GET
def stats_export(request):
    _, report = _stats_report(request)
    response = HttpResponse(stats.to_csv(report), content_type="text/csv; charset=utf-8")
    name = f"outreach-stats-by-{report.grouping.name}-{report.start}-to-{report.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
