"""BMRUKit's Python side: scripts.train (training pipeline), scripts.report (report.html), scripts.bench (benchmarks)."""
