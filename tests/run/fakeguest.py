"""A tiny fake unikernel for testing uknfv's QEMU launcher without the real guest.

It is a 32-bit PVH ELF (QEMU `-kernel` starts it in protected mode, paging
off) that:

* prints ``fakeguest: cmdline=[...]`` and one ``nic N mac=..`` line per
  virtio-net device it finds (virtio-mmio from the command line, or PCI bus 0)
  on COM1, then ``READY``;
* serves the control protocol on COM2 (0x2f8): ``LIST``, ``READ h``,
  ``WRITE h [v]``, ``QUIT``; handlers ``fake.count`` (commands served),
  ``fake.echo`` (read back what was written), ``stop`` (write: print final
  counters, exit 0), ``exit`` (write N: exit N) — answers ``200 OK``,
  ``DATA n`` + n bytes, or ``511``/``500`` errors, like the real runtime;
* exits through isa-debug-exit (0xf4): QEMU's status is (code << 1) | 1;
* with ``crash`` on its command line it triple-faults (QEMU -no-reboot exits 0);
  with ``deaf`` it halts without serving the control channel.

``build(dir)`` compiles it with the host gcc (``-m32 -ffreestanding``) and
returns the path of the ELF, or raises ``RuntimeError`` if it cannot.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ENTRY_S = r"""
    .section .note.pvh, "a", @note
    .align 4
    .long 4          /* namesz "Xen\0" */
    .long 4          /* descsz */
    .long 18         /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long _start
    .text
    .globl _start
_start:
    cli
    movl $stack_top, %esp
    pushl %ebx        /* hvm_start_info */
    call fg_main
1:  hlt
    jmp 1b
    .bss
    .align 16
    .space 16384
