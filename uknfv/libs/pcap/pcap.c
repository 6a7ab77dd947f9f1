#include <errno.h>
#include <string.h>
#include <time.h>
#include "uknfv/pcap.h"

#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du

static uint32_t sw32(uint32_t v, int swapped)
{
	return swapped ? __builtin_bswap32(v) : v;
}

int pcap_reader_open(struct pcap_reader *r, const char *path, char *err, size_t errlen)
{
	uint32_t hdr[6];
	memset(r, 0, sizeof *r);
	r->f = fopen(path, "rb");
	if (!r->f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fread(hdr, 4, 6, r->f) != 6) {
		snprintf(err, errlen, "%s: not a pcap file (too short)", path);
		goto fail;
	}
	if (hdr[0] == MAGIC_USEC || hdr[0] == MAGIC_NSEC) {
		r->swapped = 0;
	} else if (hdr[0] == __builtin_bswap32(MAGIC_USEC) || hdr[0] == __builtin_bswap32(MAGIC_NSEC)) {
		r->swapped = 1;
	} else {
		snprintf(err, errlen, "%s: not a pcap file (bad magic 0x%08x%s)", path, hdr[0],
			 hdr[0] == 0x0a0d0d0au ? "; pcapng is not supported, convert with editcap -F pcap" : "");
		goto fail;
	}
	r->nsec = sw32(hdr[0], r->swapped) == MAGIC_NSEC;
	r->linktype = sw32(hdr[5], r->swapped) & 0x0fffffff;
	return 0;
fail:
	fclose(r->f);
	r->f = NULL;
	return -1;
}

int pcap_reader_next(struct pcap_reader *r, struct pkt *p)
{
	uint32_t rec[4];
	for (;;) {
		if (!r->f || fread(rec, 4, 4, r->f) != 4)
			return 0;
		uint32_t caplen = sw32(rec[2], r->swapped);
		uint64_t sec = sw32(rec[0], r->swapped), frac = sw32(rec[1], r->swapped);
		if (caplen > PKT_DATAROOM) {
			r->oversize++;
			if (fseek(r->f, caplen, SEEK_CUR) != 0)
				return 0;
			continue;
		}
		if (fread(p->data, 1, caplen, r->f) != caplen)
			return 0;
		p->len = caplen;
		p->ts_ns = sec * 1000000000ull + (r->nsec ? frac : frac * 1000ull);
		r->records++;
		return 1;
	}
}

void pcap_reader_close(struct pcap_reader *r)
{
	if (r->f)
		fclose(r->f);
	r->f = NULL;
}

int pcap_writer_open(struct pcap_writer *w, const char *path, uint32_t linktype,
		     uint32_t snaplen, char *err, size_t errlen)
{
	memset(w, 0, sizeof *w);
	w->f = fopen(path, "wb");
	if (!w->f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	w->snaplen = snaplen;
	uint32_t hdr[6] = { MAGIC_USEC, 0x00040002u, 0, 0, snaplen, linktype };
	fwrite(hdr, 4, 6, w->f);
	return 0;
}

void pcap_writer_write(struct pcap_writer *w, const uint8_t *data, uint32_t len, uint64_t ts_ns)
{
	if (!w->f)
		return;
	if (!ts_ns) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		ts_ns = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
	}
	uint32_t caplen = len < w->snaplen ? len : w->snaplen;
	uint32_t rec[4] = { (uint32_t)(ts_ns / 1000000000ull),
			    (uint32_t)(ts_ns % 1000000000ull / 1000ull), caplen, len };
	fwrite(rec, 4, 4, w->f);
	fwrite(data, 1, caplen, w->f);
	w->records++;
}

void pcap_writer_close(struct pcap_writer *w)
{
	if (w->f)
		fclose(w->f);
	w->f = NULL;
}
