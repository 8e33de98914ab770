"""嘉许回馈 (seeds 001, 002, 004): hours-for-benefits items and the redemption ledger."""
