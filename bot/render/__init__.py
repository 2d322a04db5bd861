"""Rendering incident state for people: Slack messages and postmortem drafts from templates."""
