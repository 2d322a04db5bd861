"""Slack adapters: the chat port's implementation, the Web API client, ids, Block Kit, manifest, HTTP."""
