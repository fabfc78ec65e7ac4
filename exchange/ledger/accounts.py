"""The ledger's account kinds (pure constants)."""

# Accounts are kept per merchant, per counterparty and per kind (SPEC §5 issue: ledger).
COMMISSION_RECEIVABLE = "commission_receivable"  # the distributor's claim on the owner
COMMISSION_PAYABLE = "commission_payable"        # the owner's debt to the distributor
COFUNDING_RECEIVABLE = "cofunding_receivable"    # the owner's claim on the distributor
COFUNDING_PAYABLE = "cofunding_payable"          # the distributor's share of a discount
ADJUSTMENT_RECEIVABLE = "adjustment_receivable"  # a correction owed to the merchant
ADJUSTMENT_PAYABLE = "adjustment_payable"
