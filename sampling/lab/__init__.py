"""Tube to result: boxes, results, positive pools and their follow-up, turnaround, the collection query."""
