/* fuzz-reply: the reply parser over any text and button id. */
#include <stdlib.h>
#include <string.h>

#include "mcr.h"
#include "parse.h"

static struct mcr_tz *tz;

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const struct mcr_offer offers[4] = { { "slot_11", 1767691800 },
	    { "slot_12", 1767708000 }, { "slot_13", 1767889800 },
	    { "slot_14", 1767952800 } };
	struct mcr_reply r;
	char *text, *button = NULL, *nl;

	if (tz == NULL && (tz = mcr_tz_open("Europe/London")) == NULL)
		abort();
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	/* a first line starting with \x01 is a button id */
	if (size > 0 && text[0] == '\x01' && (nl = strchr(text, '\n'))) {
		*nl = '\0';
		button = text + 1;
		mcr_parse_reply(nl + 1, button, offers, 4, 1767614400, tz, &r);
	} else
		mcr_parse_reply(text, NULL, offers, size % 5, 1767614400, tz,
		    &r);
	if (r.intent == MCR_I_SLOT && (r.choice < 0 || r.choice > 3))
		abort();
	if (memchr(r.flag, '\0', sizeof(r.flag)) == NULL)
		abort();
	free(text);
	return 0;
}
