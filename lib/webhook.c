/*
 * Webhooks in: their signatures, and their payloads read into events.
 *
 * Meta signs the raw body with HMAC-SHA256 and the app secret
 * (X-Hub-Signature-256: sha256=<hex>); Twilio signs the public URL
 * followed by the POST parameters sorted by name, each name then value,
 * with HMAC-SHA1 and the auth token (X-Twilio-Signature: base64).  Both are
 * compared in constant time, over the bytes as they came.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "mcr.h"
#include "webhook.h"

int
mcr_sig_meta(const char *secret, const char *body, size_t len,
    const char *header)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (secret == NULL || header == NULL ||
	    strncmp(header, "sha256=", 7) != 0)
		return 0;
	header += 7;
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)body, len, mac, &n) == NULL)
		return 0;
	for (unsigned int i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	if (strlen(header) != 2 * n)
		return 0;
	/* lower-case the header's copy, so that hex case does not matter */
	{
		char h[2 * EVP_MAX_MD_SIZE + 1];

		for (unsigned int i = 0; i < 2 * n; i++)
			h[i] = (char)(header[i] >= 'A' && header[i] <= 'F' ?
			    header[i] - 'A' + 'a' : header[i]);
		return CRYPTO_memcmp(h, hex, 2 * n) == 0;
	}
}

/* Decode %XX and + of a form value in place. */
static void
unescape(char *s)
{
	char *d = s;

	for (; *s != '\0'; s++) {
		if (*s == '+')
			*d++ = ' ';
		else if (*s == '%' && s[1] != '\0' && s[2] != '\0' &&
		    strchr("0123456789abcdefABCDEF", s[1]) &&
		    strchr("0123456789abcdefABCDEF", s[2])) {
			char h[3] = { s[1], s[2], '\0' };

			*d++ = (char)strtol(h, NULL, 16);
			s += 2;
		} else
			*d++ = *s;
	}
	*d = '\0';
}

