"""The JSON API, mounted under /api: thin routes over the domain services."""
