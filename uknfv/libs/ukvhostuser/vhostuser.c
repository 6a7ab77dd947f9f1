/*
 * ukvhostuser: the vhost-user transport of ukvirtio (struct uk_virtio_ops),
 * so that ukvirtionet drives a DPDK vhost back-end from a Linux process.
 * The protocol is QEMU's vhost-user specification (front-end side, socket
 * client); see include/uk/vhostuser.h and README.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "uk/alloc.h"
#include "uk/plat.h"
#include "uk/vhostuser.h"
#include "uk/virtio.h"

/* requests (front-end to back-end) */
#define VU_GET_FEATURES           1
#define VU_SET_FEATURES           2
#define VU_SET_OWNER              3
#define VU_SET_MEM_TABLE          5
#define VU_SET_VRING_NUM          8
#define VU_SET_VRING_ADDR         9
#define VU_SET_VRING_BASE         10
#define VU_SET_VRING_KICK         12
#define VU_SET_VRING_CALL         13
#define VU_GET_PROTOCOL_FEATURES  15
#define VU_SET_PROTOCOL_FEATURES  16
#define VU_SET_VRING_ENABLE       18

#define VU_VERSION          0x1
#define VU_FLAG_REPLY       0x4
#define VU_FLAG_NEED_REPLY  0x8

#define VU_F_PROTOCOL_FEATURES   30      /* a virtio feature bit only vhost-user uses */
#define VU_PROTO_F_REPLY_ACK     3

#define VIRTIO_NET_F_MTU     3
#define VIRTIO_NET_F_MAC     5
#define VIRTIO_NET_F_STATUS  16

#define NQUEUES 2                        /* virtio-net: RX 0, TX 1 */
#define MAX_REGIONS 8
#define DEFAULT_MAX_RING 4096
#define IO_TIMEOUT_S 5

struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));

struct vu_region {
	uint64_t guest_phys_addr, memory_size, userspace_addr, mmap_offset;
};
struct vu_mem {
	uint32_t nregions, padding;
	struct vu_region r[MAX_REGIONS];
};
struct vu_state {
	uint32_t index, num;
};
struct vu_addr {
	uint32_t index, flags;
	uint64_t desc, used, avail, log;
};

struct vu_dev {
	struct uk_virtio_dev vd;         /* first: uk_virtio_dev * == struct vu_dev * */
	int sock;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint64_t backend_features;       /* GET_FEATURES */
	uint64_t proto;                  /* negotiated protocol features */
	uint8_t status;
	uint8_t features_ok;
	uint8_t mem_sent;
	struct uk_vhostuser_opts opts;
	int kickfd[NQUEUES], callfd[NQUEUES];
};

static inline struct vu_dev *VU(struct uk_virtio_dev *d) { return (struct vu_dev *)d; }

/* ---- messages ---------------------------------------------------------------- */

static int vu_io_error(struct vu_dev *v, const char *what, int err)
{
	if (err == EAGAIN || err == EWOULDBLOCK)
		uk_printf("vhost-user %s: the back-end did not answer %s within %d s\n", v->path, what,
			  IO_TIMEOUT_S);
	else if (err == 0 || err == ECONNRESET || err == EPIPE)
		uk_printf("vhost-user %s: the back-end closed the connection at %s\n", v->path, what);
	else
		uk_printf("vhost-user %s: %s: %s\n", v->path, what, strerror(err));
	return -1;
}

static int vu_send(struct vu_dev *v, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
		   const int *fds, unsigned nfds, const char *what)
{
	struct vu_hdr h = { req, VU_VERSION | flags, size };
	struct iovec iov[2] = { { &h, sizeof h }, { (void *)payload, size } };
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_REGIONS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr m;
	memset(&m, 0, sizeof m);
	m.msg_iov = iov;
	m.msg_iovlen = size ? 2 : 1;
	if (nfds) {
		memset(&ctl, 0, sizeof ctl);
		m.msg_control = ctl.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ssize_t w;
	do
		w = sendmsg(v->sock, &m, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)(sizeof h + size))
		return vu_io_error(v, what, w < 0 ? errno : EPIPE);
	return 0;
}

static int vu_read_full(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;
	while (n) {
		ssize_t r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? errno : 0;
		p += r;
		n -= (size_t)r;
	}
	return -1;
}

/* Read the reply to req into payload (exactly size bytes expected). */
static int vu_reply(struct vu_dev *v, uint32_t req, void *payload, uint32_t size, const char *what)
{
	struct vu_hdr h;
	int e = vu_read_full(v->sock, &h, sizeof h);
	if (e >= 0)
		return vu_io_error(v, what, e);
	if (h.request != req || !(h.flags & VU_FLAG_REPLY) || h.size != size || size > 256) {
		uk_printf("vhost-user %s: unexpected reply to %s (request %u, size %u)\n", v->path, what,
			  h.request, h.size);
		return -1;
	}
	e = vu_read_full(v->sock, payload, size);
	if (e >= 0)
		return vu_io_error(v, what, e);
	return 0;
}

