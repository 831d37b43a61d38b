"""The web layer: HTML pages, the JSON API and the translation of errors into HTTP."""
