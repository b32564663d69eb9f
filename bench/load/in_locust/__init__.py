"""Runs inside locust, never in the harness: imports locust and gevent.

May import only ``bench.load.schedule`` (pure arithmetic) and each other.
"""
