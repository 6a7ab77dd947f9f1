/*
 * The `if:` backend: an existing Linux interface through an AF_PACKET
 * socket with TPACKET_V2 rings shared with the kernel (mmap).
 *
 *   if:IFACE[,nopromisc][,qdisc_bypass]
 *
 * RX walks the ring: no system call per packet (the kernel fills frames
 * and flips their status word; we copy each frame into a pool packet and
 * hand the frame back).  TX fills ring frames and kicks the kernel with one
 * sendto() per burst.  Packets the host itself sends on the interface
 * (PACKET_OUTGOING, including ours) are not received.  The interface is
 * put in promiscuous mode while the port is open (unless nopromisc), as a
 * vNF in the path of traffic needs; qdisc_bypass hands TX frames straight
 * to the driver (PACKET_QDISC_BYPASS: faster, but invisible to tcpdump on
 * this host and not shaped by tc).
 *
 * Frames sent by local sockets get their TCP/UDP checksum completed (the
 * kernel leaves it to the NIC), so traffic from network namespaces on veth
 * pairs is forwarded with valid checksums.
 *
 * Drops are counted: frames the kernel could not store because the ring was
 * full (PACKET_STATISTICS), frames too large for a packet buffer (RX), and
 * packets that did not fit the interface's MTU or a full TX ring (TX).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "uknfv/linuxio.h"
#include "uknfv/pktpool.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#ifndef PACKET_QDISC_BYPASS
#define PACKET_QDISC_BYPASS 20
#endif

#define AFP_FRAME_SIZE   2048u          /* one frame per packet, MTU 1500 + headers */
#define AFP_BLOCK_SIZE   (1u << 16)     /* 32 frames per block */
#define AFP_RX_BLOCKS    64u            /* 2048 RX frames, 4 MiB */
#define AFP_TX_BLOCKS    16u            /* 512 TX frames, 1 MiB */
/* Where a TX frame's data starts (the kernel's tp_hdrlen - sockaddr_ll). */
#define AFP_TX_DATA      TPACKET_ALIGN(sizeof(struct tpacket2_hdr))

struct afp_ring {
	uint8_t *base;
	unsigned nframes;
	unsigned idx;
};

struct afp_port {
	int fd;
	char ifname[IFNAMSIZ];
	int ifindex;
	unsigned mtu;
	uint8_t *map;
	size_t map_len;
	struct afp_ring rx, tx;
	int warned_big;
};

static inline struct tpacket2_hdr *afp_frame(struct afp_ring *r, unsigned i)
{
	return (struct tpacket2_hdr *)(r->base + (size_t)i * AFP_FRAME_SIZE);
}

