"""Benchmarks: each compares our rate with the raw limit measured in the same run."""