static int vu_get_u64(struct vu_dev *v, uint32_t req, uint64_t *val, const char *what)
{
	if (vu_send(v, req, 0, NULL, 0, NULL, 0, what))
		return -1;
	return vu_reply(v, req, val, 8, what);
}

/* A "set" request; with REPLY_ACK negotiated, wait for the back-end's
 * verdict, so that a refusal is reported where it happens. */
static int vu_set(struct vu_dev *v, uint32_t req, const void *payload, uint32_t size, const int *fds,
		  unsigned nfds, const char *what)
{
	int ack = (v->proto >> VU_PROTO_F_REPLY_ACK) & 1;
	if (vu_send(v, req, ack ? VU_FLAG_NEED_REPLY : 0, payload, size, fds, nfds, what))
		return -1;
	if (!ack)
		return 0;
	uint64_t r;
	if (vu_reply(v, req, &r, 8, what))
		return -1;
	if (r) {
		uk_printf("vhost-user %s: the back-end refused %s\n", v->path, what);
		return -1;
	}
	return 0;
}

/* ---- transport ops ----------------------------------------------------------- */

static uint64_t vu_features_get(struct uk_virtio_dev *d)
{
	struct vu_dev *v = VU(d);
	uint64_t f = v->backend_features & ~(VIRTIO_BIT(VU_F_PROTOCOL_FEATURES)
					     | VIRTIO_BIT(VIRTIO_NET_F_MTU));
	/* The configuration space is ours (vhost-user has none for net):
	 * the link status, and the MAC when one was given. */
	f |= VIRTIO_BIT(VIRTIO_NET_F_STATUS);
	if (v->opts.have_mac)
		f |= VIRTIO_BIT(VIRTIO_NET_F_MAC);
	return f;
}

static void vu_features_set(struct uk_virtio_dev *d, uint64_t f)
{
	struct vu_dev *v = VU(d);
	/* the emulated bits stay here; the back-end hears only what it offered */
	uint64_t to_backend = f & v->backend_features;
	if (v->backend_features & VIRTIO_BIT(VU_F_PROTOCOL_FEATURES))
		to_backend |= VIRTIO_BIT(VU_F_PROTOCOL_FEATURES);
	v->features_ok = !vu_set(v, VU_SET_FEATURES, &to_backend, 8, NULL, 0, "SET_FEATURES");
}

static uint8_t vu_status_get(struct uk_virtio_dev *d)
{
	return VU(d)->status;
}

static void vu_status_set(struct uk_virtio_dev *d, uint8_t s)
{
	struct vu_dev *v = VU(d);
	if ((s & VIRTIO_STATUS_FEATURES_OK) && !v->features_ok)
		s &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	if ((s & VIRTIO_STATUS_DRIVER_OK) && v->sock < 0)
		s |= VIRTIO_STATUS_NEEDS_RESET;
	v->status = s;
}

static uint32_t vu_config_generation(struct uk_virtio_dev *d)
{
	(void)d;
	return 0;
}

/* virtio-net configuration (5.1.4), emulated: mac, status, max pairs, mtu. */
static void vu_config_read(struct uk_virtio_dev *d, unsigned off, void *buf, unsigned len)
{
	struct vu_dev *v = VU(d);
	uint8_t cfg[12];
	memset(cfg, 0, sizeof cfg);
	memcpy(cfg, v->opts.mac, 6);
	cfg[6] = uk_vhostuser_alive(d) ? 1 : 0;          /* VIRTIO_NET_S_LINK_UP */
	cfg[8] = 1;                                      /* max_virtqueue_pairs */
	cfg[10] = 1500 & 0xff;
	cfg[11] = 1500 >> 8;
	memset(buf, 0, len);
	if (off < sizeof cfg)
		memcpy(buf, cfg + off, len < sizeof cfg - off ? len : sizeof cfg - off);
}

static void vu_config_write(struct uk_virtio_dev *d, unsigned off, const void *buf, unsigned len)
{
	(void)d, (void)off, (void)buf, (void)len;
}

static uint16_t vu_queue_max(struct uk_virtio_dev *d, uint16_t q)
{
	struct vu_dev *v = VU(d);
	return q < NQUEUES ? v->opts.max_ring : 0;
}

static int vu_queue_size_fixed(struct uk_virtio_dev *d)
{
	(void)d;
	return 0;
}

