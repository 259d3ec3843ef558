"""Servers that fail the way the field sees them, put on the port the app served on (stop the app
first): a load balancer answering 502 while the servers restart, and a server that accepts
connections and never answers (a hung process, a congested network)."""
import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BAD_GATEWAY_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


class _BadGateway(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's names)
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(BAD_GATEWAY_PAGE)))
        self.end_headers()
        self.wfile.write(BAD_GATEWAY_PAGE)

    do_POST = do_GET

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def answering_502(port: int):
    """Every request on ``port`` is answered 502 with an HTML page, as a load balancer does."""
    http = ThreadingHTTPServer(("127.0.0.1", port), _BadGateway)
    http.daemon_threads = True
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        http.shutdown()
        http.server_close()
        thread.join(5)


@contextlib.contextmanager
def never_answering(port: int):
    """Connections to ``port`` are accepted and held open; nothing is ever sent back."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    held = []

    def accept():
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() under way
        listener.close()
        for conn in held:
            conn.close()
        thread.join(5)
