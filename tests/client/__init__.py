"""Tests of the Kalshi HTTP client, over real HTTP to a local test server."""
