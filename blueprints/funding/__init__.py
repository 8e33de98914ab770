"""Funding (经费保障): ledger, purchased-service projects, audits, public statements."""
