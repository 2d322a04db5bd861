"""The acknowledgement path: parse, authorize, record within a budget, acknowledge, hand over."""
