"""Benchmarks (`make bench`). Each prints its figures next to a baseline measured in the same
run on the same data, so the ratios mean something on any machine."""
