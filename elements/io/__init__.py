"""uknfv element library: io."""
