/*
 * The control channel on the second serial port: its transport only.  The
 * commands (Click's ControlSocket text protocol: READ, WRITE, LIST, QUIT
 * ...) are interpreted by rt_control.c, shared with the Linux and DPDK
 * processes' UNIX socket, so `uknfv handlers/read/write` (and any
 * ControlSocket client) talk to the unikernel as to a Click process.
 *
 * A serial line has no connections, so there is no greeting (QEMU's chardev
 * socket accepts the client without the guest knowing); QUIT only answers.
 */
#include <string.h>
#include "uk/console.h"
#include "uknfv/pktpool.h"
#include "uknfv/rt.h"
#include "ukmain.h"

static struct rt_control_in in;

static void ctl_reply(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	uk_ctl_write(buf, n);
}

void ukmain_control_poll(void)
{
	int c;
	while ((c = uk_ctl_getc()) >= 0)
		rt_control_byte(&in, c, ctl_reply, NULL);
}
