/*
 * ukintr: local APIC, IOAPIC(s), MSI vectors and uk_idle().
 *
 * Vectors: 0x20-0x2f the (masked) 8259 PICs, remapped out of the way of
 * the exceptions; 0x30-0xef allocated to GSIs and MSI-X on demand; 0xf0
 * the LAPIC timer; 0xfe LAPIC error; 0xff spurious.
 */
#include <stdint.h>
#include <string.h>
#include "uk/cpu.h"
#include "uk/intr.h"
#include "uk/io.h"
#include "uk/plat.h"
#include "uk/time.h"

#define VEC_PIC 0x20
#define VEC_FIRST 0x30
#define VEC_LAST 0xef

/* LAPIC registers (xAPIC MMIO offsets; x2APIC MSR = 0x800 + off / 16). */
#define LAPIC_ID 0x020
#define LAPIC_VER 0x030
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ESR 0x280
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_CCR 0x390
#define LAPIC_TIMER_DCR 0x3e0

#define LVT_MASKED (1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EN (1ull << 11)
#define APIC_BASE_EXTD (1ull << 10)
#define MSR_TSC_DEADLINE 0x6e0

#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_EDX_APIC (1u << 9)

#define MAX_IOAPICS 4
#define MAX_SHARE 4

static int inited;
static int have_lapic;
static int x2apic;
static int tsc_deadline;
static volatile uint8_t *lapic_mmio;
static uint64_t apic_timer_hz;
static uint64_t apic_mult;      /* timer counts = ns * apic_mult >> 32 */
static unsigned apic_id;
static uint64_t counts[256];
static unsigned next_vec = VEC_FIRST;

struct ioapic {
	volatile uint32_t *base;
	unsigned gsi_base, npins;
};
static struct ioapic ioapics[MAX_IOAPICS];
static unsigned nioapics;

/* ISA IRQ -> GSI and flags (from the MADT's interrupt source overrides). */
static unsigned isa_gsi[16];
static unsigned isa_flags[16];  /* UK_IRQ_* or UK_IRQ_DEFAULT */

struct gsi_route {
	unsigned gsi;
	int vector;
	unsigned n;
	void (*fn[MAX_SHARE])(void *);
	void *arg[MAX_SHARE];
};
#define MAX_ROUTES 32
static struct gsi_route routes[MAX_ROUTES];
static unsigned nroutes;

struct msi_slot {
	void (*fn)(void *);
	void *arg;
};
static struct msi_slot msi[256];

/* ---- LAPIC ------------------------------------------------------------------ */

static uint32_t lapic_read(unsigned reg)
{
	if (x2apic)
		return (uint32_t)uk_rdmsr(0x800 + reg / 16);
	return mmio_read32(lapic_mmio + reg);
}

static void lapic_write(unsigned reg, uint32_t v)
{
	if (x2apic)
		uk_wrmsr(0x800 + reg / 16, v);
	else
		mmio_write32(lapic_mmio + reg, v);
}

static void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

/* ---- IOAPIC ----------------------------------------------------------------- */

static uint32_t ioapic_read(const struct ioapic *io, unsigned idx)
{
	mmio_write32(io->base, idx);
	return mmio_read32(io->base + 4);
}

static void ioapic_write(const struct ioapic *io, unsigned idx, uint32_t v)
{
	mmio_write32(io->base, idx);
	mmio_write32(io->base + 4, v);
}

static int ioapic_add(uint64_t addr, unsigned gsi_base, int probe)
{
	if (nioapics >= MAX_IOAPICS || addr >= (4ull << 30))
		return -1;
	struct ioapic *io = &ioapics[nioapics];
	io->base = (volatile uint32_t *)(uintptr_t)addr;
	uint32_t ver = ioapic_read(io, 1);
	if (probe && (ver == 0 || ver == 0xffffffffu || (ver & 0xff) < 0x10))
		return -1;
	io->npins = ((ver >> 16) & 0xff) + 1;
	io->gsi_base = gsi_base;
	/* The pins are not masked one by one here: an IOAPIC comes out of
	 * reset with every pin masked and no firmware on the PVH path unmasks
	 * any, and on KVM each access is a VM exit (~1 us): 48 pins x 4
	 * accesses would be a third of the boot-time budget. */
	nioapics++;
	return 0;
}

static struct ioapic *ioapic_of(unsigned gsi, unsigned *pin)
{
	for (unsigned i = 0; i < nioapics; i++)
		if (gsi >= ioapics[i].gsi_base && gsi < ioapics[i].gsi_base + ioapics[i].npins) {
			*pin = gsi - ioapics[i].gsi_base;
			return &ioapics[i];
		}
	return NULL;
}

