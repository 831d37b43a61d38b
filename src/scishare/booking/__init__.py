"""Machine-time reservations and sample-testing orders that can never double-book."""
