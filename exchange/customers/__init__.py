"""Customers, who exist here only as keyed pseudonyms: erasing one on request."""
