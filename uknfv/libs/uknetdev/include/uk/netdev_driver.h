/*
 * uknetdev, the driver side: the ops table a NIC driver implements, the
 * struct uk_netdev it embeds, and driver registration.
 *
 * A driver defines
 *
 *   static int my_probe(void) { ... uk_netdev_register(&dev->nd); ... }
 *   UK_NETDEV_DRIVER(my_driver, "my-nic", my_probe);
 *
 * UK_NETDEV_DRIVER puts a descriptor into the linker section
 * "uk_netdev_drivers"; uk_netdev_probe_all() walks the section (the linker
 * provides __start_/__stop_ symbols for it and keeps it under
 * --gc-sections), so linking a driver is all it takes to enable it.
 */
#ifndef UK_NETDEV_DRIVER_H
#define UK_NETDEV_DRIVER_H

#include "uk/netdev.h"

struct uk_netdev_ops {
	void (*info_get)(struct uk_netdev *d, struct uk_netdev_info *info);
	int (*configure)(struct uk_netdev *d, uint16_t nrxq, uint16_t ntxq);
	int (*rxq_setup)(struct uk_netdev *d, uint16_t q, uint16_t ndesc);
	int (*txq_setup)(struct uk_netdev *d, uint16_t q, uint16_t ndesc);
	int (*start)(struct uk_netdev *d);
	unsigned (*rx_burst)(struct uk_netdev *d, uint16_t q, struct pkt **pkts, unsigned n);
	unsigned (*tx_burst)(struct uk_netdev *d, uint16_t q, struct pkt **pkts, unsigned n);
	int (*rx_intr_enable)(struct uk_netdev *d, uint16_t q);     /* NULL: not supported */
	int (*rx_intr_disable)(struct uk_netdev *d, uint16_t q);
};

enum uk_netdev_state {
	UK_NETDEV_UNCONFIGURED = 0,
	UK_NETDEV_CONFIGURED,
	UK_NETDEV_RUNNING,
};

/* Embedded in the driver's own device structure (container_of style). */
struct uk_netdev {
	const struct uk_netdev_ops *ops;
	enum uk_netdev_state state;
	unsigned index;                 /* set by uk_netdev_register */
	uint16_t nrxq, ntxq;            /* from configure */
	uint16_t max_rxq, max_txq;      /* set by the driver before registering */
	/* counters the driver keeps up to date (summed over queues) */
	struct uk_netdev_qstats rx, tx;
};

struct uk_netdev_driver {
	const char *name;
	int (*probe)(void);             /* registers each device found; returns how many, < 0 error */
};

#define UK_NETDEV_DRIVER(ident, drvname, probefn)                                        \
	static const struct uk_netdev_driver ident                                        \
		__attribute__((used, section("uk_netdev_drivers"), aligned(8))) = {       \
		.name = (drvname), .probe = (probefn) }

#ifndef UK_NETDEV_MAX
#define UK_NETDEV_MAX 16
#endif

/* Adds d to the registry (in call order); returns its index or -ENOSPC. */
int uk_netdev_register(struct uk_netdev *d);

#endif
