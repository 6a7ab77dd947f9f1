#ifndef UKMAIN_H
#define UKMAIN_H
/* Service the control channel: read what arrived, answer complete commands. */
void ukmain_control_poll(void);
void ukmain_print_stats(void);
#endif
