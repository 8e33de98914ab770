"""Insurance (保险保障, seeds 000, 002): policies for volunteers, expiry and risky-activity warnings, coverage."""
