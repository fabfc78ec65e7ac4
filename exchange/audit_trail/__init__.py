"""The operator's view of the audit trail: a paged list and CSV/XLSX exports."""
