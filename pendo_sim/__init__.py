"""A local Pendo API simulator: synthetic data, the aggregation engine and its HTTP server."""
