"""`python -m flashnews` is the `flashnews` command."""

from flashnews.cli import main

main()