void
mcr_form_free(struct mcr_form *f)
{
	for (int i = 0; i < f->n; i++) {
		free(f->k[i]);
		free(f->v[i]);
	}
	free(f->k);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

int
mcr_form_parse(const char *body, size_t len, struct mcr_form *f)
{
	char *copy = mcr_xmalloc(len + 1), *p, *pair;

	memset(f, 0, sizeof(*f));
	memcpy(copy, body, len);
	copy[len] = '\0';
	if (memchr(body, '\0', len) != NULL) {
		free(copy);
		return -1;
	}
	p = copy;
	while ((pair = strsep(&p, "&")) != NULL) {
		char *eq;

		if (*pair == '\0')
			continue;
		if ((eq = strchr(pair, '=')) == NULL) {
			mcr_form_free(f);
			free(copy);
			return -1;
		}
		*eq = '\0';
		f->k = mcr_xrealloc(f->k, (size_t)(f->n + 1) * sizeof(char *));
		f->v = mcr_xrealloc(f->v, (size_t)(f->n + 1) * sizeof(char *));
		f->k[f->n] = mcr_xstrdup(pair);
		f->v[f->n] = mcr_xstrdup(eq + 1);
		unescape(f->k[f->n]);
		unescape(f->v[f->n]);
		f->n++;
	}
	free(copy);
	return f->n > 0 ? 0 : -1;
}

const char *
mcr_form_get(const struct mcr_form *f, const char *k)
{
	for (int i = 0; i < f->n; i++)
		if (strcmp(f->k[i], k) == 0)
			return f->v[i];
	return NULL;
}

static int
pcmp(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	int c = strcmp(x[0], y[0]);

	return c ? c : strcmp(x[1], y[1]);
}

static int
twilio_one(const char *token, const char *url, const struct mcr_form *f,
    const char *header)
{
	struct mcr_buf b = { 0 };
	const char **pairs = mcr_xcalloc((size_t)f->n + 1, 2 * sizeof(char *));
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	unsigned char b64[4 * EVP_MAX_MD_SIZE];
	int len, ok;

	for (int i = 0; i < f->n; i++) {
		pairs[2 * i] = f->k[i];
		pairs[2 * i + 1] = f->v[i];
	}
	qsort(pairs, (size_t)f->n, 2 * sizeof(char *), pcmp);
	mcr_buf_puts(&b, url);
	for (int i = 0; i < f->n; i++) {
		/* repeated identical pairs count once */
		if (i > 0 && pcmp(&pairs[2 * i], &pairs[2 * i - 2]) == 0)
			continue;
		mcr_buf_puts(&b, pairs[2 * i]);
		mcr_buf_puts(&b, pairs[2 * i + 1]);
	}
	free(pairs);
	ok = HMAC(EVP_sha1(), token, (int)strlen(token),
	    (const unsigned char *)(b.s ? b.s : ""), b.len, mac, &n) != NULL;
	mcr_buf_free(&b);
	if (!ok)
		return 0;
	len = EVP_EncodeBlock(b64, mac, (int)n);
	return (size_t)len == strlen(header) &&
	    CRYPTO_memcmp(b64, header, (size_t)len) == 0;
}

int
mcr_sig_twilio(const char *token, const char *url, const char *body,
    size_t len, const char *header)
{
	struct mcr_form f;
	struct mcr_buf alt = { 0 };
	const char *p, *host;
	int ok;

	if (token == NULL || url == NULL || header == NULL)
		return 0;
	if (mcr_form_parse(body, len, &f) == -1 && len > 0)
		return 0;
	ok = twilio_one(token, url, &f, header);
	/* Twilio is inconsistent about the port: try with and without */
	if (!ok && (host = strstr(url, "://")) != NULL) {
		host += 3;
		p = host + strcspn(host, ":/?");
		if (*p == ':') {
			mcr_buf_add(&alt, url, (size_t)(p - url));
			mcr_buf_puts(&alt, p + strcspn(p, "/?"));
		} else {
			mcr_buf_add(&alt, url, (size_t)(p - url));
			mcr_buf_puts(&alt, strncmp(url, "https", 5) == 0 ?
			    ":443" : ":80");
			mcr_buf_puts(&alt, p);
		}
		ok = twilio_one(token, alt.s, &f, header);
		mcr_buf_free(&alt);
	}
	mcr_form_free(&f);
	return ok;
}

/* Events */

static struct mcr_event *
ev_new(struct mcr_events *e, enum mcr_evtype t, const char *provider)
{
	struct mcr_event *v;

	e->v = mcr_xrealloc(e->v, (size_t)(e->n + 1) * sizeof(*e->v));
	v = &e->v[e->n++];
	memset(v, 0, sizeof(*v));
	v->type = t;
	v->provider = provider;
	v->chan = MCR_CH_WHATSAPP;
	v->at = -1;
	return v;
}

void
mcr_events_free(struct mcr_events *e)
{
	for (int i = 0; i < e->n; i++)
		free(e->v[i].text);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

static void
scpy(char *dst, size_t n, json_t *v)
{
	const char *s = json_string_value(v);

	mcr_strlcpy(dst, s ? s : "", n);
}

/* "mcr:123" (our biz_opaque_callback_data) to 123, else 0. */
static int64_t
ourid(const char *s)
{
	long long v;
	const char *e;

	if (s == NULL || strncmp(s, "mcr:", 4) != 0 ||
	    mcr_util_num(s + 4, 1, INT64_MAX, &v, &e) == -1)
		return 0;
	return (int64_t)v;
}

static void
meta_message(struct mcr_events *e, json_t *m, json_t *contacts)
{
	struct mcr_event *v = ev_new(e, MCR_EV_MESSAGE, "meta");
	const char *type = json_string_value(json_object_get(m, "type"));
	json_t *x;
	long long ts;
	const char *err;

	scpy(v->id, sizeof(v->id), json_object_get(m, "id"));
	scpy(v->from, sizeof(v->from), json_object_get(m, "from"));
	scpy(v->user_id, sizeof(v->user_id), json_object_get(m,
	    "from_user_id"));
	if (v->user_id[0] == '\0') {
		size_t i;
		json_t *c;

		json_array_foreach(contacts, i, c) {
			const char *wa = json_string_value(json_object_get(c,
			    "wa_id"));

			if (v->from[0] == '\0' || (wa && strcmp(wa, v->from) ==
			    0))
				scpy(v->user_id, sizeof(v->user_id),
				    json_object_get(c, "user_id"));
		}
	}
	if (mcr_util_num(json_string_value(json_object_get(m, "timestamp")) ?
	    json_string_value(json_object_get(m, "timestamp")) : "", 0,
	    INT64_MAX, &ts, &err) == 0)
		v->at = (time_t)ts;
	if (type == NULL)
		type = "";
	if (strcmp(type, "text") == 0) {
		const char *b = json_string_value(json_object_get(
		    json_object_get(m, "text"), "body"));

		v->text = mcr_xstrdup(b ? b : "");
	} else if (strcmp(type, "interactive") == 0) {
		x = json_object_get(m, "interactive");
		x = json_object_get(x, "button_reply") ? json_object_get(x,
		    "button_reply") : json_object_get(x, "list_reply");
		scpy(v->button, sizeof(v->button), json_object_get(x, "id"));
		if (json_string_value(json_object_get(x, "title")))
			v->text = mcr_xstrdup(json_string_value(
			    json_object_get(x, "title")));
	} else if (strcmp(type, "button") == 0) {
		x = json_object_get(m, "button");
		scpy(v->button, sizeof(v->button), json_object_get(x,
		    "payload"));
		if (json_string_value(json_object_get(x, "text")))
			v->text = mcr_xstrdup(json_string_value(
			    json_object_get(x, "text")));
	} else
		v->other = 1;	/* media, location, unsupported ... */
	mcr_strlcpy(v->mtype, type, sizeof(v->mtype));
}

static void
meta_status(struct mcr_events *e, json_t *s)
{
	struct mcr_event *v = ev_new(e, MCR_EV_STATUS, "meta");
	json_t *err = json_array_get(json_object_get(s, "errors"), 0);

	scpy(v->id, sizeof(v->id), json_object_get(s, "id"));
	scpy(v->status, sizeof(v->status), json_object_get(s, "status"));
	scpy(v->from, sizeof(v->from), json_object_get(s, "recipient_id"));
	v->mcr_id = ourid(json_string_value(json_object_get(s,
	    "biz_opaque_callback_data")));
	if (err != NULL) {
		const char *t = json_string_value(json_object_get(err,
		    "title"));

		v->code = (long)json_integer_value(json_object_get(err,
		    "code"));
		snprintf(v->error, sizeof(v->error), "%ld: %s", v->code,
		    t ? t : "error");
	}
}

int
mcr_events_meta(const char *body, size_t len, struct mcr_events *e,
    char *why, size_t whysz)
{
	json_error_t err;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err), *ent,
	    *ch, *val, *x;
	size_t i, k, m;

	memset(e, 0, sizeof(*e));
	if (j == NULL || !json_is_object(j)) {
		snprintf(why, whysz, "not a JSON object%s%s", j ? "" : ": ",
		    j ? "" : err.text);
		json_decref(j);
		return -1;
	}
	if (!json_is_array(json_object_get(j, "entry"))) {
		snprintf(why, whysz, "no entry array: not a WhatsApp webhook");
		json_decref(j);
		return -1;
	}
	json_array_foreach(json_object_get(j, "entry"), i, ent) {
		json_array_foreach(json_object_get(ent, "changes"), k, ch) {
			val = json_object_get(ch, "value");
			json_array_foreach(json_object_get(val, "messages"), m,
			    x)
				meta_message(e, x, json_object_get(val,
				    "contacts"));
			json_array_foreach(json_object_get(val, "statuses"), m,
			    x)
				meta_status(e, x);
		}
	}
	json_decref(j);
	return 0;
}

int
mcr_events_twilio(const char *body, size_t len, struct mcr_events *e,
    char *why, size_t whysz)
{
	struct mcr_form f;
	const char *st, *sid, *from, *v;
	struct mcr_event *ev;

	memset(e, 0, sizeof(*e));
	if (mcr_form_parse(body, len, &f) == -1) {
		snprintf(why, whysz, "not a form body");
		return -1;
	}
	sid = mcr_form_get(&f, "MessageSid");
	if (sid == NULL)
		sid = mcr_form_get(&f, "SmsSid");
	if (sid == NULL) {
		snprintf(why, whysz, "no MessageSid: not a Twilio message");
		mcr_form_free(&f);
		return -1;
	}
	st = mcr_form_get(&f, "MessageStatus");
	if (st == NULL)
		st = mcr_form_get(&f, "SmsStatus");
	from = mcr_form_get(&f, "From");
	if (st != NULL && strcmp(st, "received") != 0) {
		ev = ev_new(e, MCR_EV_STATUS, "twilio");
		mcr_strlcpy(ev->status, strcmp(st, "undelivered") == 0 ?
		    "failed" : st, sizeof(ev->status));
		v = mcr_form_get(&f, "To");
		if (v != NULL && strncmp(v, "whatsapp:", 9) == 0)
			v += 9;
		else if (v != NULL)
			ev->chan = MCR_CH_SMS;
		mcr_strlcpy(ev->from, v ? v : "", sizeof(ev->from));
		if ((v = mcr_form_get(&f, "ErrorCode")) != NULL && *v) {
			ev->code = strtol(v, NULL, 10);
			snprintf(ev->error, sizeof(ev->error), "%ld: %s",
			    ev->code, mcr_form_get(&f, "ErrorMessage") ?
			    mcr_form_get(&f, "ErrorMessage") : "error");
		}
	} else {
		ev = ev_new(e, MCR_EV_MESSAGE, "twilio");
		if (from != NULL && strncmp(from, "whatsapp:", 9) == 0)
			from += 9;
		else
			ev->chan = MCR_CH_SMS;
		mcr_strlcpy(ev->from, from ? from : "", sizeof(ev->from));
		ev->text = mcr_xstrdup((v = mcr_form_get(&f, "Body")) ? v :
		    "");
		if ((v = mcr_form_get(&f, "ButtonPayload")) != NULL)
			mcr_strlcpy(ev->button, v, sizeof(ev->button));
		if ((v = mcr_form_get(&f, "NumMedia")) != NULL &&
		    strcmp(v, "0") != 0 && ev->text[0] == '\0')
			ev->other = 1;
		mcr_strlcpy(ev->mtype, ev->other ? "media" : "text",
		    sizeof(ev->mtype));
	}
	mcr_strlcpy(ev->id, sid, sizeof(ev->id));
	if ((v = mcr_form_get(&f, "mcr_id")) != NULL) {
		long long n;
		const char *err;

		if (mcr_util_num(v, 1, INT64_MAX, &n, &err) == 0)
			ev->mcr_id = (int64_t)n;
	}
	mcr_form_free(&f);
	return 0;
}
