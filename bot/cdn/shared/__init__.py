"""State every replica shares through Redis: the API's rate schedule and the read cache."""
