"""The shared kernel every topic may use: settings, dates, logging, name normal forms, safe CSV."""