static int vu_send_mem_table(struct vu_dev *v)
{
	const struct uk_shm_region *r;
	unsigned n = uk_shm_regions(&r);
	struct vu_mem m;
	int fds[MAX_REGIONS];
	memset(&m, 0, sizeof m);
	for (unsigned i = 0; i < n; i++) {
		/* identity: guest-physical == userspace == our virtual address */
		m.r[i].guest_phys_addr = (uint64_t)(uintptr_t)r[i].base;
		m.r[i].userspace_addr = (uint64_t)(uintptr_t)r[i].base;
		m.r[i].memory_size = r[i].size;
		m.r[i].mmap_offset = 0;
		fds[i] = r[i].fd;
	}
	m.nregions = n;
	if (vu_set(v, VU_SET_MEM_TABLE, &m, (uint32_t)(8 + n * sizeof(struct vu_region)), fds, n,
		   "SET_MEM_TABLE"))
		return -1;
	v->mem_sent = n;
	return 0;
}

static int vu_queue_enable(struct uk_virtio_dev *d, struct uk_virtq *vq)
{
	struct vu_dev *v = VU(d);
	unsigned q = vq->index;
	const struct uk_shm_region *r;
	unsigned nreg = uk_shm_regions(&r);
	uint8_t *ring = vq->mem;
	int in_shm = 0;
	for (unsigned i = 0; i < nreg; i++)
		if (ring >= (uint8_t *)r[i].base && ring + vq->mem_size <= (uint8_t *)r[i].base + r[i].size)
			in_shm = 1;
	if (!in_shm) {
		uk_printf("vhost-user %s: queue %u is not in shared memory\n", v->path, q);
		return -1;
	}
	if (v->mem_sent != nreg && vu_send_mem_table(v))
		return -1;
	vq->notify_kind = UK_VQ_NOTIFY_OP;
	if (v->kickfd[q] < 0)
		v->kickfd[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (v->callfd[q] < 0)
		v->callfd[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (v->kickfd[q] < 0 || v->callfd[q] < 0) {
		uk_printf("vhost-user %s: eventfd: %s\n", v->path, strerror(errno));
		return -1;
	}
	struct vu_state num = { q, vq->num }, base = { q, 0 };
	struct vu_addr a = { q, 0, (uint64_t)(uintptr_t)vq->desc, (uint64_t)(uintptr_t)vq->used,
			     (uint64_t)(uintptr_t)vq->avail, 0 };
	uint64_t kick = q, call = q;
	if (vu_set(v, VU_SET_VRING_NUM, &num, sizeof num, NULL, 0, "SET_VRING_NUM")
	    || vu_set(v, VU_SET_VRING_BASE, &base, sizeof base, NULL, 0, "SET_VRING_BASE")
	    || vu_set(v, VU_SET_VRING_ADDR, &a, sizeof a, NULL, 0, "SET_VRING_ADDR")
	    || vu_set(v, VU_SET_VRING_KICK, &kick, 8, &v->kickfd[q], 1, "SET_VRING_KICK")
	    || vu_set(v, VU_SET_VRING_CALL, &call, 8, &v->callfd[q], 1, "SET_VRING_CALL"))
		return -1;
	/* With protocol features the rings start disabled (spec: "Ring states"). */
	if (v->backend_features & VIRTIO_BIT(VU_F_PROTOCOL_FEATURES)) {
		struct vu_state en = { q, 1 };
		if (vu_set(v, VU_SET_VRING_ENABLE, &en, sizeof en, NULL, 0, "SET_VRING_ENABLE"))
			return -1;
	}
	return 0;
}

static uint32_t vu_isr_ack(struct uk_virtio_dev *d)
{
	(void)d;
	return 0;
}

/* "Interrupts" are the call eventfds, which the caller polls: nothing to route. */
static int vu_irq_setup(struct uk_virtio_dev *d, uint16_t q)
{
	return VU(d)->callfd[q < NQUEUES ? q : 0] >= 0 ? 0 : -1;
}

static void vu_queue_notify(struct uk_virtio_dev *d, struct uk_virtq *vq)
{
	uint64_t one = 1;
	ssize_t w = write(VU(d)->kickfd[vq->index], &one, sizeof one);
	(void)w;    /* EAGAIN: the counter is saturated, the back-end is awake anyway */
}

static const struct uk_virtio_ops vu_ops = {
	.features_get = vu_features_get,
	.features_set = vu_features_set,
	.status_get = vu_status_get,
	.status_set = vu_status_set,
	.config_generation = vu_config_generation,
	.config_read = vu_config_read,
	.config_write = vu_config_write,
	.queue_max = vu_queue_max,
	.queue_legacy_size_fixed = vu_queue_size_fixed,
	.queue_enable = vu_queue_enable,
	.isr_ack = vu_isr_ack,
	.irq_setup = vu_irq_setup,
	.name = "vhost-user",
	.queue_notify = vu_queue_notify,
};

/* ---- connection ----------------------------------------------------------------- */

void uk_vhostuser_close(struct uk_virtio_dev *d)
{
	if (!d)
		return;
	struct vu_dev *v = VU(d);
	if (v->sock >= 0)
		close(v->sock);
	v->sock = -1;
	for (unsigned q = 0; q < NQUEUES; q++) {
		if (v->kickfd[q] >= 0)
			close(v->kickfd[q]);
		if (v->callfd[q] >= 0)
			close(v->callfd[q]);
		v->kickfd[q] = v->callfd[q] = -1;
	}
	/* the device structure stays: the driver may still point at it */
}

int uk_vhostuser_callfd(struct uk_virtio_dev *d, unsigned q)
{
	return q < NQUEUES ? VU(d)->callfd[q] : -1;
}

int uk_vhostuser_alive(struct uk_virtio_dev *d)
{
	struct vu_dev *v = VU(d);
	if (v->sock < 0)
		return 0;
	struct pollfd p = { v->sock, POLLIN, 0 };
	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLIN))) {
		char c;
		/* the back-end sends nothing unsolicited that we asked for: data or EOF means gone */
		if (recv(v->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0 || (p.revents & (POLLHUP | POLLERR)))
			return 0;
	}
	return 1;
}