/* MADT: IOAPICs and ISA overrides.  Returns 1 if it was there. */
static int madt_parse(void)
{
	const uint8_t *t = uk_acpi_table("APIC");
	if (!t)
		return 0;
	uint32_t len = *(const uint32_t *)(t + 4);
	for (uint32_t off = 44; off + 2 <= len;) {
		const uint8_t *e = t + off;
		if (e[1] < 2)
			break;
		if (e[0] == 1 && e[1] >= 12)           /* IOAPIC */
			ioapic_add(*(const uint32_t *)(e + 4), *(const uint32_t *)(e + 8), 0);
		else if (e[0] == 2 && e[1] >= 10 && e[3] < 16) {  /* interrupt source override */
			unsigned src = e[3];
			uint16_t fl = *(const uint16_t *)(e + 8);
			unsigned f = 0;
			isa_gsi[src] = *(const uint32_t *)(e + 4);
			if ((fl & 3) == 3)
				f |= UK_IRQ_LOW;
			if (((fl >> 2) & 3) == 3)
				f |= UK_IRQ_LEVEL;
			isa_flags[src] = ((fl & 3) || ((fl >> 2) & 3)) ? f : UK_IRQ_DEFAULT;
		}
		off += e[1];
	}
	return nioapics > 0;
}

unsigned uk_isa_irq_gsi(unsigned isa_irq)
{
	uk_intr_init();
	return isa_irq < 16 ? isa_gsi[isa_irq] : isa_irq;
}

/* ---- vectors ------------------------------------------------------------------ */

static void timer_handler(struct uk_trapframe *tf, void *arg)
{
	(void)arg;
	counts[tf->vector & 0xff]++;
	lapic_eoi();
}

static void quiet_handler(struct uk_trapframe *tf, void *arg)
{
	(void)arg;
	counts[tf->vector & 0xff]++;
	if (tf->vector == UK_VEC_ERROR) {
		lapic_write(LAPIC_ESR, 0);
		lapic_eoi();
	}
	/* spurious (0xff) and PIC vectors: no EOI */
}

static void gsi_handler(struct uk_trapframe *tf, void *arg)
{
	struct gsi_route *r = arg;
	counts[tf->vector & 0xff]++;
	for (unsigned i = 0; i < r->n; i++)
		r->fn[i](r->arg[i]);
	lapic_eoi();
}

static void msi_handler(struct uk_trapframe *tf, void *arg)
{
	struct msi_slot *s = arg;
	counts[tf->vector & 0xff]++;
	s->fn(s->arg);
	lapic_eoi();
}

static int vec_alloc(void)
{
	if (next_vec > VEC_LAST)
		return -1;
	return (int)next_vec++;
}

/* ---- init ------------------------------------------------------------------------ */

static void pic_disable(void)
{
	/* Remap the two 8259s to 0x20-0x2f (so a spurious IRQ 7/15 cannot look
	 * like an exception), then mask every line. */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, VEC_PIC);
	outb(0xa1, VEC_PIC + 8);
	outb(0x21, 4);
	outb(0xa1, 2);
	outb(0x21, 1);
	outb(0xa1, 1);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

static void set_apic_hz(uint64_t hz)
{
	apic_timer_hz = hz;
	apic_mult = ((hz / 1000000000ull) << 32) + ((hz % 1000000000ull) << 32) / 1000000000ull;
}

static void apic_timer_calibrate(void)
{
	char sig[13];
	/* Hypervisor timing leaf: EBX = APIC bus frequency in kHz. */
	if (uk_cpu_hypervisor()) {
		struct uk_cpuid r = uk_cpuid(0x40000000, 0);
		memcpy(sig, &r.b, 4);
		if (r.a >= 0x40000010 && r.a < 0x40000100) {
			uint32_t khz = uk_cpuid(0x40000010, 0).b;
			if (khz) {
				set_apic_hz(khz * 1000ull);
				return;
			}
		}
	}
	/* Measure: let it count down from the maximum and compare two
	 * readings 100 us of TSC apart, each bracketed by TSC reads (taken at
	 * the midpoint).  A reading that took long (vCPU descheduled, which
	 * happens under TCG on a loaded host) is not trusted: retry, and
	 * failing that keep the attempt with the tightest brackets. */
	lapic_write(LAPIC_TIMER_DCR, 0xb);              /* divide by 1 */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | UK_VEC_TIMER);
	uint64_t window = uk_ns_to_tsc(100000), slack_best = UINT64_MAX, hz = 0;
	for (int attempt = 0; attempt < 5; attempt++) {
		lapic_write(LAPIC_TIMER_ICR, 0xffffffffu);
		uint64_t a0 = uk_tsc();
		uint32_t c0 = lapic_read(LAPIC_TIMER_CCR);
		uint64_t b0 = uk_tsc();
		while (uk_tsc() - b0 < window)
			uk_pause();
		uint64_t a1 = uk_tsc();
		uint32_t c1 = lapic_read(LAPIC_TIMER_CCR);
		uint64_t b1 = uk_tsc();
		lapic_write(LAPIC_TIMER_ICR, 0);
		uint64_t slack = (b0 - a0) + (b1 - a1);
		uint64_t ns = uk_tsc_to_ns((a1 + b1) / 2 - (a0 + b0) / 2);
		if (!ns || c0 <= c1 || slack >= slack_best)
			continue;
		slack_best = slack;
		hz = (uint64_t)(c0 - c1) * 1000000000ull / ns;
		if (slack < window / 100)
			break;                          /* brackets within 1%: good */
	}
	set_apic_hz(hz ? hz : 1000000000ull);
}

