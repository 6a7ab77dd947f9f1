"""uknfv element library: ethernet."""
