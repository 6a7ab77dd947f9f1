"""uknfv element library: nfv (elements beyond Click: tunnels, load balancing)."""
