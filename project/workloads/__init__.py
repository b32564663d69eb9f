"""The workloads: one response builder each, served by a sync and an async view."""
