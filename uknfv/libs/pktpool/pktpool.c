#include <stdlib.h>
#include "uknfv/pktpool.h"

struct pkt_pool pkt_pool;

int pkt_pool_init(uint32_t n)
{
	struct pkt *pkts = calloc(n, sizeof(struct pkt));
	uint8_t *bufs = aligned_alloc(64, (size_t)n * PKT_BUFSIZE);
	pkt_pool.free = calloc(n, sizeof(struct pkt *));
	if (!pkts || !bufs || !pkt_pool.free)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		pkts[i].buf = bufs + (size_t)i * PKT_BUFSIZE;
		pkts[i].cap = PKT_BUFSIZE;
		pkt_pool.free[n - 1 - i] = &pkts[i];
	}
	pkt_pool.nfree = pkt_pool.size = n;
	return 0;
}
