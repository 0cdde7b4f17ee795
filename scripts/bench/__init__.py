"""Benchmarks of the simulator driver, the reference network, simulation modes and sweeps (results/bench/)."""
