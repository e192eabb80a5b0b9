/*
 * The messaging providers: an outbox file, the WhatsApp Cloud API (meta)
 * and Twilio (WhatsApp through Content templates, and SMS), over libcurl.
 * Every error is sorted into the classes of mcr_pres, after the tables of
 * the providers' error codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>

#include "mcr.h"
#include "json.h"

enum ptype { P_OUTBOX, P_META, P_TWILIO };

struct mcr_prov {
	enum ptype type;
	enum mcr_chan chan;
	const struct mcr_config *cfg;
	char	*token;
	char	*url;
	int	 fd;			/* outbox */
	CURL	*curl;
	struct mcr_buf body, answer;
	size_t	 sent;			/* of body, read by libcurl */
	int	 retry_after;
};

#define ANSWER_MAX	(1 << 20)

const char *
mcr_chan_name(enum mcr_chan c)
{
	return c == MCR_CH_SMS ? "sms" : "whatsapp";
}

const char *
mcr_prov_name(const struct mcr_prov *p)
{
	static const char *n[] = { "outbox", "meta", "twilio" };

	return n[p->type];
}

/* The request's body, as libcurl sends it. */
static size_t
onread(char *buf, size_t size, size_t n, void *arg)
{
	struct mcr_prov *p = arg;
	size_t k = p->body.len - p->sent;

	if (k > size * n)
		k = size * n;
	memcpy(buf, p->body.s + p->sent, k);
	p->sent += k;
	return k;
}

/*
 * libcurl sends a request again, on a new connection, when a kept-alive
 * one closes after it was sent: the provider may have it, and a patient
 * would get the message twice.  It must rewind the body to do that, which
 * is refused here once any was sent; the transfer then ends uncertain.
 */
static int
onseek(void *arg, curl_off_t off, int origin)
{
	struct mcr_prov *p = arg;

	if (origin == SEEK_SET && off == 0 && p->sent == 0)
		return CURL_SEEKFUNC_OK;
	return CURL_SEEKFUNC_FAIL;
}

static size_t
onbody(char *data, size_t size, size_t n, void *arg)
{
	struct mcr_prov *p = arg;

	if (p->answer.len + size * n > ANSWER_MAX)
		return 0;
	mcr_buf_add(&p->answer, data, size * n);
	return size * n;
}

static size_t
onheader(char *data, size_t size, size_t n, void *arg)
{
	struct mcr_prov *p = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		long v = strtol(data + 12, NULL, 10);

		p->retry_after = v > 0 && v < 3600 ? (int)v : 0;
	}
	return len;
}

static int
curl_init(struct mcr_prov *p)
{
	static int once;

	if (!once) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		once = 1;
	}
	if ((p->curl = curl_easy_init()) == NULL) {
		mcr_warn("cannot start libcurl");
		return -1;
	}
	curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->curl, CURLOPT_CONNECTTIMEOUT,
	    (long)p->cfg->connect_timeout);
	curl_easy_setopt(p->curl, CURLOPT_TIMEOUT, (long)p->cfg->timeout);
	curl_easy_setopt(p->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(p->curl, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, onbody);
	curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(p->curl, CURLOPT_HEADERFUNCTION, onheader);
	curl_easy_setopt(p->curl, CURLOPT_HEADERDATA, p);
	curl_easy_setopt(p->curl, CURLOPT_USERAGENT, "mcr");
	return 0;
}

static const char *
need(const char *v, const char *what)
{
	if (v == NULL || *v == '\0')
		mcr_warn("%s is not set", what);
	return v;
}

