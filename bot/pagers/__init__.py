"""Adapters from the pager port (commands/pager.py) to PagerDuty's Events API v2 and Opsgenie's Alert API."""
