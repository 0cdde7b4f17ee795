"""HTML rendering of `bmru verify` reports (docs/reference/report-format.md)."""
