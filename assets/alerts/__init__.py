"""Alerts: the rules of SPEC section 4 over the marts, their lifecycle, and notifications that arrive once."""