/* Add the kernel's ring-full drops since the last call to rx_drops. */
static void afp_kernel_drops(struct rt_port *port)
{
	struct afp_port *s = port->state;
	struct tpacket_stats st;
	socklen_t len = sizeof st;
	if (s->rx.base && !getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		port->rx_drops += st.tp_drops;
}

static void afp_close(struct rt_port *port)
{
	struct afp_port *s = port->state;
	if (!s)
		return;
	if (s->fd >= 0)
		afp_kernel_drops(port);
	if (s->map && s->map != MAP_FAILED)
		munmap(s->map, s->map_len);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	port->state = NULL;
}

static int afp_fail(struct rt_port *port, char *err, size_t errlen, const char *fmt, const char *what)
{
	snprintf(err, errlen, fmt, what, strerror(errno));
	afp_close(port);
	return -1;
}

static int afp_open(struct rt_port *port, const char *arg, char *err, size_t errlen)
{
	int promisc = 1, bypass = 0;
	char *copy = strdup(arg), *save = NULL;
	char *ifname = strtok_r(copy, ",", &save);
	if (!ifname || !*ifname) {
		snprintf(err, errlen, "if: expects an interface name (if:IFACE, e.g. if:eth0)");
		free(copy);
		return -1;
	}
	for (char *opt = strtok_r(NULL, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (!strcmp(opt, "nopromisc"))
			promisc = 0;
		else if (!strcmp(opt, "promisc"))
			promisc = 1;
		else if (!strcmp(opt, "qdisc_bypass") || !strcmp(opt, "bypass"))
			bypass = 1;
		else {
			snprintf(err, errlen, "if:%s: unknown option '%s' (expected nopromisc, qdisc_bypass)",
				 ifname, opt);
			free(copy);
			return -1;
		}
	}
	if (strlen(ifname) >= IFNAMSIZ) {
		snprintf(err, errlen, "if:%s: interface name too long (at most %d characters)",
			 ifname, IFNAMSIZ - 1);
		free(copy);
		return -1;
	}

	struct afp_port *s = calloc(1, sizeof *s);
	s->fd = -1;
	snprintf(s->ifname, sizeof s->ifname, "%s", ifname);
	free(copy);
	port->state = s;

	s->ifindex = (int)if_nametoindex(s->ifname);
	if (!s->ifindex) {
		snprintf(err, errlen, "if:%s: no such network interface (see `ip link`)", s->ifname);
		afp_close(port);
		return -1;
	}
	/* Protocol 0: receive nothing until bound (no stray packets in the ring). */
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		if (errno == EPERM || errno == EACCES)
			snprintf(err, errlen, "if:%s: opening an AF_PACKET socket needs root or CAP_NET_RAW "
				 "(run as root, or `setcap cap_net_raw,cap_net_admin+ep` on the program)",
				 s->ifname);
		else
			snprintf(err, errlen, "if:%s: AF_PACKET socket: %s", s->ifname, strerror(errno));
		afp_close(port);
		return -1;
	}

	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", s->ifname);
	s->mtu = ioctl(s->fd, SIOCGIFMTU, &ifr) == 0 ? (unsigned)ifr.ifr_mtu : 1500;
	if (ioctl(s->fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP))
		rt_log("warning: port '%s': interface %s is down (ip link set %s up)",
		       port->name, s->ifname, s->ifname);

	int v = TPACKET_V2;
	if (setsockopt(s->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v))
		return afp_fail(port, err, errlen, "if:%s: TPACKET_V2 not supported: %s", s->ifname);

	struct tpacket_req req_rx = { 0 }, req_tx = { 0 };
	size_t rx_len = 0, tx_len = 0;
	if (port->dir & RT_PORT_RX) {
		v = 1;
		/* Our own TX (and the host's) is not input; best effort on old kernels. */
		setsockopt(s->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof v);
		req_rx.tp_block_size = AFP_BLOCK_SIZE;
		req_rx.tp_block_nr = AFP_RX_BLOCKS;
		req_rx.tp_frame_size = AFP_FRAME_SIZE;
		req_rx.tp_frame_nr = AFP_RX_BLOCKS * (AFP_BLOCK_SIZE / AFP_FRAME_SIZE);
		if (setsockopt(s->fd, SOL_PACKET, PACKET_RX_RING, &req_rx, sizeof req_rx))
			return afp_fail(port, err, errlen, "if:%s: cannot set up the RX ring: %s", s->ifname);
		rx_len = (size_t)req_rx.tp_block_size * req_rx.tp_block_nr;
	}
	if (port->dir & RT_PORT_TX) {
		v = 1;
		/* Skip malformed frames instead of stalling the ring on them. */
		setsockopt(s->fd, SOL_PACKET, PACKET_LOSS, &v, sizeof v);
		if (bypass)
			setsockopt(s->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &v, sizeof v);
		req_tx.tp_block_size = AFP_BLOCK_SIZE;
		req_tx.tp_block_nr = AFP_TX_BLOCKS;
		req_tx.tp_frame_size = AFP_FRAME_SIZE;
		req_tx.tp_frame_nr = AFP_TX_BLOCKS * (AFP_BLOCK_SIZE / AFP_FRAME_SIZE);
		if (setsockopt(s->fd, SOL_PACKET, PACKET_TX_RING, &req_tx, sizeof req_tx))
			return afp_fail(port, err, errlen, "if:%s: cannot set up the TX ring: %s", s->ifname);
		tx_len = (size_t)req_tx.tp_block_size * req_tx.tp_block_nr;
	}
	s->map_len = rx_len + tx_len;
	s->map = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, s->fd, 0);
	if (s->map == MAP_FAILED)   /* MAP_LOCKED may exceed RLIMIT_MEMLOCK: retry without */
		s->map = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->map == MAP_FAILED)
		return afp_fail(port, err, errlen, "if:%s: cannot map the packet rings: %s", s->ifname);
	if (rx_len) {
		s->rx.base = s->map;
		s->rx.nframes = req_rx.tp_frame_nr;
	}
	if (tx_len) {
		s->tx.base = s->map + rx_len;
		s->tx.nframes = req_tx.tp_frame_nr;
	}

	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = s->ifindex;
	sll.sll_protocol = (port->dir & RT_PORT_RX) ? htons(ETH_P_ALL) : 0;
	if (bind(s->fd, (struct sockaddr *)&sll, sizeof sll))
		return afp_fail(port, err, errlen, "if:%s: bind: %s", s->ifname);

	if (promisc && (port->dir & RT_PORT_RX)) {
		struct packet_mreq mr;
		memset(&mr, 0, sizeof mr);
		mr.mr_ifindex = s->ifindex;
		mr.mr_type = PACKET_MR_PROMISC;
		if (setsockopt(s->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr))
			rt_log("warning: port '%s': cannot make %s promiscuous: %s",
			       port->name, s->ifname, strerror(errno));
	}
	/* Start counting kernel drops from now. */
	afp_kernel_drops(port);
	port->rx_drops = 0;
	return 0;
}