struct uk_virtio_dev *uk_vhostuser_connect(const char *path, const struct uk_vhostuser_opts *o,
					   char *err, size_t errlen)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (!*path) {
		snprintf(err, errlen, "expects the path of a vhost-user socket");
		return NULL;
	}
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "%s: socket path too long (at most %zu characters)", path,
			 sizeof sa.sun_path - 1);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path));
	struct vu_dev *v = calloc(1, sizeof *v);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (unsigned q = 0; q < NQUEUES; q++)
		v->kickfd[q] = v->callfd[q] = -1;
	snprintf(v->path, sizeof v->path, "%s", path);
	if (o)
		v->opts = *o;
	if (!v->opts.max_ring || v->opts.max_ring > 32768)
		v->opts.max_ring = DEFAULT_MAX_RING;
	v->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (v->sock < 0) {
		snprintf(err, errlen, "%s: socket: %s", path, strerror(errno));
		free(v);
		return NULL;
	}
	if (connect(v->sock, (struct sockaddr *)&sa, sizeof sa)) {
		int e = errno;
		if (e == ENOENT)
			snprintf(err, errlen, "%s: no such socket (start the vhost-user back-end first, "
				 "e.g. dpdk-testpmd --vdev net_vhost0,iface=%s)", path, path);
		else if (e == ECONNREFUSED)
			snprintf(err, errlen, "%s: nothing is listening on this socket (is the vhost-user "
				 "back-end running?)", path);
		else if (e == ENOTSOCK)
			snprintf(err, errlen, "%s: not a UNIX socket", path);
		else
			snprintf(err, errlen, "%s: connect: %s", path, strerror(e));
		close(v->sock);
		free(v);
		return NULL;
	}
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	setsockopt(v->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(v->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

	v->vd.ops = &vu_ops;
	v->vd.transport = UK_VIRTIO_VHOST_USER;
	v->vd.device_type = VIRTIO_ID_NET;
	v->vd.priv = v;
	snprintf(v->vd.name, sizeof v->vd.name, "vhost-user %.28s", path);

	int saved_quiet = uk_hosted_quiet;
	uk_hosted_quiet = 1;
	uk_hosted_msg[0] = 0;
	int bad = vu_send(v, VU_SET_OWNER, 0, NULL, 0, NULL, 0, "SET_OWNER")
		  || vu_get_u64(v, VU_GET_FEATURES, &v->backend_features, "GET_FEATURES");
	if (!bad && (v->backend_features & VIRTIO_BIT(VU_F_PROTOCOL_FEATURES))) {
		uint64_t pf = 0;
		bad = vu_get_u64(v, VU_GET_PROTOCOL_FEATURES, &pf, "GET_PROTOCOL_FEATURES");
		uint64_t want = pf & (1ull << VU_PROTO_F_REPLY_ACK);
		if (!bad)
			bad = vu_set(v, VU_SET_PROTOCOL_FEATURES, &want, 8, NULL, 0,
				     "SET_PROTOCOL_FEATURES");
		if (!bad)
			v->proto = want;
	}
	uk_hosted_quiet = saved_quiet;
	if (bad) {
		/* the message says "vhost-user PATH: ..." */
		snprintf(err, errlen, "%s", uk_hosted_msg[0] ? uk_hosted_msg + (strncmp(uk_hosted_msg, "vhost-user ", 11) ? 0 : 11)
			 : "the back-end stopped answering");
		uk_vhostuser_close(&v->vd);
		free(v);
		return NULL;
	}
	return &v->vd;
}
