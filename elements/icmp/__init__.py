"""uknfv element library: icmp."""