/*
 * Finish the TCP/UDP checksum of a frame sent by a local socket (on this
 * host or across a veth from another namespace): the kernel leaves it to
 * the NIC (CHECKSUM_PARTIAL, TP_STATUS_CSUMNOTREADY), so as received the
 * checksum field holds only the pseudo-header sum.  Forwarded as is, the
 * frame would be dropped by its receiver.  IPv4 and IPv6 (no extension
 * headers), behind up to two VLAN tags.
 */
static void afp_fix_csum(uint8_t *d, uint32_t len)
{
	uint32_t off = 12;
	if (len < 14)
		return;
	uint16_t et = rd16(d + off);
	for (int tags = 0; (et == ETH_P_8021Q || et == ETH_P_8021AD) && tags < 2; tags++) {
		off += 4;
		if (off + 2 > len)
			return;
		et = rd16(d + off);
	}
	off += 2;
	uint8_t *l3 = d + off, *l4;
	uint32_t l4len, sum;
	uint8_t proto;
	if (et == ETH_P_IP) {
		if (off + 20 > len || (l3[0] >> 4) != 4)
			return;
		uint32_t hl = (l3[0] & 15u) * 4, tot = rd16(l3 + 2);
		if (hl < 20 || tot < hl || off + tot > len || (rd16(l3 + 6) & 0x3fff))
			return;
		proto = l3[9];
		l4 = l3 + hl;
		l4len = tot - hl;
		sum = cksum_add(0, l3 + 12, 8);
	} else if (et == ETH_P_IPV6) {
		if (off + 40 > len || (l3[0] >> 4) != 6)
			return;
		proto = l3[6];
		l4 = l3 + 40;
		l4len = rd16(l3 + 4);
		if (off + 40 + l4len > len)
			return;
		sum = cksum_add(0, l3 + 8, 32);
	} else {
		return;
	}
	uint32_t field;
	if (proto == IPPROTO_TCP && l4len >= 20)
		field = 16;
	else if (proto == IPPROTO_UDP && l4len >= 8)
		field = 6;
	else
		return;
	sum += proto + (l4len & 0xffff) + (l4len >> 16);
	wr16(l4 + field, 0);
	uint16_t c = cksum_fold(cksum_add(sum, l4, l4len));
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	wr16(l4 + field, c);
}

