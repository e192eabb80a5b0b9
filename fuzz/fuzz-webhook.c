/*
 * fuzz-webhook: Meta and Twilio payloads, the form decoder and both
 * signature checks over any bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "mcr.h"
#include "webhook.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct mcr_events ev;
	struct mcr_form f;
	char why[160], hdr[80];
	const char *body = (const char *)data + (size ? 1 : 0);
	size_t len = size ? size - 1 : 0;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (mcr_events_meta(body, len, &ev, why, sizeof(why)) == 0)
			mcr_events_free(&ev);
		break;
	case 1:
		if (mcr_events_twilio(body, len, &ev, why, sizeof(why)) == 0)
			mcr_events_free(&ev);
		if (mcr_form_parse(body, len, &f) == 0) {
			(void)mcr_form_get(&f, "Body");
			mcr_form_free(&f);
		}
		break;
	default:
		/* the header is the first bytes, the body the rest */
		memcpy(hdr, body, len < sizeof(hdr) - 1 ? len : sizeof(hdr) - 1);
		hdr[len < sizeof(hdr) - 1 ? len : sizeof(hdr) - 1] = '\0';
		(void)mcr_sig_meta("secret", body, len, hdr);
		(void)mcr_sig_twilio("token", "https://example.org:443/twilio?a=1",
		    body, len, hdr);
		break;
	}
	return 0;
}
