"""Self-contained widgets of the moderator app."""
