"""Pure run analysis (issue 9): turns fetched figures into verdicts. No I/O here; fetching lives elsewhere."""
