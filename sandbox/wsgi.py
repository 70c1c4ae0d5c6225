"""The sandbox's WSGI handler: the product's settings and middleware, the sandbox's URLs. Django
resolves a request with `request.urlconf` when it is set, so one process serves one host."""

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.handlers.wsgi import WSGIHandler

URLCONF = "sandbox.urls"


class SandboxHandler(WSGIHandler):
    def get_response(self, request):
        request.urlconf = URLCONF
        return super().get_response(request)


def get_application() -> StaticFilesHandler:
    """The sandbox as a WSGI application (Django set up), serving its own static files: it only
    ever runs on a developer's machine or in tests, never behind a production web server."""
    return StaticFilesHandler(SandboxHandler())
