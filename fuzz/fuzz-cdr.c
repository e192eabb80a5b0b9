/*
 * fuzz-cdr: every CDR reader over any bytes.  The first byte picks the
 * format; the rest is the file.  A reader must report bad rows and go on,
 * never crash, whatever it is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcr.h"

static struct mcr_config *cfg;

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const enum mcr_fmt fmts[] = { MCR_FMT_ASTERISK, MCR_FMT_QUEUE,
	    MCR_FMT_FREEPBX, MCR_FMT_FREESWITCH, MCR_FMT_3CX, MCR_FMT_TWILIO,
	    MCR_FMT_JSONL };
	struct mcr_cdr *r;
	struct mcr_leg leg;
	FILE *fp;
	int n = 0;

	if (cfg == NULL) {
		unsetenv("MCR_CONFIG");
		unsetenv("MCR_DB");
		if ((cfg = mcr_config_load("/dev/null")) == NULL)
			abort();
	}
	if (size < 1)
		return 0;
	if ((fp = fmemopen((void *)(data + 1), size - 1 ? size - 1 : 1,
	    "r")) == NULL)
		return 0;
	if (size == 1)
		fgetc(fp);
	r = mcr_cdr_open(fmts[data[0] % (sizeof(fmts) / sizeof(fmts[0]))],
	    fp, "fuzz", cfg, 0);
	if (r != NULL) {
		int k;

		/* a leg's fields are read as ingest reads them */
		while ((k = mcr_cdr_next(r, &leg, 1)) != 0 && k != -2 &&
		    n++ < 100000)
			if (k == 1) {
				mcr_leg_normalise(&leg, cfg);
				(void)strlen(leg.gkey);
			}
		mcr_cdr_close(r);
	}
	fclose(fp);
	return 0;
}
