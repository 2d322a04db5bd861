"""Issue tracker adapters (GitHub, Jira Cloud) behind the tracker port, and the one the config picks."""