struct mcr_prov *
mcr_prov_open(const struct mcr_config *cfg, enum mcr_chan chan)
{
	struct mcr_prov *p;
	const char *name = chan == MCR_CH_SMS ? cfg->sms_provider :
	    cfg->whatsapp_provider;
	struct mcr_buf u = { 0 };

	if (strcmp(name, "none") == 0)
		return NULL;
	p = mcr_xcalloc(1, sizeof(*p));
	p->cfg = cfg;
	p->chan = chan;
	p->fd = -1;
	if (strcmp(name, "outbox") == 0) {
		p->type = P_OUTBOX;
		if (need(cfg->outbox_path, "[outbox] path") == NULL)
			goto fail;
		if ((p->fd = open(cfg->outbox_path, O_WRONLY | O_APPEND |
		    O_CREAT | O_CLOEXEC, 0600)) == -1) {
			mcr_warn("%s: %s", cfg->outbox_path, strerror(errno));
			goto fail;
		}
		return p;
	}
	if (strcmp(name, "meta") == 0) {
		p->type = P_META;
		if (need(cfg->phone_number_id, "[whatsapp] phone_number_id") ==
		    NULL || (p->token = mcr_config_secret("MCR_META_TOKEN",
		    cfg->whatsapp_token_file, "[whatsapp] access token")) ==
		    NULL)
			goto fail;
		mcr_buf_printf(&u, "%s/%s/messages", cfg->whatsapp_api_base,
		    cfg->phone_number_id);
	} else {
		p->type = P_TWILIO;
		if (need(cfg->twilio_account, "[twilio] account_sid") == NULL ||
		    (p->token = mcr_config_secret("MCR_TWILIO_TOKEN",
		    cfg->twilio_token_file, "[twilio] auth token")) == NULL)
			goto fail;
		if (cfg->twilio_service == NULL && need(chan == MCR_CH_SMS ?
		    cfg->sms_from : cfg->whatsapp_from, chan == MCR_CH_SMS ?
		    "[sms] from (or [twilio] messaging_service_sid)" :
		    "[whatsapp] from (or [twilio] messaging_service_sid)") ==
		    NULL)
			goto fail;
		mcr_buf_printf(&u, "%s/2010-04-01/Accounts/%s/Messages.json",
		    cfg->twilio_api_base, cfg->twilio_account);
	}
	p->url = u.s;
	if (curl_init(p) == -1)
		goto fail;
	return p;
fail:
	mcr_prov_close(p);
	return NULL;
}

void
mcr_prov_close(struct mcr_prov *p)
{
	if (p == NULL)
		return;
	if (p->fd != -1)
		close(p->fd);
	if (p->curl != NULL)
		curl_easy_cleanup(p->curl);
	if (p->token != NULL) {
		explicit_bzero(p->token, strlen(p->token));
		free(p->token);
	}
	free(p->url);
	mcr_buf_free(&p->body);
	mcr_buf_free(&p->answer);
	free(p);
}

static int
incodes(long code, const long *v)
{
	for (; *v != -1; v++)
		if (*v == code)
			return 1;
	return 0;
}

enum mcr_pres
mcr_prov_classify(const char *provider, int http, long code)
{
	static const long meta_retry[] = { 130429, 131056, 131000, 131016, 1,
	    2, 4, 80007, -1 };
	static const long meta_fallback[] = { 131026, 131047, 131049, -1 };
	static const long meta_stop[] = { 190, 0, 10, 368, 131031, 131042,
	    131048, 132000, 132001, 132005, 132007, 132008, 132012, 132015,
	    132016, 131063, -1 };
	static const long tw_retry[] = { 20429, 63018, 20500, 20503, -1 };
	static const long tw_fallback[] = { 63003, 63016, -1 };
	static const long tw_stop[] = { 20003, 20005, 20404, 21606, 21659,
	    63007, 21212, -1 };

	if (strcmp(provider, "meta") == 0 && code > 0) {
		if (incodes(code, meta_retry))
			return MCR_P_RETRY;
		if (incodes(code, meta_fallback))
			return MCR_P_FALLBACK;
		if (incodes(code, meta_stop) || (code >= 200 && code <= 299))
			return MCR_P_STOP;
		if (code == 131050)
			return MCR_P_OPTOUT;
		return MCR_P_FAIL;
	}
	if (strcmp(provider, "twilio") == 0 && code > 0) {
		if (incodes(code, tw_retry))
			return MCR_P_RETRY;
		if (incodes(code, tw_fallback))
			return MCR_P_FALLBACK;
		if (incodes(code, tw_stop))
			return MCR_P_STOP;
		if (code == 21610)
			return MCR_P_OPTOUT;
		return MCR_P_FAIL;
	}
	if (http == 429 || http >= 500)
		return MCR_P_RETRY;
	if (http == 401 || http == 403 || http == 404)
		return MCR_P_STOP;
	return MCR_P_FAIL;
}

