"""``storyweave serve``: the web reader and its JSON API on a local port.

The server is werkzeug's threaded WSGI server: enough for one reader or a small team on a
trusted network. Behind a reverse proxy, or for more traffic, run ``create_app()`` under any
WSGI server (it reads the same ``STORYWEAVE_*`` settings).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import click

if TYPE_CHECKING:
    from ..cli import Context

__all__ = ["serve"]

DEFAULT_HOST = "127.0.0.1"  # this machine only: the pages show whatever the store holds
DEFAULT_PORT = 8001


def _shown(db: str) -> str:
    """The store as the log may show it: a database URL without its password."""
    parts = urlsplit(db)
    if not parts.password:
        return db
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}@{host}" if parts.username else host))


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free one).")
@click.pass_obj
def serve(ctx: Context, host: str, port: int) -> None:
    """Serve the stories as web pages, each with a JSON twin (PAGE.json), and the API described
    at /openapi.json. POST /articles is enabled only when STORYWEAVE_API_TOKEN is set."""
    from werkzeug.serving import make_server

    from .app import create_app, prepare

    app = create_app(ctx)
    click.echo("indexing articles for keyword search...", err=True)
    prepare(app)
    server = make_server(host, port, app, threaded=True)
    mode = "read-write (POST /articles needs the API token)" if ctx.settings.api_token else "read-only"
    click.echo(f"serving {_shown(ctx.settings.db)} at http://{host}:{server.port}/ ({mode}); Ctrl-C stops", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
