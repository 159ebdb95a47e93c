"""Public voting: voters and one-time codes, votes and quotas, tallies, fraud signals."""
