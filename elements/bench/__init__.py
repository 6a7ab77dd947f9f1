"""uknfv element library: bench (the RFC 2544 harness's traffic generator and sink)."""