stack_top:
"""

MAIN_C = r"""
typedef unsigned char u8; typedef unsigned short u16; typedef unsigned int u32;
typedef unsigned long long u64;
static inline void outb(u16 p, u8 v) { __asm__ volatile("outb %0,%1" :: "a"(v), "Nd"(p)); }
static inline u8 inb(u16 p) { u8 v; __asm__ volatile("inb %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static inline void outl(u16 p, u32 v) { __asm__ volatile("outl %0,%1" :: "a"(v), "Nd"(p)); }
static inline u32 inl(u16 p) { u32 v; __asm__ volatile("inl %1,%0" : "=a"(v) : "Nd"(p)); return v; }

static void con_putc(char c) { while (!(inb(0x3fd) & 0x20)) {} outb(0x3f8, c); }
static void con(const char *s) { while (*s) con_putc(*s++); }
static void ctl_putc(char c) { while (!(inb(0x2fd) & 0x20)) {} outb(0x2f8, c); }
static void ctl(const char *s) { while (*s) ctl_putc(*s++); }
static void ctln(const char *s, u32 n) { while (n--) ctl_putc(*s++); }
static u32 slen(const char *s) { u32 n = 0; while (s[n]) n++; return n; }
static int seq(const char *a, const char *b) { while (*a && *a == *b) a++, b++; return *a == *b; }
static char *utoa(u32 v, char *buf) { char t[12]; int i = 0; do t[i++] = '0' + v % 10; while (v /= 10);
    char *p = buf; while (i) *p++ = t[--i]; *p = 0; return buf; }
static const char HEX[] = "0123456789abcdef";
static void con_hex8(u8 v) { con_putc(HEX[v >> 4]); con_putc(HEX[v & 15]); }
static void con_hex32(u32 v) { for (int i = 28; i >= 0; i -= 4) con_putc(HEX[(v >> i) & 15]); }
static void __attribute__((noreturn)) fg_exit(u8 code) { outb(0xf4, code); for (;;) __asm__ volatile("cli; hlt"); }

static u32 nnic;
static void show_mac(volatile u8 *cfg) {
    con("nic "); char b[12]; con(utoa(nnic++, b)); con(" mac=");
    for (int i = 0; i < 6; i++) { if (i) con_putc(':'); con_hex8(cfg[i]); }
}
static u32 parse_hex(const char **pp) { const char *p = *pp; u32 v = 0;
    if (p[0] == '0' && p[1] == 'x') p += 2;
    for (;; p++) { char c = *p; u32 d;
        if (c >= '0' && c <= '9') d = c - '0'; else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10; else break; v = v * 16 + d; }
    *pp = p; return v; }
static void scan_mmio(const char *cl) {
    static const char key[] = "virtio_mmio.device=";
    for (const char *p = cl; *p; p++) {
        const char *k = key, *q = p; while (*k && *q == *k) k++, q++;
        if (*k) continue;
        while (*q && *q != '@') q++;
        if (!*q) return;
        q++; u32 base = parse_hex(&q);
        volatile u32 *r = (volatile u32 *)base;
        if (r[0] == 0x74726976 && r[2] == 1) { show_mac((volatile u8 *)base + 0x100);
            con(" mmio@0x"); con_hex32(base); con("\n"); }
    }
}
static u32 pci_read(u32 bus, u32 dev, u32 off) {
    outl(0xcf8, 0x80000000u | bus << 16 | dev << 11 | off); return inl(0xcfc); }
static void pci_write(u32 bus, u32 dev, u32 off, u32 v) {
    outl(0xcf8, 0x80000000u | bus << 16 | dev << 11 | off); outl(0xcfc, v); }
static void scan_pci(void) {
    u16 io = 0xc000;
    for (u32 d = 0; d < 32; d++) {
        u32 id = pci_read(0, d, 0);
        if ((id & 0xffff) != 0x1af4 || (id >> 16) != 0x1000) continue;
        u32 bar = pci_read(0, d, 0x10);
        if (!(bar & 1)) continue;
        if ((bar & ~3u) == 0) { pci_write(0, d, 0x10, io); io += 0x100; bar = pci_read(0, d, 0x10); }
        pci_write(0, d, 0x4, pci_read(0, d, 0x4) | 1);
        u16 base = bar & ~3u; u8 mac[6];
        for (int i = 0; i < 6; i++) mac[i] = inb(base + 20 + i);
        show_mac(mac); con(" pci@00:"); con_hex8(d); con(".0\n");
    }
}

static char echo[64] = "hello";
static u32 count;
static void reply_data(const char *s) { char b[12]; u32 n = slen(s);
    ctl("200 OK\r\nDATA "); ctl(utoa(n, b)); ctl("\r\n"); ctln(s, n); }

static void handle(char *line) {
    char b[12];
    count++;
    char *arg = line; while (*arg && *arg != ' ') arg++;
    if (*arg) *arg++ = 0;
    char *val = arg; while (*val && *val != ' ') val++;
    if (*val) *val++ = 0;
    if (seq(line, "LIST")) { reply_data("fake.count\nfake.echo\nstop\nexit\n"); return; }
    if (seq(line, "QUIT")) { ctl("200 Goodbye!\r\n"); return; }
    if (seq(line, "READ")) {
        if (seq(arg, "fake.count")) { reply_data(utoa(count, b)); return; }
        if (seq(arg, "fake.echo")) { reply_data(echo); return; }
        ctl("511 no handler '"); ctl(arg); ctl("'\r\n"); return;
    }
    if (seq(line, "WRITE")) {
        if (seq(arg, "fake.echo")) { u32 i = 0; for (; val[i] && i < 63; i++) echo[i] = val[i];
            echo[i] = 0; ctl("200 OK\r\n"); return; }
        if (seq(arg, "stop")) { ctl("200 OK\r\n"); con("fakeguest: stopping, fake.count "); 
            con(utoa(count, b)); con("\n"); fg_exit(0); }
        if (seq(arg, "exit")) { u32 v = 0; for (char *p = val; *p >= '0' && *p <= '9'; p++) v = v * 10 + *p - '0';
            ctl("200 OK\r\n"); fg_exit(v); }
        ctl("511 no handler '"); ctl(arg); ctl("'\r\n"); return;
    }
    ctl("500 syntax error\r\n");
}

void fg_main(u32 *start_info) {
    const char *cl = (const char *)(u32)*(u64 *)((u8 *)start_info + 24);
    if (!cl) cl = "";
    con("fakeguest: cmdline=["); con(cl); con("]\n");
    if (start_info[0] != 0x336ec578) con("fakeguest: bad start_info magic\n");
    scan_mmio(cl);
    scan_pci();
    for (const char *p = cl; *p; p++) {
        if (p[0] == 'c' && p[1] == 'r' && p[2] == 'a' && p[3] == 's' && p[4] == 'h') {
            static const u16 null_idt[3];   /* triple fault: QEMU -no-reboot exits 0 */
            __asm__ volatile("lidt %0; int $3" :: "m"(null_idt));
        }
        if (p[0] == 'd' && p[1] == 'e' && p[2] == 'a' && p[3] == 'f') {
            con("READY (deaf)\n");
            for (;;) __asm__ volatile("cli; hlt");
        }
    }
    con("READY\n");
    static char line[128]; u32 n = 0;
    for (;;) {
        if (!(inb(0x2fd) & 1)) { __asm__ volatile("pause"); continue; }
        char c = inb(0x2f8);
        if (c == '\n') { if (n && line[n - 1] == '\r') n--; line[n] = 0; handle(line); n = 0; }
        else if (n < sizeof line - 1) line[n++] = c;
    }
}
"""

LINK_LD = r"""
ENTRY(_start)
SECTIONS {
  . = 0x100000;
  .text : { *(.text*) }
  .rodata : { *(.rodata*) }
  .note : { *(.note.pvh) }
  .data : { *(.data*) }
  .bss : { *(.bss*) *(COMMON) }
}
"""


def build(directory: Path) -> Path:
    """Compile the fake guest into ``directory/fakeguest``; return its path."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise RuntimeError("no C compiler")
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    (d / "entry.S").write_text(ENTRY_S)
    (d / "main.c").write_text(MAIN_C)
    (d / "link.ld").write_text(LINK_LD)
    out = d / "fakeguest"
    cmd = [cc, "-m32", "-ffreestanding", "-fno-pic", "-fno-pie", "-fno-stack-protector", "-nostdlib",
           "-static", "-no-pie", "-O2", "-Wl,-T," + str(d / "link.ld"), "-Wl,--build-id=none",
           str(d / "entry.S"), str(d / "main.c"), "-o", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"cannot build the fake guest: {res.stderr}")
    return out
