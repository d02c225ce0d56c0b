"""Benchmarks and the data generator, run on demand (never by the test suite): see README.md."""
