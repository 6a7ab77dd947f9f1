/*
 * The processes' control socket: Click's ControlSocket text protocol
 * (rt_control.c) over a non-blocking UNIX stream socket, served from the
 * packet loop.  Several clients at once; each is greeted with
 * "Click::ControlSocket/1.3".  Nothing here blocks: a client that sends
 * garbage, overlong lines or half a line and disappears, or that never
 * reads its answers, costs a bounded amount of memory and is dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "uknfv/pktpool.h"
#include "uknfv/rt.h"
#include "uknfv/rtproc.h"

#define MAX_CLIENTS 32
#define OUT_HIGH (64 * 1024)            /* stop answering a client with this much unsent */
#define OUT_MAX (4 * 1024 * 1024)       /* drop a client that lets this much pile up */
#define LINES_PER_POLL 64               /* commands answered per client per poll */
#define ACCEPTS_PER_POLL 8
#define POLL_EVERY 16                   /* rt_control_poll(): look at the clock every N calls */
#define POLL_PERIOD_NS 1000000ull       /* ... and at the sockets at most every 1 ms */

struct client {
	int fd;                         /* -1: free slot */
	int closing;                    /* QUIT or EOF: close once the output is sent */
	int dead;                       /* error or too much output: close now */
	unsigned events;                /* what epoll watches for it */
	char *out;
	size_t outlen, outoff, outcap;
	size_t poff, plen;              /* received, not yet parsed: pend[poff..plen) */
	char pend[2048];
	struct rt_control_in in;
};

static int lfd = -1, epfd = -1;
static struct client *clients;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static dev_t sock_dev;
static ino_t sock_ino;
static unsigned tick;
static uint64_t next_ns;

int rt_control_fd(void)
{
	return epfd;
}

static void reply(void *ctx, const char *buf, size_t n)
{
	struct client *c = ctx;
	if (c->dead)
		return;
	if (c->outoff && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen + n > c->outcap) {
		if (c->outlen - c->outoff + n > OUT_MAX) {
			c->dead = 1;
			return;
		}
		if (c->outoff) {        /* compact first */
			memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
			c->outlen -= c->outoff;
			c->outoff = 0;
		}
		size_t cap = c->outcap ? c->outcap : 4096;
		while (cap < c->outlen + n)
			cap *= 2;
		if (cap != c->outcap) {
			char *p = realloc(c->out, cap);
			if (!p) {
				c->dead = 1;
				return;
			}
			c->out = p;
			c->outcap = cap;
		}
	}
	memcpy(c->out + c->outlen, buf, n);
	c->outlen += n;
}

/* Send what we can; -1 if the peer is gone. */
static int flush(struct client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t k = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0) {
			c->outoff += (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
	c->outoff = c->outlen = 0;
	if (c->outcap > 256 * 1024) {   /* give back what a big answer took */
		free(c->out);
		c->out = NULL;
		c->outcap = 0;
	}
	return 0;
}

static void drop(struct client *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

static void watch(struct client *c)
{
	unsigned ev = 0;
	if (!c->closing && c->outlen - c->outoff < OUT_HIGH)
		ev |= EPOLLIN;
	if (c->outoff < c->outlen)
		ev |= EPOLLOUT;
	if (ev != c->events) {
		struct epoll_event e = { .events = ev, .data.ptr = c };
		epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
		c->events = ev;
	}
}

static void serve(struct client *c)
{
	int lines = 0;
	if (flush(c) < 0)
		c->dead = 1;
	while (!c->dead && !c->closing && c->outlen - c->outoff < OUT_HIGH && lines < LINES_PER_POLL) {
		if (c->poff == c->plen) {
			ssize_t k = recv(c->fd, c->pend, sizeof c->pend, MSG_DONTWAIT);
			if (k == 0) {
				c->closing = 1;         /* a half line is forgotten */
				break;
			}
			if (k < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					c->dead = 1;
				break;
			}
			c->poff = 0;
			c->plen = (size_t)k;
		}
		while (c->poff < c->plen && !c->dead && c->outlen - c->outoff < OUT_HIGH
		       && lines < LINES_PER_POLL) {
			int r = rt_control_byte(&c->in, (unsigned char)c->pend[c->poff++], reply, c);
			if (r != RT_CONTROL_MORE)
				lines++;
			if (r == RT_CONTROL_QUIT) {
				c->closing = 1;
				break;
			}
		}
	}
	if (!c->dead && flush(c) < 0)
		c->dead = 1;
	if (c->dead || (c->closing && c->outoff == c->outlen))
		drop(c);
	else
		watch(c);
}

static void accept_clients(void)
{
	for (int i = 0; i < ACCEPTS_PER_POLL; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;         /* EAGAIN, or a client that left already */
		struct client *c = NULL;
		for (unsigned k = 0; k < MAX_CLIENTS && !c; k++)
			if (clients[k].fd < 0)
				c = &clients[k];
		if (!c) {
			static const char busy[] = "500 Too many control connections\r\n";
			if (send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* nothing to do: the client is told by the close */
			}
			close(fd);
			continue;
		}
		memset(c, 0, sizeof *c);
		c->fd = fd;
		c->events = EPOLLIN;
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e)) {
			close(fd);
			c->fd = -1;
			continue;
		}
		reply(c, RT_CONTROL_GREETING, strlen(RT_CONTROL_GREETING));
		serve(c);
	}
}

