"""The reader's window: a web app over the store, with a JSON twin for every page.

    storyweave serve                       # http://127.0.0.1:8001/stories
    curl http://127.0.0.1:8001/stories.json

Modules: :mod:`.app` (routes, security headers), :mod:`.queries` (reads for the pages),
:mod:`.search` (keyword and semantic search), :mod:`.charts` (inline SVG), :mod:`.markup`
(article text with its highlights), :mod:`.submit` (``POST /articles`` bodies),
:mod:`.openapi` (the API description) and :mod:`.cli` (the ``serve`` command).
"""

from .app import create_app

__all__ = ["create_app"]
