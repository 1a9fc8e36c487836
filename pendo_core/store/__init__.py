"""Persistence: tables, engine and repository functions (take a Session, never commit)."""
