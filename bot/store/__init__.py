"""Durable state: subscriptions, announced failures and the watcher's high-water mark."""
