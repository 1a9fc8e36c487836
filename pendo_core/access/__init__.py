"""Who sees which customer: the pure rule (`rules`) and the same rule as SQL filters (`sql`)."""
