/*
 * The `tap:` backend: a TAP device (Ethernet frames, no packet info header).
 *
 *   tap:NAME
 *
 * Opens /dev/net/tun with IFF_TAP | IFF_NO_PI, which creates NAME if it
 * does not exist (it disappears again when the vNF exits) or attaches to
 * an existing persistent TAP (`ip tuntap add NAME mode tap`), then sets the
 * interface up.  RX reads the non-blocking descriptor in bursts until it
 * has nothing more; TX writes one frame per write(); the descriptor is the
 * run loop's wake-up source while idle.  Frames too large for a packet
 * buffer (RX) and frames the kernel refused (TX) are counted as drops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "uknfv/linuxio.h"
#include "uknfv/pktpool.h"

struct tap_port {
	int fd;
	char ifname[IFNAMSIZ];
	int warned_big, warned_tx;
};

static void tap_close(struct rt_port *port)
{
	struct tap_port *s = port->state;
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	port->state = NULL;
}

/* ifconfig NAME up. */
static int tap_set_up(const char *name, char *err, size_t errlen)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		snprintf(err, errlen, "tap:%s: socket: %s", name, strerror(errno));
		return -1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	int rc = 0;
	if (ioctl(sock, SIOCGIFFLAGS, &ifr)) {
		snprintf(err, errlen, "tap:%s: cannot read the interface flags: %s", name, strerror(errno));
		rc = -1;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(sock, SIOCSIFFLAGS, &ifr)) {
			if (errno == EPERM || errno == EACCES)
				snprintf(err, errlen, "tap:%s: setting the interface up needs root or "
					 "CAP_NET_ADMIN (or bring it up first: ip link set %s up)", name, name);
			else
				snprintf(err, errlen, "tap:%s: cannot set the interface up: %s", name,
					 strerror(errno));
			rc = -1;
		}
	}
	close(sock);
	return rc;
}

static int tap_open(struct rt_port *port, const char *arg, char *err, size_t errlen)
{
	if (!*arg) {
		snprintf(err, errlen, "tap: expects a device name (tap:NAME, e.g. tap:uknfv0)");
		return -1;
	}
	if (strlen(arg) >= IFNAMSIZ || strchr(arg, '/') || strchr(arg, ' ') || strchr(arg, ',')) {
		snprintf(err, errlen, "tap:%s: not a valid interface name (at most %d characters, "
			 "no '/', ',' or spaces)", arg, IFNAMSIZ - 1);
		return -1;
	}
	struct tap_port *s = calloc(1, sizeof *s);
	snprintf(s->ifname, sizeof s->ifname, "%s", arg);
	port->state = s;
	s->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (s->fd < 0) {
		if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
			snprintf(err, errlen, "tap:%s: /dev/net/tun is missing (load the tun module: "
				 "modprobe tun)", s->ifname);
		else if (errno == EPERM || errno == EACCES)
			snprintf(err, errlen, "tap:%s: opening /dev/net/tun needs root or CAP_NET_ADMIN",
				 s->ifname);
		else
			snprintf(err, errlen, "tap:%s: /dev/net/tun: %s", s->ifname, strerror(errno));
		tap_close(port);
		return -1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", s->ifname);
	if (ioctl(s->fd, TUNSETIFF, &ifr)) {
		if (errno == EPERM || errno == EACCES)
			snprintf(err, errlen, "tap:%s: creating or attaching a TAP device needs root or "
				 "CAP_NET_ADMIN (or a persistent TAP owned by this user: "
				 "ip tuntap add %s mode tap user $USER)", s->ifname, s->ifname);
		else if (errno == EBUSY)
			snprintf(err, errlen, "tap:%s: the device is already in use by another process",
				 s->ifname);
		else if (errno == EINVAL)
			snprintf(err, errlen, "tap:%s: an interface of that name exists and is not a TAP "
				 "device (or has other flags, e.g. multi-queue or a PI header)", s->ifname);
		else
			snprintf(err, errlen, "tap:%s: TUNSETIFF: %s", s->ifname, strerror(errno));
		tap_close(port);
		return -1;
	}
	if (tap_set_up(s->ifname, err, errlen)) {
		tap_close(port);
		return -1;
	}
	return 0;
}

static unsigned tap_rx(struct rt_port *port, struct pkt **pkts, unsigned n)
{
	struct tap_port *s = port->state;
	unsigned got = 0;
	while (got < n) {
		struct pkt *p = pkt_alloc();
		if (!p)
			break;
		uint32_t room = p->cap - pkt_headroom(p);
		/* One spare byte tells a frame larger than the buffer (which the
		 * kernel would cut silently) from one that fits exactly. */
		uint8_t spare;
		struct iovec iov[2] = { { p->data, room }, { &spare, 1 } };
		ssize_t r = readv(s->fd, iov, 2);
		if (r <= 0) {
			pkt_kill(p);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && !s->warned_big) {
				s->warned_big = 1;
				rt_log("warning: port '%s': read from %s: %s", port->name, s->ifname,
				       strerror(errno));
			}
			break;
		}
		if ((size_t)r > room) {       /* the kernel cut it to our buffer */
			pkt_kill(p);
			port->rx_drops++;
			continue;
		}
		p->len = (uint32_t)r;
		p->mac = p->data;
		pkts[got++] = p;
	}
	return got;
}

static void tap_tx(struct rt_port *port, struct pkt **pkts, unsigned n)
{
	struct tap_port *s = port->state;
	for (unsigned i = 0; i < n; i++) {
		struct pkt *p = pkts[i];
		ssize_t w;
		do
			w = write(s->fd, p->data, p->len);
		while (w < 0 && errno == EINTR);
		if (w != (ssize_t)p->len) {
			port->tx_drops++;
			if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS
			    && !s->warned_tx) {
				s->warned_tx = 1;
				rt_log("warning: port '%s': write to %s: %s", port->name, s->ifname,
				       strerror(errno));
			}
		}
		pkt_kill(p);
	}
}

static int tap_pollfd(struct rt_port *port)
{
	struct tap_port *s = port->state;
	return s->fd;
}

const struct rt_port_backend rt_tap_backend = {
	.scheme = "tap", .usage = "tap:NAME",
	.open = tap_open, .rx = tap_rx, .tx = tap_tx, .pollfd = tap_pollfd, .close = tap_close,
};