/* The error of an answer: code and text from its JSON, else the status. */
static void
answer_error(struct mcr_prov *p, struct mcr_result *r)
{
	json_t *j = json_loadb(p->answer.s ? p->answer.s : "", p->answer.len,
	    0, NULL), *e = NULL;
	const char *msg = NULL, *det = NULL;

	if (j != NULL && p->type == P_META &&
	    json_is_object(e = json_object_get(j, "error"))) {
		r->code = (long)json_integer_value(json_object_get(e, "code"));
		msg = json_string_value(json_object_get(e, "message"));
		det = json_string_value(json_object_get(json_object_get(e,
		    "error_data"), "details"));
	} else if (j != NULL && p->type == P_TWILIO) {
		r->code = (long)json_integer_value(json_object_get(j, "code"));
		msg = json_string_value(json_object_get(j, "message"));
	}
	/* Meta's message repeats the code: "(#131026) Message undeliverable" */
	if (msg != NULL && msg[0] == '(' && msg[1] == '#' &&
	    strstr(msg, ") ") != NULL)
		msg = strstr(msg, ") ") + 2;
	if (msg != NULL)
		snprintf(r->error, sizeof(r->error), "%ld: %s%s%s", r->code,
		    msg, det ? ": " : "", det ? det : "");
	else
		snprintf(r->error, sizeof(r->error), "HTTP %d with %s", r->http,
		    j == NULL ? "an unreadable answer" : "no error code");
	json_decref(j);
	r->cls = mcr_prov_classify(mcr_prov_name(p), r->http, r->code);
}

static void
answer_ok(struct mcr_prov *p, struct mcr_result *r)
{
	json_t *j = json_loadb(p->answer.s ? p->answer.s : "", p->answer.len,
	    0, NULL);
	const char *id = NULL;

	if (j != NULL && p->type == P_META)
		id = json_string_value(json_object_get(json_array_get(
		    json_object_get(j, "messages"), 0), "id"));
	else if (j != NULL)
		id = json_string_value(json_object_get(j, "sid"));
	r->cls = MCR_P_SENT;
	if (id != NULL)
		mcr_strlcpy(r->provider_id, id, sizeof(r->provider_id));
	else
		snprintf(r->error, sizeof(r->error), "accepted (HTTP %d) but "
		    "the answer carried no message id", r->http);
	json_decref(j);
}

static void
form_add(struct mcr_prov *p, const char *k, const char *v)
{
	char *e = curl_easy_escape(p->curl, v, 0);

	if (p->body.len > 0)
		mcr_buf_add(&p->body, "&", 1);
	mcr_buf_printf(&p->body, "%s=%s", k, e ? e : "");
	curl_free(e);
}

/* A title cut to n bytes, not inside a UTF-8 sequence. */
static json_t *
cut(const char *s, size_t n)
{
	size_t len = strlen(s);

	if (len > n) {
		len = n;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	return json_stringn(s, len);
}

/*
 * A message inside the window: text, reply buttons (at most 3, titles at
 * most 20 bytes) or a list (at most 10 rows, titles 24, descriptions 72).
 */
static int
meta_session(struct mcr_prov *p, const struct mcr_req *q)
{
	json_t *j, *in = NULL, *v;
	char *s, opaque[32];

	snprintf(opaque, sizeof(opaque), "mcr:%lld", (long long)q->id);
	if (q->nopt > 0 && q->nopt <= 3) {
		v = json_array();
		for (int i = 0; i < q->nopt; i++)
			json_array_append_new(v, json_pack("{s:s,s:{s:s,s:o}}",
			    "type", "reply", "reply", "id", q->opt_id[i],
			    "title", cut(q->opt_title[i], 20)));
		in = json_pack("{s:s,s:{s:o},s:{s:o}}", "type", "button",
		    "body", "text", cut(q->text, 1024), "action", "buttons", v);
	} else if (q->nopt > 3) {
		v = json_array();
		for (int i = 0; i < q->nopt && i < 10; i++) {
			json_t *row = json_pack("{s:s,s:o}", "id", q->opt_id[i],
			    "title", cut(q->opt_title[i], 24));

			if (q->opt_desc[i] != NULL && *q->opt_desc[i])
				json_object_set_new(row, "description",
				    cut(q->opt_desc[i], 72));
			json_array_append_new(v, row);
		}
		in = json_pack("{s:s,s:{s:o},s:{s:s,s:[{s:s,s:o}]}}", "type",
		    "list", "body", "text", cut(q->text, 1024), "action",
		    "button", "Choose a time", "sections", "title", "Times",
		    "rows", v);
	}
	if (in != NULL)
		j = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s}", "messaging_product",
		    "whatsapp", "recipient_type", "individual", "to", q->to,
		    "type", "interactive", "interactive", in,
		    "biz_opaque_callback_data", opaque);
	else
		j = json_pack("{s:s,s:s,s:s,s:s,s:{s:b,s:o},s:s}",
		    "messaging_product", "whatsapp", "recipient_type",
		    "individual", "to", q->to, "type", "text", "text",
		    "preview_url", 0, "body", cut(q->text, 4096),
		    "biz_opaque_callback_data", opaque);
	s = json_dumps(j, JSON_COMPACT);
	mcr_buf_puts(&p->body, s);
	free(s);
	json_decref(j);
	return 0;
}

