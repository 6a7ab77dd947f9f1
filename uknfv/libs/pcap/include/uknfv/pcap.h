/*
 * pcap: read and write libpcap capture files (no libpcap needed).
 *
 * The reader accepts both byte orders and micro/nanosecond files and
 * reports the link type so FromDump can set header annotations.  Records
 * larger than a packet buffer are counted in `oversize` and skipped;
 * a truncated last record ends the file.
 */
#ifndef UKNFV_PCAP_H
#define UKNFV_PCAP_H

#include <stdint.h>
#include <stdio.h>
#include "uknfv/pkt.h"

#define PCAP_LINK_ETHER 1
#define PCAP_LINK_RAW   101   /* LINKTYPE_RAW: bare IPv4/IPv6 */

struct pcap_reader {
	FILE *f;
	int swapped;
	int nsec;
	uint32_t linktype;
	uint64_t records, oversize;
};

struct pcap_writer {
	FILE *f;
	uint32_t snaplen;
	uint64_t records;
};

/* Open a capture; returns 0 or -1 with a message in err. */
int pcap_reader_open(struct pcap_reader *r, const char *path, char *err, size_t errlen);
/* Read the next record into p (data at p->data, len, ts_ns).  Returns
 * 1 for a packet, 0 at end of file. */
int pcap_reader_next(struct pcap_reader *r, struct pkt *p);
void pcap_reader_close(struct pcap_reader *r);

int pcap_writer_open(struct pcap_writer *w, const char *path, uint32_t linktype,
		     uint32_t snaplen, char *err, size_t errlen);
/* Append one record; ts_ns == 0 means "now". */
void pcap_writer_write(struct pcap_writer *w, const uint8_t *data, uint32_t len, uint64_t ts_ns);
void pcap_writer_close(struct pcap_writer *w);

#endif
