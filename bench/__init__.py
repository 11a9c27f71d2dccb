"""Benchmarks (`make bench`): each measures its own baseline in the same run and reports the ratio."""