/* The request body; -1 with res filled when the config cannot make one. */
static int
build(struct mcr_prov *p, const struct mcr_req *q, struct mcr_result *r)
{
	const struct mcr_template *t = &p->cfg->tpl[q->kind];
	const char *kn = mcr_kind_name(q->kind);

	mcr_buf_reset(&p->body);
	if (p->type == P_META && q->session)
		return meta_session(p, q);
	if (p->type == P_META) {
		json_t *j, *params = json_array(), *tpl;
		char *s, opaque[32];

		if (t->name == NULL) {
			r->cls = MCR_P_STOP;
			snprintf(r->error, sizeof(r->error), "[template.%s] has "
			    "no name: the meta provider sends approved "
			    "templates only", kn);
			json_decref(params);
			return -1;
		}
		for (int i = 0; i < q->nparams; i++)
			json_array_append_new(params, json_pack("{s:s,s:s}",
			    "type", "text", "text", q->params[i]));
		tpl = json_pack("{s:s,s:{s:s}}", "name", t->name, "language",
		    "code", t->language ? t->language : p->cfg->language);
		if (q->nparams > 0)
			json_object_set_new(tpl, "components", json_pack(
			    "[{s:s,s:o}]", "type", "body", "parameters",
			    params));
		else
			json_decref(params);
		snprintf(opaque, sizeof(opaque), "mcr:%lld", (long long)q->id);
		j = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s}", "messaging_product",
		    "whatsapp", "recipient_type", "individual", "to", q->to,
		    "type", "template", "template", tpl,
		    "biz_opaque_callback_data", opaque);
		s = json_dumps(j, JSON_COMPACT);
		mcr_buf_puts(&p->body, s);
		free(s);
		json_decref(j);
		return 0;
	}
	/* twilio */
	{
		char to[40], from[48];
		const char *f = p->chan == MCR_CH_SMS ? p->cfg->sms_from :
		    p->cfg->whatsapp_from;
		const char *pre = p->chan == MCR_CH_SMS ? "" : "whatsapp:";

		snprintf(to, sizeof(to), "%s%s", pre, q->to);
		form_add(p, "To", to);
		if (p->cfg->twilio_service != NULL)
			form_add(p, "MessagingServiceSid",
			    p->cfg->twilio_service);
		else {
			snprintf(from, sizeof(from), "%s%s", pre, f);
			form_add(p, "From", from);
		}
		if (p->chan == MCR_CH_SMS || q->session)
			form_add(p, "Body", q->text);
		else if (t->content_sid == NULL) {
			r->cls = MCR_P_STOP;
			snprintf(r->error, sizeof(r->error), "[template.%s] has "
			    "no content_sid: WhatsApp through twilio sends "
			    "Content templates only", kn);
			return -1;
		} else {
			json_t *v = json_object();
			char *s, k[12];

			form_add(p, "ContentSid", t->content_sid);
			for (int i = 0; i < q->nparams; i++) {
				snprintf(k, sizeof(k), "%d", i + 1);
				json_object_set_new(v, k,
				    json_string(q->params[i]));
			}
			s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
			form_add(p, "ContentVariables", s);
			free(s);
			json_decref(v);
		}
		if (p->cfg->twilio_status_callback != NULL) {
			struct mcr_buf u = { 0 };

			mcr_buf_printf(&u, "%s%cmcr_id=%lld",
			    p->cfg->twilio_status_callback,
			    strchr(p->cfg->twilio_status_callback, '?') ?
			    '&' : '?', (long long)q->id);
			form_add(p, "StatusCallback", u.s);
			mcr_buf_free(&u);
		}
	}
	return 0;
}

