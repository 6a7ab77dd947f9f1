#include <stdlib.h>
#include "uknfv/pktpool.h"

struct pkt_pool pkt_pool;

/* Hook for hosted transports whose device must reach the buffers (the
 * vhost-user transport, ukvhostuser, defines it: memfd-backed MAP_SHARED
 * memory); weak, so without it the buffers come from the C library. */
void *pkt_pool_shared_alloc(size_t size) __attribute__((weak));

int pkt_pool_init(uint32_t n)
{
	struct pkt *pkts = calloc(n, sizeof(struct pkt));
	size_t bytes = (size_t)n * PKT_BUFSIZE;
	uint8_t *bufs = pkt_pool_shared_alloc ? pkt_pool_shared_alloc(bytes) : aligned_alloc(64, bytes);
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