void uk_intr_init(void)
{
	if (inited)
		return;
	inited = 1;
	uk_time_init();
	for (unsigned i = 0; i < 16; i++) {
		isa_gsi[i] = i;
		isa_flags[i] = UK_IRQ_DEFAULT;
	}
	/* The PIT's IRQ 0 is on IOAPIC pin 2 on every PC-style machine, QEMU's
	 * microvm included, whose MADT has no override saying so. */
	isa_gsi[0] = 2;
	pic_disable();

	struct uk_cpuid c1 = uk_cpuid(1, 0);
	have_lapic = (c1.d & CPUID1_EDX_APIC) != 0;
	if (!have_lapic)
		return;
	char opt[16];
	int force_xapic = uk_cmdline_opt("uk.xapic", NULL, 0);
	uint64_t base = uk_rdmsr(MSR_APIC_BASE);
	if (!(base & APIC_BASE_EN)) {
		base |= APIC_BASE_EN;
		uk_wrmsr(MSR_APIC_BASE, base);
	}
	if ((c1.c & CPUID1_ECX_X2APIC) && (!force_xapic || (base & APIC_BASE_EXTD))) {
		if (!(base & APIC_BASE_EXTD))
			uk_wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
		x2apic = 1;
	} else {
		lapic_mmio = (volatile uint8_t *)(uintptr_t)(base & 0xfffff000u);
	}
	apic_id = x2apic ? lapic_read(LAPIC_ID) : lapic_read(LAPIC_ID) >> 24;

	for (unsigned v = VEC_PIC; v < VEC_PIC + 16; v++)
		uk_vector_set(v, quiet_handler, NULL);
	uk_vector_set(UK_VEC_SPURIOUS, quiet_handler, NULL);
	uk_vector_set(UK_VEC_ERROR, quiet_handler, NULL);
	uk_vector_set(UK_VEC_TIMER, timer_handler, NULL);

	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, 0x100 | UK_VEC_SPURIOUS);        /* software enable */
	lapic_write(LAPIC_LVT_ERROR, UK_VEC_ERROR);
	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_ESR, 0);

	tsc_deadline = (c1.c & CPUID1_ECX_TSC_DEADLINE)
		       && !(uk_cmdline_opt("uk.apic_timer", opt, sizeof opt) && !strcmp(opt, "oneshot"));
	if (tsc_deadline) {
		lapic_write(LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | UK_VEC_TIMER);
		__asm__ volatile("mfence" ::: "memory");   /* SDM: order the LVT write before the MSR */
		uk_wrmsr(MSR_TSC_DEADLINE, 0);
	} else {
		apic_timer_calibrate();
		lapic_write(LAPIC_TIMER_DCR, 0xb);
		lapic_write(LAPIC_LVT_TIMER, UK_VEC_TIMER);     /* one-shot, unmasked */
	}

	if (!madt_parse()) {
		/* No ACPI: QEMU's standard IOAPIC, and microvm's second one. */
		if (ioapic_add(0xfec00000, 0, 1) == 0)
			ioapic_add(0xfec10000, ioapics[0].npins, 1);
	}
}

__attribute__((constructor(120))) static void intr_ctor(void)
{
	uk_intr_init();
}

/* ---- public API ------------------------------------------------------------------ */

static unsigned gsi_flags(unsigned gsi, unsigned flags)
{
	if (flags != UK_IRQ_DEFAULT)
		return flags & (UK_IRQ_LEVEL | UK_IRQ_LOW);
	for (unsigned i = 0; i < 16; i++)
		if (isa_gsi[i] == gsi && isa_flags[i] != UK_IRQ_DEFAULT)
			return isa_flags[i];
	return gsi < 16 ? UK_IRQ_EDGE | UK_IRQ_HIGH : UK_IRQ_LEVEL | UK_IRQ_HIGH;
}

