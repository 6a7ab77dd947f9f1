"""uknfv element library: standard."""
