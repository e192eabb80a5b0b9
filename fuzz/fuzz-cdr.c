/*
 * fuzz-cdr: every CDR reader over any bytes.  The first byte picks the
 * format (the csv reader with one of three column maps); the rest is the
 * file.  A reader must report bad rows and go on,
 * never crash, whatever it is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcr.h"

static struct mcr_config *cfg, *maps[3];

/* Column maps for the csv reader, as scripts/maps has them. */
static const char *const maptext[] = {
	"[csv]\nid = Session Id\ncaller = From\ncaller_name = From Name\n"
	"called = To\ndate = Date\ntime = Time\ntime_format = %d/%m/%Y "
	"%H:%M:%S\nduration = Duration\ndirection = Direction\nin = "
	"Inbound\nout = Outbound\nresult = Result\nanswered = Accepted, "
	"Answered\nvoicemail = Voicemail\nbusy = Busy, Rejected\nabandoned "
	"= Hang Up\nno_answer = Missed\nfailed = Call Failed\n",
	"[csv]\nid = Correlation ID\ncaller = Caller Number\ncalled = "
	"Callee Number\nstart = Invite time\nanswer = Start time\nend = "
	"End time | Failure time\ndirection = Call type\nin = dr_in, "
	"user_in\nout = dr_out, user_out\nresult = Final SIP code\n"
	"answered = 200\nbusy = 486, 600, 603\nno_answer = 480, 408, 487\n"
	"failed = 404, 500\n",
	"[csv]\nstart = Time\ncaller = Call From\ncalled = Call To\n"
	"duration = Call Duration(s)\nring = Ring Duration(s)\ntalk = Talk "
	"Duration(s)\nddi = DID/DDI\ntime_format = %d/%m/%Y %H:%M:%S\n"
	"direction = Communication Type\nin = Inbound\nout = Outbound\n"
	"internal = Internal\nresult = Status\nanswered = ANSWERED\n"
	"voicemail = VOICEMAIL\nbusy = BUSY\nabandoned = ABANDONED\n"
	"no_answer = NO ANSWER\nfailed = FAILED\n",
};

static struct mcr_config *
loadmap(const char *text)
{
	char path[] = "/tmp/fuzz-cdr-map.XXXXXX";
	struct mcr_config *c;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	c = mcr_config_load(path);
	unlink(path);
	if (c == NULL)
		abort();
	return c;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	/* the csv reader three times, once with each map */
	static const enum mcr_fmt fmts[] = { MCR_FMT_ASTERISK, MCR_FMT_QUEUE,
	    MCR_FMT_FREEPBX, MCR_FMT_FREESWITCH, MCR_FMT_3CX, MCR_FMT_TWILIO,
	    MCR_FMT_JSONL, MCR_FMT_CSV, MCR_FMT_CSV, MCR_FMT_CSV };
	const struct mcr_config *c;
	int f;
	struct mcr_cdr *r;
	struct mcr_leg leg;
	FILE *fp;
	int n = 0;

	if (cfg == NULL) {
		unsetenv("MCR_CONFIG");
		unsetenv("MCR_DB");
		if ((cfg = mcr_config_load("/dev/null")) == NULL)
			abort();
		for (int i = 0; i < 3; i++)
			maps[i] = loadmap(maptext[i]);
	}
	if (size < 1)
		return 0;
	if ((fp = fmemopen((void *)(data + 1), size - 1 ? size - 1 : 1,
	    "r")) == NULL)
		return 0;
	if (size == 1)
		fgetc(fp);
	f = data[0] % (sizeof(fmts) / sizeof(fmts[0]));
	c = f >= 7 ? maps[f - 7] : cfg;
	r = mcr_cdr_open(fmts[f], fp, "fuzz", c, 0);
	if (r != NULL) {
		int k;

		/* a leg's fields are read as ingest reads them */
		while ((k = mcr_cdr_next(r, &leg, 1)) != 0 && k != -2 &&
		    n++ < 100000)
			if (k == 1) {
				mcr_leg_normalise(&leg, c);
				(void)strlen(leg.gkey);
			}
		mcr_cdr_close(r);
	}
	fclose(fp);
	return 0;
}