static unsigned afp_rx(struct rt_port *port, struct pkt **pkts, unsigned n)
{
	struct afp_port *s = port->state;
	struct afp_ring *r = &s->rx;
	unsigned got = 0;
	while (got < n) {
		struct tpacket2_hdr *h = afp_frame(r, r->idx);
		uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		if (!(status & TP_STATUS_USER))
			break;
		if (__builtin_expect(status & TP_STATUS_LOSING, 0))
			afp_kernel_drops(port);
		const struct sockaddr_ll *sll =
			(const struct sockaddr_ll *)((uint8_t *)h + TPACKET_ALIGN(sizeof(struct tpacket2_hdr)));
		const uint8_t *frame = (const uint8_t *)h + h->tp_mac;
		uint32_t len = h->tp_snaplen;
		int vlan = (status & TP_STATUS_VLAN_VALID) && len >= 12;
		struct pkt *p = NULL;
		if (sll->sll_pkttype == PACKET_OUTGOING)
			goto next;
		if (h->tp_snaplen < h->tp_len || len + (vlan ? 4 : 0) > PKT_DATAROOM) {
			port->rx_drops++;
			if (!s->warned_big) {
				s->warned_big = 1;
				rt_log("warning: port '%s': dropped a %u-byte frame from %s: larger than a "
				       "packet buffer (offloads merge segments: turn them off, e.g. "
				       "ethtool -K %s gro off lro off, and tso/gso off where the traffic "
				       "is sent)", port->name, h->tp_len, s->ifname, s->ifname);
			}
			goto next;
		}
		p = pkt_alloc();
		if (!p)
			break;          /* pool empty: leave the frame for the next round */
		if (vlan) {
			/* TPACKET strips the 802.1Q tag into the header: put it back. */
			uint16_t tpid = (status & TP_STATUS_VLAN_TPID_VALID) && h->tp_vlan_tpid
				? h->tp_vlan_tpid : ETH_P_8021Q;
			memcpy(p->data, frame, 12);
			wr16(p->data + 12, tpid);
			wr16(p->data + 14, h->tp_vlan_tci);
			memcpy(p->data + 16, frame + 12, len - 12);
			p->len = len + 4;
		} else {
			memcpy(p->data, frame, len);
			p->len = len;
		}
		if (status & TP_STATUS_CSUMNOTREADY)
			afp_fix_csum(p->data, p->len);
		p->mac = p->data;
		p->ts_ns = (uint64_t)h->tp_sec * 1000000000ull + h->tp_nsec;
		p->pkt_type = sll->sll_pkttype <= PACKET_OTHERHOST ? sll->sll_pkttype : PKT_TYPE_HOST;
		pkts[got++] = p;
	next:
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		if (++r->idx == r->nframes)
			r->idx = 0;
	}
	return got;
}

static void afp_kick(struct afp_port *s)
{
	while (sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno == EINTR)
		;
}

static void afp_tx(struct rt_port *port, struct pkt **pkts, unsigned n)
{
	struct afp_port *s = port->state;
	struct afp_ring *r = &s->tx;
	unsigned queued = 0, kicked = 0;
	uint32_t max_len = s->mtu + ETH_HLEN + 4;       /* + one VLAN tag */
	if (max_len > AFP_FRAME_SIZE - AFP_TX_DATA)
		max_len = AFP_FRAME_SIZE - AFP_TX_DATA;
	for (unsigned i = 0; i < n; i++) {
		struct pkt *p = pkts[i];
		if (p->len < ETH_HLEN || p->len > max_len) {
			port->tx_drops++;
			pkt_kill(p);
			continue;
		}
		struct tpacket2_hdr *h = afp_frame(r, r->idx);
		uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		if (status != TP_STATUS_AVAILABLE && status != TP_STATUS_WRONG_FORMAT) {
			/* Ring full: let the kernel send what is queued, then look again. */
			if (!kicked) {
				afp_kick(s);
				kicked = 1;
				queued = 0;
				status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
			}
			if (status != TP_STATUS_AVAILABLE && status != TP_STATUS_WRONG_FORMAT) {
				port->tx_drops++;
				pkt_kill(p);
				continue;
			}
		}
		memcpy((uint8_t *)h + AFP_TX_DATA, p->data, p->len);
		h->tp_len = p->len;
		h->tp_snaplen = p->len;
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		if (++r->idx == r->nframes)
			r->idx = 0;
		queued++;
		pkt_kill(p);
	}
	if (queued)
		afp_kick(s);
}

static int afp_pollfd(struct rt_port *port)
{
	struct afp_port *s = port->state;
	/* Called when the run loop is about to sleep: a cheap moment to collect
	 * the kernel's drop counter. */
	afp_kernel_drops(port);
	return s->fd;
}

const struct rt_port_backend rt_afpacket_backend = {
	.scheme = "if", .usage = "if:IFACE[,nopromisc][,qdisc_bypass]",
	.open = afp_open, .rx = afp_rx, .tx = afp_tx, .pollfd = afp_pollfd, .close = afp_close,
};
