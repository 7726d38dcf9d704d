"""`python -m storyweave` is the `storyweave` command."""

from .cli import main

main()
