/*
 * ukplat: TSS (interrupt stacks), IDT, exception reports and the vector
 * dispatch table that ukintr fills.
 */
#include <stdint.h>
#include <string.h>
#include "uk/plat.h"
#include "plat_internal.h"

#define IST_IRQ 1       /* external interrupts */
#define IST_EXC 2       /* exceptions, so a blown stack still gets a report */
#define IST_SIZE (16 * 1024)

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct idt_entry {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;           /* 0x8e: present, DPL 0, 64-bit interrupt gate */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern uint64_t uk_gdt[];
extern char uk_trap_stubs[];

static struct tss64 tss __attribute__((aligned(16)));
static struct idt_entry idt[256] __attribute__((aligned(16)));
static uint8_t ist_irq_stack[IST_SIZE] __attribute__((aligned(16)));
static uint8_t ist_exc_stack[IST_SIZE] __attribute__((aligned(16)));

static struct {
	uk_vector_fn fn;
	void *arg;
} vectors[256];

static const char *const exc_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault", "coprocessor overrun",
	"invalid TSS", "segment not present", "stack fault", "general protection",
	"page fault", "reserved", "x87 FP error", "alignment check", "machine check",
	"SIMD FP error", "virtualization", "control protection", "reserved", "reserved",
	"reserved", "reserved", "reserved", "reserved", "hypervisor injection",
	"VMM communication", "security", "reserved",
};

void uk_plat_traps_init(void)
{
	/* TSS descriptor at GDT 0x20 (two quadwords). */
	uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof tss - 1;
	tss.ist[IST_IRQ - 1] = (uint64_t)(uintptr_t)(ist_irq_stack + IST_SIZE);
	tss.ist[IST_EXC - 1] = (uint64_t)(uintptr_t)(ist_exc_stack + IST_SIZE);
	tss.iomap_base = sizeof tss;            /* no I/O bitmap */
	uk_gdt[4] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40)
		    | (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	uk_gdt[5] = base >> 32;
	struct desc_ptr gdtp = { 6 * 8 - 1, (uint64_t)(uintptr_t)uk_gdt };
	__asm__ volatile("lgdt %0" : : "m"(gdtp));
	__asm__ volatile("ltr %w0" : : "r"(0x20));

	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)(uintptr_t)(uk_trap_stubs + 16 * v);
		idt[v].off_lo = (uint16_t)a;
		idt[v].sel = 0x08;
		idt[v].ist = v < 32 ? IST_EXC : IST_IRQ;
		idt[v].type = 0x8e;
		idt[v].off_mid = (uint16_t)(a >> 16);
		idt[v].off_hi = (uint32_t)(a >> 32);
		idt[v].reserved = 0;
	}
	struct desc_ptr idtp = { sizeof idt - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(idtp));
}

int uk_vector_set(unsigned vector, uk_vector_fn fn, void *arg)
{
	if (vector < 32 || vector > 255)
		return -1;
	vectors[vector].arg = arg;
	__asm__ volatile("" ::: "memory");
	vectors[vector].fn = fn;
	return 0;
}

static void exception(struct uk_trapframe *tf)
{
	static int nested;
	uint64_t cr2, cr3;
	if (nested++) {                 /* faulted while reporting a fault */
		uk_puts("\nuk: nested CPU exception\n");
		uk_exit(UK_EXIT_TRAP);
	}
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	uk_printf("\nuk: CPU exception %llu (%s) error=%#llx\n"
		  "  rip=%016llx rsp=%016llx rflags=%08llx cr2=%016llx\n"
		  "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		  "  rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx\n"
		  "  r9 =%016llx r10=%016llx r11=%016llx r12=%016llx\n"
		  "  r13=%016llx r14=%016llx r15=%016llx cr3=%016llx\n",
		  (unsigned long long)tf->vector, exc_names[tf->vector & 31],
		  (unsigned long long)tf->error, (unsigned long long)tf->rip,
		  (unsigned long long)tf->rsp, (unsigned long long)tf->rflags,
		  (unsigned long long)cr2, (unsigned long long)tf->rax,
		  (unsigned long long)tf->rbx, (unsigned long long)tf->rcx,
		  (unsigned long long)tf->rdx, (unsigned long long)tf->rsi,
		  (unsigned long long)tf->rdi, (unsigned long long)tf->rbp,
		  (unsigned long long)tf->r8, (unsigned long long)tf->r9,
		  (unsigned long long)tf->r10, (unsigned long long)tf->r11,
		  (unsigned long long)tf->r12, (unsigned long long)tf->r13,
		  (unsigned long long)tf->r14, (unsigned long long)tf->r15,
		  (unsigned long long)cr3);
	/* A few return addresses, if the frame pointer chain is usable. */
	uint64_t *fp = (uint64_t *)(uintptr_t)tf->rbp;
	for (int i = 0; i < 8 && fp && ((uintptr_t)fp & 7) == 0
	     && (uintptr_t)fp >= (uintptr_t)__image_start && (uintptr_t)fp < (uintptr_t)__image_end; i++) {
		uk_printf("  #%d %016llx\n", i, (unsigned long long)fp[1]);
		fp = (uint64_t *)(uintptr_t)fp[0];
	}
	uk_exit(UK_EXIT_TRAP);
}

void uk_plat_trap(struct uk_trapframe *tf)
{
	unsigned v = (unsigned)tf->vector;
	if (v < 32) {
		exception(tf);
		return;
	}
	uk_vector_fn fn = vectors[v].fn;
	if (fn)
		fn(tf, vectors[v].arg);
}
