/*
 * rtproc: what the vNF processes (the linux and dpdk targets) share on top
 * of rt: the command line's logical port bindings, line output and the
 * control socket.
 * Hosted C only (stdio), so it is not part of the unikernel.
 */
#ifndef UKNFV_RTPROC_H
#define UKNFV_RTPROC_H

/* Record `--port NAME=SPEC`: bindings[i] = SPEC for the port named NAME.
 * 0 on success; -1 after telling the user what was wrong (and the ports). */
int rt_bind_port(const char *spec, const char **bindings);
/* Print one line on stdout (for rt_print_handlers). */
void rt_print_line(const char *line);

/* The options every vNF process takes, parsed the same way by both:
 *   --port NAME=SPEC (--port=...), --stats, --control SOCK (--control=...),
 *   --ports (list the pipeline's logical ports and exit 0).
 * rt_common_arg(argc, argv, &i, &opts): 1 if argv[i] was one of them (i is
 * advanced past its value), 0 if not, -1 after one "error: ..." line on
 * stderr (the process should exit 2).  opts->bindings has uknfv_nports
 * entries, NULL until bound; exit_now is set by --ports. */
struct rt_common_opts {
	const char **bindings;
	const char *control;
	int stats;
	int exit_now;
};
int rt_common_arg(int argc, char **argv, int *i, struct rt_common_opts *opts);
/* The run ends on SIGINT or SIGTERM (rt_stopping); SIGPIPE is ignored (a
 * control client that went away). */
void rt_handle_signals(void);

/* The control socket (control.c): Click's ControlSocket text protocol
 * (rt_control_line) on a UNIX stream socket, several clients at once,
 * each greeted with "Click::ControlSocket/1.3".  Non-blocking throughout.
 *
 * rt_control_open(path): replace a stale socket file (one nobody serves),
 *   listen (mode 0600).  0 on success; -1 after one "error: --control ..."
 *   line on stderr (directory missing, permission, live socket, not a socket).
 * rt_control_poll(): call once per run-loop round; it looks at the clock
 *   every few calls and at the sockets at most every millisecond, so it
 *   costs no system call per round.  No-op if nothing was opened.
 * rt_control_poll_now(): serve pending connections and commands now (when
 *   rt_control_fd() woke an idle wait).
 * rt_control_fd(): one fd (epoll) that is readable when anything is
 *   pending, for the idle poll() set; -1 if not open.
 * rt_control_close(): close every connection and remove the socket file. */
int rt_control_open(const char *path);
void rt_control_poll(void);
void rt_control_poll_now(void);
int rt_control_fd(void);
void rt_control_close(void);

#endif
