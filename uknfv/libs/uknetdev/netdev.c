/*
 * uknetdev: the registry of NICs and the state checks around the drivers'
 * ops.  The burst calls go straight to the driver (one indirect call per
 * burst).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include "uk/netdev_driver.h"
#include "uk/plat.h"

static struct uk_netdev *devs[UK_NETDEV_MAX];
static unsigned ndevs;
static int probed;

extern const struct uk_netdev_driver __start_uk_netdev_drivers[] __attribute__((weak));
extern const struct uk_netdev_driver __stop_uk_netdev_drivers[] __attribute__((weak));

int uk_netdev_register(struct uk_netdev *d)
{
	if (ndevs >= UK_NETDEV_MAX) {
		uk_printf("uknetdev: more than %u NICs, the rest are ignored\n", UK_NETDEV_MAX);
		return -ENOSPC;
	}
	d->index = ndevs;
	d->state = UK_NETDEV_UNCONFIGURED;
	memset(&d->rx, 0, sizeof d->rx);
	memset(&d->tx, 0, sizeof d->tx);
	devs[ndevs++] = d;
	return (int)d->index;
}

int uk_netdev_probe_all(void)
{
	if (probed)
		return (int)ndevs;
	probed = 1;
	const struct uk_netdev_driver *drv = __start_uk_netdev_drivers;
	for (; drv && drv < __stop_uk_netdev_drivers; drv++) {
		int r = drv->probe();
		if (r < 0)
			uk_printf("uknetdev: driver %s: probe failed (%d)\n", drv->name, r);
	}
	return (int)ndevs;
}

unsigned uk_netdev_count(void)
{
	return ndevs;
}

struct uk_netdev *uk_netdev_get(unsigned i)
{
	return i < ndevs ? devs[i] : NULL;
}

void uk_netdev_info_get(struct uk_netdev *d, struct uk_netdev_info *info)
{
	memset(info, 0, sizeof *info);
	info->mtu = 1500;
	info->link_up = 1;
	info->max_rxq = d->max_rxq;
	info->max_txq = d->max_txq;
	d->ops->info_get(d, info);
}

int uk_netdev_configure(struct uk_netdev *d, uint16_t nrxq, uint16_t ntxq)
{
	if (d->state != UK_NETDEV_UNCONFIGURED || !nrxq || !ntxq || nrxq > d->max_rxq
	    || ntxq > d->max_txq)
		return -EINVAL;
	int r = d->ops->configure(d, nrxq, ntxq);
	if (r)
		return r;
	d->nrxq = nrxq;
	d->ntxq = ntxq;
	d->state = UK_NETDEV_CONFIGURED;
	return 0;
}

int uk_netdev_rxq_setup(struct uk_netdev *d, uint16_t q, uint16_t ndesc)
{
	if (d->state != UK_NETDEV_CONFIGURED || q >= d->nrxq)
		return -EINVAL;
	return d->ops->rxq_setup(d, q, ndesc);
}

int uk_netdev_txq_setup(struct uk_netdev *d, uint16_t q, uint16_t ndesc)
{
	if (d->state != UK_NETDEV_CONFIGURED || q >= d->ntxq)
		return -EINVAL;
	return d->ops->txq_setup(d, q, ndesc);
}

int uk_netdev_start(struct uk_netdev *d)
{
	if (d->state != UK_NETDEV_CONFIGURED)
		return -EINVAL;
	int r = d->ops->start(d);
	if (r)
		return r;
	d->state = UK_NETDEV_RUNNING;
	return 0;
}

unsigned uk_netdev_rx_burst(struct uk_netdev *d, uint16_t q, struct pkt **pkts, unsigned n)
{
	return d->ops->rx_burst(d, q, pkts, n);
}

unsigned uk_netdev_tx_burst(struct uk_netdev *d, uint16_t q, struct pkt **pkts, unsigned n)
{
	return d->ops->tx_burst(d, q, pkts, n);
}

int uk_netdev_rx_intr_enable(struct uk_netdev *d, uint16_t q)
{
	if (d->state != UK_NETDEV_RUNNING || q >= d->nrxq)
		return -EINVAL;
	if (!d->ops->rx_intr_enable)
		return -ENOTSUP;
	return d->ops->rx_intr_enable(d, q);
}

int uk_netdev_rx_intr_disable(struct uk_netdev *d, uint16_t q)
{
	if (d->state != UK_NETDEV_RUNNING || q >= d->nrxq)
		return -EINVAL;
	if (!d->ops->rx_intr_disable)
		return -ENOTSUP;
	return d->ops->rx_intr_disable(d, q);
}

void uk_netdev_stats(struct uk_netdev *d, struct uk_netdev_qstats *rx, struct uk_netdev_qstats *tx)
{
	if (rx)
		*rx = d->rx;
	if (tx)
		*tx = d->tx;
}