int uk_irq_register_flags(unsigned gsi, unsigned flags, void (*fn)(void *arg), void *arg)
{
	uk_intr_init();
	unsigned pin;
	struct ioapic *io = ioapic_of(gsi, &pin);
	if (!io || !fn || !have_lapic)
		return -1;
	struct gsi_route *r = NULL;
	for (unsigned i = 0; i < nroutes; i++)
		if (routes[i].gsi == gsi)
			r = &routes[i];
	if (!r) {
		if (nroutes >= MAX_ROUTES)
			return -1;
		int v = vec_alloc();
		if (v < 0)
			return -1;
		r = &routes[nroutes++];
		r->gsi = gsi;
		r->vector = v;
		r->n = 0;
		uk_vector_set((unsigned)v, gsi_handler, r);
	}
	if (r->n >= MAX_SHARE)
		return -1;
	r->fn[r->n] = fn;
	r->arg[r->n] = arg;
	r->n++;
	unsigned f = gsi_flags(gsi, flags);
	uint32_t lo = (uint32_t)r->vector;              /* fixed delivery, physical destination */
	if (f & UK_IRQ_LOW)
		lo |= 1u << 13;
	if (f & UK_IRQ_LEVEL)
		lo |= 1u << 15;
	ioapic_write(io, 0x11 + 2 * pin, apic_id << 24);
	ioapic_write(io, 0x10 + 2 * pin, lo);           /* unmasked */
	return 0;
}

int uk_irq_register(unsigned gsi, void (*fn)(void *arg), void *arg)
{
	return uk_irq_register_flags(gsi, UK_IRQ_DEFAULT, fn, arg);
}

void uk_irq_mask(unsigned gsi, int masked)
{
	unsigned pin;
	struct ioapic *io = ioapic_of(gsi, &pin);
	if (!io)
		return;
	uint32_t lo = ioapic_read(io, 0x10 + 2 * pin);
	lo = masked ? lo | LVT_MASKED : lo & ~LVT_MASKED;
	ioapic_write(io, 0x10 + 2 * pin, lo);
}

int uk_msix_vector_alloc(void (*fn)(void *), void *arg, uint64_t *addr, uint32_t *data)
{
	uk_intr_init();
	if (!fn || !have_lapic)
		return -1;
	int v = vec_alloc();
	if (v < 0)
		return -1;
	msi[v].fn = fn;
	msi[v].arg = arg;
	uk_vector_set((unsigned)v, msi_handler, &msi[v]);
	if (addr)
		*addr = 0xfee00000ull | ((uint64_t)(apic_id & 0xff) << 12);
	if (data)
		*data = (uint32_t)v;                    /* fixed, edge, assert */
	return v;
}

void uk_idle(uint64_t max_ns)
{
	uk_intr_init();
	if (!have_lapic) {
		if (max_ns != UINT64_MAX)
			uk_delay_ns(max_ns);
		return;
	}
	if (max_ns == 0) {
		__asm__ volatile("sti; nop; cli" ::: "memory");
		return;
	}
	int armed = max_ns != UINT64_MAX;
	if (armed) {
		if (tsc_deadline) {
			uk_wrmsr(MSR_TSC_DEADLINE, uk_tsc() + uk_ns_to_tsc(max_ns));
		} else {
			uint64_t cnt = (uint64_t)(((unsigned __int128)max_ns * apic_mult) >> 32);
			if (cnt == 0)
				cnt = 1;
			if (cnt > 0xffffffffu)
				cnt = 0xffffffffu;      /* wakes early; callers loop anyway */
			lapic_write(LAPIC_TIMER_ICR, (uint32_t)cnt);
		}
	}
	/* sti's one-instruction shadow makes "sti; hlt" atomic: an interrupt
	 * already pending ends the hlt instead of being lost before it. */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	if (armed) {
		if (tsc_deadline)
			uk_wrmsr(MSR_TSC_DEADLINE, 0);
		else
			lapic_write(LAPIC_TIMER_ICR, 0);
	}
}

uint64_t uk_intr_count(unsigned vector)
{
	return vector < 256 ? counts[vector] : 0;
}

unsigned uk_apic_id(void)
{
	uk_intr_init();
	return apic_id;
}

const char *uk_apic_mode(void)
{
	uk_intr_init();
	if (!have_lapic)
		return "none";
	if (x2apic)
		return tsc_deadline ? "x2apic+tsc-deadline" : "x2apic";
	return tsc_deadline ? "xapic+tsc-deadline" : "xapic";
}

uint64_t uk_apic_timer_hz(void)
{
	uk_intr_init();
	return tsc_deadline ? 0 : apic_timer_hz;
}