void rt_control_poll_now(void)
{
	struct epoll_event ev[MAX_CLIENTS + 1];
	if (epfd < 0)
		return;
	int n = epoll_wait(epfd, ev, MAX_CLIENTS + 1, 0);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.ptr == NULL) {
			accept_clients();
			continue;
		}
		struct client *c = ev[i].data.ptr;
		if (c->fd >= 0)
			serve(c);
	}
	/* Clients stopped at LINES_PER_POLL with input parsed but not answered:
	 * the socket may have nothing new to wake epoll for them. */
	for (unsigned k = 0; k < MAX_CLIENTS; k++) {
		struct client *c = &clients[k];
		if (c->fd >= 0 && c->poff < c->plen && !c->closing && c->outlen - c->outoff < OUT_HIGH)
			serve(c);
	}
}

void rt_control_poll(void)
{
	if (epfd < 0 || ++tick % POLL_EVERY)
		return;
	uint64_t now = rt_mono_ns();
	if (now < next_ns)
		return;
	next_ns = now + POLL_PERIOD_NS;
	rt_control_poll_now();
}

static int fail(const char *path, const char *why, int err)
{
	if (err)
		fprintf(stderr, "error: --control %s: %s: %s\n", path, why, strerror(err));
	else
		fprintf(stderr, "error: --control %s: %s\n", path, why);
	return -1;
}

/* An existing file at path: replace it if it is a socket nobody serves. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	if (lstat(path, &st))
		return errno == ENOENT ? 0 : fail(path, "cannot use the path", errno);
	if (!S_ISSOCK(st.st_mode))
		return fail(path, "the path exists and is not a socket (not replacing it)", 0);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return fail(path, "cannot create a socket", errno);
	int live = connect(s, (const struct sockaddr *)sa, sizeof *sa) == 0;
	int err = errno;
	close(s);
	if (live)
		return fail(path, "another process is serving this socket (stop it or choose another path)", 0);
	if (err != ECONNREFUSED && err != ENOENT)
		return fail(path, "cannot check the existing socket", err);
	if (unlink(path) && errno != ENOENT)
		return fail(path, "cannot remove the stale socket", errno);
	return 0;
}

int rt_control_open(const char *path)
{
	struct sockaddr_un sa;
	if (lfd >= 0)
		return fail(path, "a control socket is open already", 0);
	if (!path || !path[0])
		return fail("''", "expected the path of a UNIX socket", 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		fprintf(stderr, "error: --control %s: path too long for a UNIX socket (at most %zu bytes)\n",
			path, sizeof sa.sun_path - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (clear_stale(path, &sa))
		return -1;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return fail(path, "cannot create a socket", errno);
	mode_t old = umask(0177);       /* the socket file is created 0600 */
	int rc = bind(s, (struct sockaddr *)&sa, sizeof sa);
	int err = errno;
	umask(old);
	if (rc) {
		close(s);
		if (err == ENOENT || err == ENOTDIR)
			return fail(path, "cannot create the socket: its directory does not exist", 0);
		return fail(path, "cannot create the socket", err);
	}
	struct stat st;
	if (listen(s, 16) || stat(path, &st)) {
		err = errno;
		close(s);
		unlink(path);
		return fail(path, "cannot listen", err);
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };
	clients = calloc(MAX_CLIENTS, sizeof *clients);
	if (ep < 0 || !clients || epoll_ctl(ep, EPOLL_CTL_ADD, s, &e)) {
		err = ep < 0 || clients ? errno : ENOMEM;
		if (ep >= 0)
			close(ep);
		free(clients);
		clients = NULL;
		close(s);
		unlink(path);
		return fail(path, "cannot set up the socket", err);
	}
	for (unsigned k = 0; k < MAX_CLIENTS; k++)
		clients[k].fd = -1;
	lfd = s;
	epfd = ep;
	sock_dev = st.st_dev;
	sock_ino = st.st_ino;
	memcpy(sock_path, path, strlen(path) + 1);
	return 0;
}

void rt_control_close(void)
{
	if (lfd < 0)
		return;
	for (unsigned k = 0; k < MAX_CLIENTS; k++)
		if (clients[k].fd >= 0) {
			flush(&clients[k]);     /* best effort: e.g. the 200 OK of WRITE stop */
			drop(&clients[k]);
		}
	free(clients);
	clients = NULL;
	close(epfd);
	close(lfd);
	epfd = lfd = -1;
	/* Remove the file unless someone replaced it with theirs meanwhile. */
	struct stat st;
	if (!lstat(sock_path, &st) && st.st_dev == sock_dev && st.st_ino == sock_ino)
		unlink(sock_path);
}