static int
outbox(struct mcr_prov *p, const struct mcr_req *q, struct mcr_result *r)
{
	char at[21];
	struct stat sb;
	ssize_t n;
	int e, full, locked = 0;

	mcr_buf_reset(&p->body);
	mcr_buf_puts(&p->body, "{");
	mcr_json_kstr(&p->body, "type", "message");
	mcr_json_kint(&p->body, "id", q->id);
	mcr_json_kint(&p->body, "case_id", q->case_id);
	mcr_json_kstr(&p->body, "to", q->to);
	mcr_json_kstr(&p->body, "channel", mcr_chan_name(p->chan));
	mcr_json_kstr(&p->body, "kind", mcr_kind_name(q->kind));
	mcr_json_kstr(&p->body, "text", q->text);
	mcr_json_kstr(&p->body, "at", mcr_time_fmt(mcr_now(), at));
	mcr_buf_puts(&p->body, "}\n");
	/*
	 * One write: a line is in the outbox whole or not at all.  A file
	 * that fills up is cut back to where it was (under a lock, as other
	 * runs append too), and the message waits for a retry.
	 */
	if (fstat(p->fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    flock(p->fd, LOCK_EX) == 0) {
		locked = 1;
		if (fstat(p->fd, &sb) == -1)
			sb.st_size = -1;	/* not cut back */
	}
	n = write(p->fd, p->body.s, p->body.len);
	e = errno;
	if (n != (ssize_t)p->body.len) {
		full = n == 0 || (n > 0 && locked) || (n < 0 && (e == ENOSPC ||
		    e == EFBIG || e == EDQUOT));
		if (n > 0 && locked && (sb.st_size < 0 ||
		    ftruncate(p->fd, sb.st_size) == -1))
			full = 0;	/* the part stays: it may be read */
		r->cls = full ? MCR_P_RETRY : n <= 0 ? MCR_P_STOP :
		    MCR_P_UNCERTAIN;
		snprintf(r->error, sizeof(r->error), "%s: %s",
		    p->cfg->outbox_path, n < 0 ? strerror(e) : "short write "
		    "(the disk is full?)");
	}
	if (locked)
		flock(p->fd, LOCK_UN);
	if (n != (ssize_t)p->body.len)
		return -1;
	r->cls = MCR_P_SENT;
	snprintf(r->provider_id, sizeof(r->provider_id), "outbox:%lld",
	    (long long)q->id);
	return 0;
}

int
mcr_prov_send(struct mcr_prov *p, const struct mcr_req *q, struct mcr_result *r)
{
	struct curl_slist *h = NULL;
	curl_off_t conn = 0;
	CURLcode cc;
	long http = 0;

	memset(r, 0, sizeof(*r));
	if (p->type == P_OUTBOX)
		return outbox(p, q, r);
	if (build(p, q, r) == -1)
		return -1;
	mcr_buf_reset(&p->answer);
	p->retry_after = 0;
	curl_easy_setopt(p->curl, CURLOPT_URL, p->url);
	p->sent = 0;
	curl_easy_setopt(p->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)p->body.len);
	curl_easy_setopt(p->curl, CURLOPT_READFUNCTION, onread);
	curl_easy_setopt(p->curl, CURLOPT_READDATA, p);
	curl_easy_setopt(p->curl, CURLOPT_SEEKFUNCTION, onseek);
	curl_easy_setopt(p->curl, CURLOPT_SEEKDATA, p);
	if (p->type == P_META) {
		struct mcr_buf a = { 0 };

		mcr_buf_printf(&a, "Authorization: Bearer %s", p->token);
		h = curl_slist_append(h, a.s);
		explicit_bzero(a.s, a.len);
		mcr_buf_free(&a);
		h = curl_slist_append(h, "Content-Type: application/json");
	} else {
		curl_easy_setopt(p->curl, CURLOPT_USERNAME,
		    p->cfg->twilio_account);
		curl_easy_setopt(p->curl, CURLOPT_PASSWORD, p->token);
		h = curl_slist_append(h, "Content-Type: "
		    "application/x-www-form-urlencoded");
	}
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, h);
	cc = curl_easy_perform(p->curl);
	curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_getinfo(p->curl, CURLINFO_CONNECT_TIME_T, &conn);
	r->http = (int)http;
	r->retry_after = p->retry_after;
	if (cc != CURLE_OK && http == 0) {
		/*
		 * Not connected: nothing left, safe to try again.  Connected
		 * and no answer: the provider may have it.
		 */
		if (cc == CURLE_COULDNT_RESOLVE_HOST || cc ==
		    CURLE_COULDNT_CONNECT || cc == CURLE_SSL_CONNECT_ERROR ||
		    cc == CURLE_PEER_FAILED_VERIFICATION ||
		    (cc == CURLE_OPERATION_TIMEDOUT && conn == 0))
			r->cls = MCR_P_UNREACHABLE;
		else
			r->cls = MCR_P_UNCERTAIN;
		snprintf(r->error, sizeof(r->error), "%s", cc ==
		    CURLE_SEND_FAIL_REWIND ? "the connection closed after the "
		    "request was sent" : curl_easy_strerror(cc));
		return -1;
	}
	if (http >= 200 && http < 300) {
		answer_ok(p, r);
		return 0;
	}
	answer_error(p, r);
	return -1;
}
