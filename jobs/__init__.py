"""Command-line jobs: `python -m jobs <command>` (interfaces.md)."""
