"""A small HTTP server: `/` answers with message.MESSAGE, `/page` renders
templates/page.html."""
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import message

HERE = os.path.dirname(os.path.abspath(__file__))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/page":
            try:
                with open(os.path.join(HERE, "templates", "page.html"), "rb") as f:
                    body, status = f.read(), 200
            except FileNotFoundError:
                body, status = b"not found\n", 404
        else:
            body, status = (message.MESSAGE + "\n").encode(), 200
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8080"))
    print(f"listening on {port}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
