/*
 * rtproc: what the vNF processes (the linux and dpdk targets) share on top
 * of rt: the command line's logical port bindings and line output.
 * Hosted C only (stdio), so it is not part of the unikernel.
 */
#ifndef UKNFV_RTPROC_H
#define UKNFV_RTPROC_H

/* Record `--port NAME=SPEC`: bindings[i] = SPEC for the port named NAME.
 * 0 on success; -1 after telling the user what was wrong (and the ports). */
int rt_bind_port(const char *spec, const char **bindings);
/* Print one line on stdout (for rt_print_handlers). */
void rt_print_line(const char *line);

#endif
