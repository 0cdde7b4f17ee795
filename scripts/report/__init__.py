"""HTML rendering of `bmru verify` reports (docs/report-format.md)."""
