"""Tables of the booking domain."""
