/*
 * ukconsole: polled 16550 UARTs.  COM1 is the console, COM2 the control
 * channel.  Both are set to 115200 8N1 with FIFOs on; under QEMU the baud
 * rate is irrelevant (bytes go to the chardev as fast as it takes them).
 */
#include <stdint.h>
#include "uk/console.h"

#define COM1 0x3f8
#define COM2 0x2f8

/* UART registers (offsets from the base port) */
#define RBR 0   /* receive buffer (read, DLAB=0) */
#define THR 0   /* transmit holding (write, DLAB=0) */
#define DLL 0   /* divisor latch low (DLAB=1) */
#define IER 1   /* interrupt enable (DLAB=0) */
#define DLM 1   /* divisor latch high (DLAB=1) */
#define FCR 2   /* FIFO control (write) */
#define LCR 3   /* line control */
#define MCR 4   /* modem control */
#define LSR 5   /* line status */
#define SCR 7   /* scratch */

#define LSR_DR   0x01  /* data ready */
#define LSR_THRE 0x20  /* transmit holding register empty */
#define LSR_TEMT 0x40  /* transmitter empty */

/* ukconsole sits below ukplat, so it carries its own two port accessors. */
static inline void out8(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t in8(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static int inited;
static int present[2];  /* COM1, COM2 */

static int uart_init(uint16_t base)
{
	/* Presence: the scratch register keeps what is written to it. */
	out8(base + SCR, 0x5a);
	if (in8(base + SCR) != 0x5a)
		return 0;
	out8(base + SCR, 0xa5);
	if (in8(base + SCR) != 0xa5)
		return 0;
	out8(base + IER, 0x00);         /* no interrupts */
	out8(base + LCR, 0x80);         /* DLAB on */
	out8(base + DLL, 0x01);         /* 115200 baud */
	out8(base + DLM, 0x00);
	out8(base + LCR, 0x03);         /* 8N1, DLAB off */
	out8(base + FCR, 0xc7);         /* FIFO on, clear both, 14-byte threshold */
	out8(base + MCR, 0x03);         /* DTR | RTS (OUT2 off: no IRQ yet) */
	return 1;
}

void uk_console_init(void)
{
	if (inited)
		return;
	present[0] = uart_init(COM1);
	present[1] = uart_init(COM2);
	inited = 1;
}

static void uart_write(uint16_t base, const char *s, size_t n)
{
	while (n) {
		/* THRE: the FIFO is empty, so up to 16 bytes fit at once. */
		while (!(in8(base + LSR) & LSR_THRE))
			__asm__ volatile("pause");
		size_t k = n < 16 ? n : 16;
		for (size_t i = 0; i < k; i++)
			out8(base + THR, (uint8_t)s[i]);
		s += k;
		n -= k;
	}
}

void uk_console_write(const char *s, size_t n)
{
	if (!inited)
		uk_console_init();
	if (present[0])
		uart_write(COM1, s, n);
}

void uk_console_flush(void)
{
	if (!inited || !present[0])
		return;
	/* Bounded: a stuck host must not hang the exit path forever. */
	for (unsigned long i = 0; i < 100000000ul; i++)
		if ((in8(COM1 + LSR) & (LSR_THRE | LSR_TEMT)) == (LSR_THRE | LSR_TEMT))
			return;
}

int uk_ctl_present(void)
{
	if (!inited)
		uk_console_init();
	return present[1];
}

int uk_ctl_getc(void)
{
	if (!uk_ctl_present())
		return -1;
	if (!(in8(COM2 + LSR) & LSR_DR))
		return -1;
	return in8(COM2 + RBR);
}

void uk_ctl_write(const char *s, size_t n)
{
	if (uk_ctl_present())
		uart_write(COM2, s, n);
}

void uk_ctl_rx_intr(int on)
{
	if (!uk_ctl_present())
		return;
	out8(COM2 + IER, on ? 0x01 : 0x00);          /* received data available */
	out8(COM2 + MCR, on ? 0x0b : 0x03);          /* OUT2 gates the IRQ line */
}
