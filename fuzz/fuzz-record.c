/*
 * fuzz-record: the JSON record reader of mcr-send, over a store in memory
 * and the outbox to /dev/null: any line is a record or a clear error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcr.h"

static struct mcr_send *s;
static FILE *out;

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (s == NULL) {
		struct mcr_config *cfg;
		struct mcr_store *st;
		FILE *fp = fopen("/tmp/fuzz-record.conf", "w");

		if (fp == NULL)
			abort();
		fputs("[outbox]\npath = /dev/null\n[send]\nmax_age = 10080\n",
		    fp);
		fclose(fp);
		unsetenv("MCR_DB");
		setenv("MCR_NOW", "2026-01-05T12:00:00Z", 1);
		if ((cfg = mcr_config_load("/tmp/fuzz-record.conf")) == NULL ||
		    (st = mcr_store_open(":memory:", 1000, 0)) == NULL)
			abort();
		out = fopen("/dev/null", "w");
		s = mcr_send_new(st, cfg, out, 0);
	}
	mcr_send_line(s, (const char *)data, size, "fuzz:1");
	return 0;
}
