"""uknfv element library: elements."""
