"""Tables of the matching domain."""
