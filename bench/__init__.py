"""Benchmarks of issue 2, run as ``python -m bench [name]`` (``make bench B=name``).

Not tests: each one measures a figure and a baseline in the same run and prints one
JSON line per figure on stdout; progress and diagnostics go to stderr.
"""
