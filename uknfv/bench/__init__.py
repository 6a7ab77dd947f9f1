"""`uknfv bench`: RFC 2544 throughput and latency of a vNF against baselines.

search.py   the zero-loss binary search and the rate arithmetic (no I/O)
wiring.py   generator, devices under test, vhost-user sockets and veths
runner.py   sessions interleaved over frame sizes, systems and repetitions
report.py   the table, the Markdown table, the PNG plot, the sanity check
"""
