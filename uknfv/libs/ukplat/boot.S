/*
 * ukplat: PVH entry, long-mode switch, and the interrupt/exception stubs.
 *
 * PVH boot protocol (Xen's, which QEMU -kernel and Firecracker implement):
 * the loader finds XEN_ELFNOTE_PHYS32_ENTRY (type 18) in a PT_NOTE segment
 * and jumps there in 32-bit protected mode, paging off, flat CS/DS/ES,
 * interrupts off, with %ebx = physical address of struct hvm_start_info.
 */

#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define CR0_MP   (1 << 1)
#define CR0_EM   (1 << 2)
#define CR0_NE   (1 << 5)
#define CR0_WP   (1 << 16)
#define CR0_PG   (1 << 31)
#define CR4_PAE  (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)

#define PTE_P    0x001
#define PTE_RW   0x002
#define PTE_PWT  0x008
#define PTE_PCD  0x010
#define PTE_PS   0x080

#define SEL_CODE64 0x08
#define SEL_DATA   0x10

#define BOOT_STACK_SIZE (64 * 1024)

/* ---- the PVH note --------------------------------------------------------- */
	.section .note.uk.pvh, "a", @note
	.balign 4
	.long 4                         /* name size: "Xen\0" */
	.long 4                         /* descriptor size */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.long _start32                  /* 32-bit physical entry */
	.balign 4

/* ---- 32-bit entry ------------------------------------------------------------ */
	.section .text.boot, "ax", @progbits
	.code32
	.globl _start32
	.type _start32, @function
_start32:
	/* The very first thing: when did we start (for boot-time accounting). */
	rdtsc
	movl %eax, uk_boot_tsc
	movl %edx, uk_boot_tsc + 4
	movl %ebx, uk_pvh_start_info
	cld

	/* Zero .bss (the page tables and stacks live there). */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	/* Identity map of 0..4 GiB: PML4[0] -> PDPT, PDPT[0..3] -> 4 page
	 * directories of 512 2-MiB pages each. */
	movl $uk_pdpt, %eax
	orl $(PTE_P | PTE_RW), %eax
	movl %eax, uk_pml4

	movl $uk_pd, %eax
	orl $(PTE_P | PTE_RW), %eax
	xorl %ecx, %ecx
1:	movl %eax, uk_pdpt(,%ecx,8)
	addl $0x1000, %eax
	incl %ecx
	cmpl $4, %ecx
	jb 1b

	movl $(PTE_P | PTE_RW | PTE_PS), %eax
	xorl %ecx, %ecx
2:	movl %eax, uk_pd(,%ecx,8)
	addl $0x200000, %eax
	incl %ecx
	cmpl $2048, %ecx
	jb 2b

	/* The first 2 MiB in 4-KiB pages, page 0 left unmapped: a NULL
	 * dereference faults (and is reported) instead of reading low memory. */
	movl $(0x1000 | PTE_P | PTE_RW), %eax
	movl $1, %ecx
5:	movl %eax, uk_pt0(,%ecx,8)
	addl $0x1000, %eax
	incl %ecx
	cmpl $512, %ecx
	jb 5b
	/* Guard page under the boot stack (when it is in the first 2 MiB,
	 * which kvm.ld arranges): a stack overflow faults instead of silently
	 * overwriting the page tables. */
	movl $uk_stack_guard, %eax
	shrl $12, %eax
	cmpl $512, %eax
	jae 6f
	movl $0, uk_pt0(,%eax,8)
6:	movl $uk_pt0, %eax
	orl $(PTE_P | PTE_RW), %eax
	movl %eax, uk_pd

	/* 0xfe000000..4 GiB (LAPIC, IOAPIC, HPET, virtio-mmio): uncacheable. */
	movl $2032, %ecx
3:	orl $(PTE_PCD | PTE_PWT), uk_pd(,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jb 3b

	lgdt uk_gdt_ptr32

	movl %cr4, %eax
	orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4

	movl $uk_pml4, %eax
	movl %eax, %cr3

	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr

	/* Paging on (-> long mode), FPU/SSE usable: EM off, MP and NE on. */
	movl %cr0, %eax
	andl $~CR0_EM, %eax
	orl $(CR0_PG | CR0_WP | CR0_MP | CR0_NE), %eax
	movl %eax, %cr0

	ljmp $SEL_CODE64, $_start64
	.size _start32, . - _start32

/* ---- 64-bit ------------------------------------------------------------------ */
	.code64
_start64:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	leaq uk_boot_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	fninit
	pushq $0x1f80                   /* MXCSR: all exceptions masked, round to nearest */
	ldmxcsr (%rsp)
	addq $8, %rsp
	call uk_plat_entry
4:	cli
	hlt
	jmp 4b

/* ---- interrupt and exception stubs ------------------------------------------
 * 256 stubs, 16 bytes apart from uk_trap_stubs.  Each pushes a dummy error
 * code when the CPU does not push one, then the vector, and jumps to the
 * common path, which saves the general registers and the FPU/SSE state
 * (handlers are ordinary C and may use SSE) and calls uk_plat_trap(frame).
 * All vectors run on IST stacks (see traps.c), so an interrupt never
 * touches the interrupted code's stack (red zone safe).
 */
	.section .text.uk_traps, "ax", @progbits
	.balign 16
	.globl uk_trap_stubs
uk_trap_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp uk_trap_common
	.set vec, vec + 1
	.endr

uk_trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rbx                 /* the frame (struct uk_trapframe) */
	andq $-16, %rsp
	subq $512, %rsp
	fxsave64 (%rsp)
	cld
	movq %rbx, %rdi
	call uk_plat_trap
	fxrstor64 (%rsp)
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp                  /* vector, error code */
	iretq

/* ---- data ----------------------------------------------------------------------- */
	.section .data.uk_boot, "aw", @progbits
	.balign 8
	.globl uk_boot_tsc
uk_boot_tsc:
	.quad 0
	.globl uk_pvh_start_info
uk_pvh_start_info:
	.quad 0

	/* GDT: null, 64-bit code, data, 32-bit code, TSS (16 bytes, filled in by
	 * traps.c).  Writable: ltr sets the TSS busy bit. */
	.balign 16
	.globl uk_gdt
uk_gdt:
	.quad 0
	.quad 0x00af9a000000ffff        /* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff        /* 0x10: data */
	.quad 0x00cf9a000000ffff        /* 0x18: 32-bit code */
	.quad 0, 0                      /* 0x20: TSS */
uk_gdt_end:
uk_gdt_ptr32:
	.word uk_gdt_end - uk_gdt - 1
	.long uk_gdt

	.section .bss.uk_boot, "aw", @nobits
	.balign 4096
	.globl uk_pml4, uk_pdpt, uk_pd, uk_pt0
uk_pml4:
	.skip 4096
uk_pdpt:
	.skip 4096
uk_pd:
	.skip 4 * 4096
uk_pt0:
	.skip 4096
	.globl uk_stack_guard
uk_stack_guard:
	.skip 4096
uk_boot_stack:
	.skip BOOT_STACK_SIZE
	.globl uk_boot_stack_top
uk_boot_stack_top:

	.section .note.GNU-stack, "", @progbits
