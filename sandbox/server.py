"""The sandbox's HTTP server: Django's threaded development server, with one addition. Each
request carries its client connection in the WSGI environ, so that a fault can close it after a
write is committed: the client then sees a dropped connection, never an answer, as it would if
Greenhouse's response were lost on the way back."""

import socket

from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

from .wsgi import get_application

CONNECTION = "sandbox.connection"


class SandboxRequestHandler(WSGIRequestHandler):
    def get_environ(self):
        environ = super().get_environ()
        environ[CONNECTION] = self.connection
        return environ


def drop_connection(environ) -> None:
    """Closes the client's connection at once. The response the application then returns is
    never written: the server's write fails on the closed socket and it goes on quietly."""
    connection = environ.get(CONNECTION)
    if connection is None:
        raise RuntimeError("Dropping a connection needs the sandbox server (sandbox.server).")
    connection.shutdown(socket.SHUT_RDWR)


def serve(host: str, port: int) -> None:
    """Serves the sandbox until interrupted, one thread per request, each closing its database
    connection, as runserver does."""
    server = ThreadedWSGIServer((host, port), SandboxRequestHandler)
    server.daemon_threads = True
    server.set_app(get_application())
    server.serve_forever()
