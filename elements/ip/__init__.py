"""uknfv element library: ip."""
