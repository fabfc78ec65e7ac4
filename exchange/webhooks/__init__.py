"""Webhook endpoints and their deliveries, per the Standard Webhooks specification (SPEC §9)."""
