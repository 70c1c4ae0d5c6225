"""What /healthz reports beyond the database and the broker. Apps above `outreach` register
their own reports here (from their AppConfig.ready), so that outreach never imports them."""

from collections.abc import Callable

_reports: dict[str, Callable[[], dict]] = {}


def register(name: str, report: Callable[[], dict]) -> None:
    _reports[name] = report


def reports() -> dict[str, dict]:
    return {name: report() for name, report in _reports.items()}
