/*
 * fuzz-conv: the booking conversation over any webhook payload, from the
 * event parsers through the reply parser, slots, bookings, escalations
 * and opt-outs to the answers (the outbox, to /dev/null), over a store in
 * memory.  The first byte picks Meta or Twilio; the rest is the body.
 * The store is made anew every 500 inputs, so that cases, slots and
 * bookings build up between inputs but memory does not grow for ever.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcr.h"

static struct mcr_config *cfg;
static struct mcr_store *st;
static struct mcr_conv *c;
static FILE *out;
static int runs;

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (cfg == NULL) {
		FILE *fp = fopen("/tmp/fuzz-conv.conf", "w");

		if (fp == NULL)
			abort();
		fputs("[practice]\nname = Riverside Dental\n[outbox]\npath = "
		    "/dev/null\n[sms]\nprovider = outbox\n[slots]\nlead = 0\n",
		    fp);
		fclose(fp);
		unsetenv("MCR_DB");
		setenv("MCR_NOW", "2026-01-05T10:05:00Z", 1);
		if ((cfg = mcr_config_load("/tmp/fuzz-conv.conf")) == NULL ||
		    (out = fopen("/dev/null", "w")) == NULL)
			abort();
	}
	if (c != NULL && runs++ % 500 == 0) {
		mcr_conv_free(c);
		mcr_store_close(st);
		c = NULL;
	}
	if (c == NULL && ((st = mcr_store_open(":memory:", 1000, 0)) == NULL ||
	    (c = mcr_conv_new(st, cfg, out, 0)) == NULL))
		abort();
	if (size < 1)
		return 0;
	(void)mcr_conv_payload(c, data[0] % 2 ? "twilio" : "meta",
	    (const char *)data + 1, size - 1, "fuzz:1");
	return 0;
}
