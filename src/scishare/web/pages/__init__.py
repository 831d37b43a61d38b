"""HTML pages rendered with Jinja, in Simplified Chinese or English."""
