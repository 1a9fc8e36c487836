"""The sync: Pendo entities and usage into the store, one committed window at a time."""
