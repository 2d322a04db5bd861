"""Benchmark suite: measures the app against the Slack emulator and writes docs/performance.md."""
