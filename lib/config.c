/* The INI configuration: built-in defaults < file < environment. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "mcr.h"

#define DEFAULT_CONFIG	"/etc/mcr/mcr.conf"

struct ctx {
	struct mcr_config *c;
	const char *file;
	FILE	*fp;
	int	 line;
	int	 errors;
	char	 section[32];
	int	 cont;			/* the line read is indented */
	char	 last[80];		/* section and key of the last value */
};

static const char *days[7] = { "sun", "mon", "tue", "wed", "thu", "fri",
    "sat" };

const char *
mcr_config_clinic(enum mcr_clinic t)
{
	static const char *n[] = { "dental", "gp", "specialist", "physio" };

	return n[t];
}

static void
list_free(struct mcr_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
list_set(struct mcr_list *l, const char *s)
{
	char *copy = mcr_xstrdup(s), *p = copy, *tok;

	list_free(l);
	while ((tok = strsep(&p, ",")) != NULL) {
		char *e;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		e = tok + strlen(tok);
		while (e > tok && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*tok == '\0')
			continue;
		l->v = mcr_xrealloc(l->v, (size_t)(l->n + 1) * sizeof(char *));
		l->v[l->n++] = mcr_xstrdup(tok);
	}
	free(copy);
}

static void
str_set(char **dst, const char *s)
{
	free(*dst);
	*dst = mcr_xstrdup(s);
}

static int
bool_set(int *dst, const char *s, const char **why)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcmp(s, "1") == 0 || strcasecmp(s, "on") == 0)
		*dst = 1;
	else if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcmp(s, "0") == 0 || strcasecmp(s, "off") == 0)
		*dst = 0;
	else {
		*why = "expected yes or no";
		return -1;
	}
	return 0;
}

static int
int_set(int *dst, const char *s, long long min, long long max,
    const char **why)
{
	long long v;
	const char *e;
	static char msg[64];

	if (mcr_util_num(s, min, max, &v, &e) == -1) {
		snprintf(msg, sizeof(msg), "number %s (%lld to %lld)", e, min,
		    max);
		*why = msg;
		return -1;
	}
	*dst = (int)v;
	return 0;
}

/* "30m whatsapp, 3h sms, 24h expire": the follow-up sequence. */
static int
steps_set(struct mcr_config *c, const char *v, const char **why)
{
	char *copy = mcr_xstrdup(v), *p = copy, *tok;
	int n = 0, last = -1;

	while ((tok = strsep(&p, ",")) != NULL) {
		char what[16], unit;
		int d, k;

		if (sscanf(tok, " %d%c %15s %n", &d, &unit, what, &k) < 3 ||
		    d < 1 || d > 43200 || (unit != 'm' && unit != 'h' &&
		    unit != 'd') || (unit == 'h' && d > 720) || (unit == 'd' &&
		    d > 30) ||
		    tok[strspn(tok + k, " ") + k] != '\0' || n == 8) {
			*why = "expected steps such as 30m whatsapp, 3h sms, 24h "
			    "expire (at most 8)";
			free(copy);
			return -1;
		}
		d *= unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400;
		if (d <= last) {
			*why = "each step must come later than the one before";
			free(copy);
			return -1;
		}
		last = d;
		c->steps[n].delay = d;
		if (strcmp(what, "whatsapp") == 0)
			c->steps[n].what = MCR_STEP_WHATSAPP;
		else if (strcmp(what, "sms") == 0)
			c->steps[n].what = MCR_STEP_SMS;
		else if (strcmp(what, "expire") == 0)
			c->steps[n].what = MCR_STEP_EXPIRE;
		else {
			*why = "a step is whatsapp, sms or expire";
			free(copy);
			return -1;
		}
		n++;
	}
	free(copy);
	c->nsteps = n;
	return 0;
}

/* Returns 0, 1 for an unknown key, or -1 with *why for a bad value. */
static int
setkey(struct mcr_config *c, const char *sec, const char *k, const char *v,
    const char **why)
{
	if (strcmp(sec, "practice") == 0) {
		if (strcmp(k, "name") == 0)
			str_set(&c->name, v);
		else if (strcmp(k, "type") == 0) {
			for (int i = 0; i <= MCR_PHYSIO; i++)
				if (strcmp(v, mcr_config_clinic(i)) == 0) {
					c->type = i;
					return 0;
				}
			*why = "expected dental, gp, specialist or physio";
			return -1;
		} else if (strcmp(k, "timezone") == 0) {
			struct mcr_tz *z;

			if ((z = mcr_tz_open(v)) == NULL) {
				*why = "no such time zone";
				return -1;
			}
			mcr_tz_close(z);
			str_set(&c->timezone, v);
		} else if (strcmp(k, "region") == 0) {
			if (strlen(v) != 2 || v[0] < 'A' || v[0] > 'Z' ||
			    v[1] < 'A' || v[1] > 'Z') {
				*why = "expected a two-letter region code "
				    "such as GB";
				return -1;
			}
			memcpy(c->region, v, 3);
		} else if (strcmp(k, "appointment_value") == 0) {
			char *end;

			errno = 0;
			c->appointment_value = strtod(v, &end);
			if (*end != '\0' || errno != 0 ||
			    c->appointment_value < 0) {
				*why = "expected an amount such as 85 or 42.50";
				return -1;
			}
		} else if (strcmp(k, "currency") == 0) {
			if (strlen(v) != 3) {
				*why = "expected a currency code such as GBP";
				return -1;
			}
			str_set(&c->currency, v);
		} else
			return 1;
		return 0;
	}
	if (strcmp(sec, "hours") == 0) {
		if (strcmp(k, "holidays") == 0)
			return mcr_hours_parse_holidays(&c->hours, v, why);
		for (int d = 0; d < 7; d++)
			if (strcmp(k, days[d]) == 0)
				return mcr_hours_parse_day(&c->hours, d, v, why);
		return 1;
	}
	if (strcmp(sec, "numbers") == 0) {
		if (strcmp(k, "own") == 0)
			list_set(&c->own, v);
		else if (strcmp(k, "staff") == 0)
			list_set(&c->staff, v);
		else if (strcmp(k, "blocklist") == 0)
			str_set(&c->blocklist, v);
		else if (strcmp(k, "extension_digits") == 0)
			return int_set(&c->ext_digits, v, 0, 8, why);
		else
			return 1;
		return 0;
	}
	if (strcmp(sec, "store") == 0) {
		if (strcmp(k, "path") == 0)
			str_set(&c->store_path, v);
		else if (strcmp(k, "busy_timeout") == 0)
			return int_set(&c->busy_timeout_ms, v, 0, 600000, why);
		else
			return 1;
		return 0;
	}
	if (strcmp(sec, "ingest") == 0) {
		if (strcmp(k, "format") == 0) {
			if (mcr_cdr_fmtbyname(v) == MCR_FMT_NONE) {
				static char msg[160];

				snprintf(msg, sizeof(msg), "unknown format: "
				    "expected one of %s", mcr_cdr_fmtlist());
				*why = msg;
				return -1;
			}
			str_set(&c->format, v);
		} else if (strcmp(k, "timezone") == 0) {
			struct mcr_tz *z;

			if ((z = mcr_tz_open(v)) == NULL) {
				*why = "no such time zone";
				return -1;
			}
			mcr_tz_close(z);
			str_set(&c->source_tz, v);
		} else if (strcmp(k, "inbound_contexts") == 0)
			list_set(&c->inbound_contexts, v);
		else if (strcmp(k, "trunks") == 0)
			list_set(&c->trunks, v);
		else if (strcmp(k, "ddis") == 0)
			list_set(&c->ddis, v);
		else if (strcmp(k, "short_abandon") == 0)
			return int_set(&c->short_abandon, v, 0, 600, why);
		else if (strcmp(k, "ring_threshold") == 0)
			return int_set(&c->ring_threshold, v, 0, 3600, why);
		else if (strcmp(k, "voicemail_missed") == 0)
			return bool_set(&c->voicemail_missed, v, why);
		else if (strcmp(k, "short_abandon_missed") == 0)
			return bool_set(&c->short_abandon_missed, v, why);
		else if (strcmp(k, "cooldown") == 0) {
			int h;

			if (int_set(&h, v, 1, 720, why) == -1)
				return -1;
			c->cooldown = h * 3600;
		} else if (strcmp(k, "queue_wait") == 0)
			return int_set(&c->queue_wait, v, 60, 86400, why);
		else if (strcmp(k, "settle_ms") == 0)
			return int_set(&c->settle_ms, v, 0, 60000, why);
		else if (strcmp(k, "map") == 0)
			str_set(&c->map, v);
		else
			return 1;
		return 0;
	}
	if (strcmp(sec, "csv") == 0) {
		if (c->csv == NULL)
			c->csv = mcr_csvmap_new();
		return mcr_csvmap_set(c->csv, k, v, why);
	}
	if (strcmp(sec, "send") == 0) {
		int m;

		if (strcmp(k, "delay") == 0)
			return int_set(&c->send_delay, v, 0, 900, why);
		if (strcmp(k, "max_age") == 0) {
			if (int_set(&m, v, 1, 10080, why) == -1)
				return -1;
			c->max_age = m * 60;
			return 0;
		}
		if (strcmp(k, "holdout") == 0)
			return int_set(&c->holdout, v, 0, 50, why);
		if (strcmp(k, "retries") == 0)
			return int_set(&c->retries, v, 1, 10, why);
		if (strcmp(k, "backoff") == 0)
			return int_set(&c->backoff_ms, v, 10, 60000, why);
		if (strcmp(k, "max_attempts") == 0)
			return int_set(&c->max_attempts, v, 1, 50, why);
		if (strcmp(k, "burst_calls") == 0)
			return int_set(&c->burst_calls, v, 0, 1000, why);
		if (strcmp(k, "burst_window") == 0) {
			if (int_set(&m, v, 1, 1440, why) == -1)
				return -1;
			c->burst_window = m * 60;
			return 0;
		}
		if (strcmp(k, "burst_neighbours") == 0)
			return int_set(&c->burst_neighbours, v, 0, 1000, why);
		if (strcmp(k, "connect_timeout") == 0)
			return int_set(&c->connect_timeout, v, 1, 120, why);
		if (strcmp(k, "timeout") == 0)
			return int_set(&c->timeout, v, 1, 600, why);
		if (strcmp(k, "recipient_interval") == 0)
			return int_set(&c->recipient_interval, v, 0, 3600, why);
		return 1;
	}
	if (strcmp(sec, "whatsapp") == 0) {
		if (strcmp(k, "provider") == 0) {
			if (strcmp(v, "outbox") != 0 && strcmp(v, "meta") != 0
			    && strcmp(v, "twilio") != 0) {
				*why = "expected outbox, meta or twilio";
				return -1;
			}
			str_set(&c->whatsapp_provider, v);
		} else if (strcmp(k, "api_base") == 0)
			str_set(&c->whatsapp_api_base, v);
		else if (strcmp(k, "phone_number_id") == 0)
			str_set(&c->phone_number_id, v);
		else if (strcmp(k, "token_file") == 0)
			str_set(&c->whatsapp_token_file, v);
		else if (strcmp(k, "language") == 0)
			str_set(&c->language, v);
		else if (strcmp(k, "from") == 0)
			str_set(&c->whatsapp_from, v);
		else if (strcmp(k, "rate") == 0)
			return int_set(&c->whatsapp_rate, v, 1, 1000, why);
		else
			return 1;
		return 0;
	}
	if (strcmp(sec, "twilio") == 0) {
		if (strcmp(k, "account_sid") == 0)
			str_set(&c->twilio_account, v);
		else if (strcmp(k, "token_file") == 0)
			str_set(&c->twilio_token_file, v);
		else if (strcmp(k, "api_base") == 0)
			str_set(&c->twilio_api_base, v);
		else if (strcmp(k, "messaging_service_sid") == 0)
			str_set(&c->twilio_service, v);
		else if (strcmp(k, "status_callback") == 0)
			str_set(&c->twilio_status_callback, v);
		else
			return 1;
		return 0;
	}
	if (strcmp(sec, "sms") == 0) {
		if (strcmp(k, "provider") == 0) {
			if (strcmp(v, "none") != 0 && strcmp(v, "outbox") != 0
			    && strcmp(v, "twilio") != 0) {
				*why = "expected none, outbox or twilio";
				return -1;
			}
			str_set(&c->sms_provider, v);
		} else if (strcmp(k, "from") == 0)
			str_set(&c->sms_from, v);
		else if (strcmp(k, "rate") == 0)
			return int_set(&c->sms_rate, v, 1, 1000, why);
		else
			return 1;
		return 0;
	}
	if (strcmp(sec, "reply") == 0) {
		if (strcmp(k, "listen") == 0)
			str_set(&c->listen, v);
		else if (strcmp(k, "public_url") == 0)
			str_set(&c->public_url, v);
		else if (strcmp(k, "app_secret_file") == 0)
			str_set(&c->app_secret_file, v);
		else if (strcmp(k, "verify_token_file") == 0)
			str_set(&c->verify_token_file, v);
		else if (strcmp(k, "max_body") == 0)
			return int_set(&c->max_body, v, 1024, 16777216, why);
		else if (strcmp(k, "booking_hook") == 0)
			str_set(&c->booking_hook, v);
		else
			return 1;
		return 0;
	}
	if (strcmp(sec, "slots") == 0) {
		if (strcmp(k, "length") == 0)
			return int_set(&c->slot_length, v, 5, 480, why);
		if (strcmp(k, "days") == 0)
			return int_set(&c->slot_days, v, 1, 90, why);
		if (strcmp(k, "lead") == 0)
			return int_set(&c->slot_lead, v, 0, 10080, why);
		if (strcmp(k, "hold") == 0)
			return int_set(&c->slot_hold, v, 1, 1440, why);
		if (strcmp(k, "offer") == 0)
			return int_set(&c->slot_offer, v, 1, 10, why);
		return 1;
	}
	if (strcmp(sec, "report") == 0) {
		if (strcmp(k, "short_cover") == 0)
			return int_set(&c->short_cover, v, 1, 100, why);
		if (strcmp(k, "callback_baseline") == 0) {
			char *end;

			c->callback_baseline = strtod(v, &end);
			if (end == v || *end != '\0' ||
			    !(c->callback_baseline >= 0 &&
			    c->callback_baseline <= 100)) {
				*why = "expected a per cent such as 6";
				return -1;
			}
			return 0;
		}
		return 1;
	}
	if (strcmp(sec, "followup") == 0) {
		if (strcmp(k, "steps") == 0)
			return steps_set(c, v, why);
		if (strcmp(k, "quiet") == 0) {
			int a, b, e, f, n = 0;

			if (strcmp(v, "none") == 0) {
				c->quiet_from = c->quiet_to = 0;
				return 0;
			}
			/* "20:00-08:00": a range that may pass midnight */
			if (sscanf(v, "%d:%d-%d:%d%n", &a, &b, &e, &f, &n) !=
			    4 || v[n] != '\0' || a < 0 || a > 23 || e < 0 ||
			    e > 23 || b < 0 || b > 59 || f < 0 || f > 59) {
				*why = "expected HH:MM-HH:MM or none";
				return -1;
			}
			c->quiet_from = a * 60 + b;
			c->quiet_to = e * 60 + f;
			return 0;
		}
		return 1;
	}
	if (strcmp(sec, "escalation") == 0) {
		if (strcmp(k, "email") == 0)
			str_set(&c->esc_email, v);
		else if (strcmp(k, "smtp") == 0)
			str_set(&c->esc_smtp, v);
		else if (strcmp(k, "from") == 0)
			str_set(&c->esc_from, v);
		else if (strcmp(k, "smtp_user") == 0)
			str_set(&c->esc_user, v);
		else if (strcmp(k, "hook") == 0)
			str_set(&c->esc_hook, v);
		else
			return 1;
		return 0;
	}
	if (strncmp(sec, "template.", 9) == 0) {
		int kind = mcr_kind_byname(sec + 9);
		struct mcr_template *t;

		if (kind < 0)
			return 2;
		t = &c->tpl[kind];
		if (strcmp(k, "name") == 0)
			str_set(&t->name, v);
		else if (strcmp(k, "language") == 0)
			str_set(&t->language, v);
		else if (strcmp(k, "content_sid") == 0)
			str_set(&t->content_sid, v);
		else if (strcmp(k, "params") == 0) {
			list_set(&t->params, v);
			t->params_set = 1;
		} else if (strcmp(k, "text") == 0)
			str_set(&t->text, v);
		else
			return 1;
		return 0;
	}
	if (strcmp(sec, "outbox") == 0) {
		if (strcmp(k, "path") == 0)
			str_set(&c->outbox_path, v);
		else
			return 1;
		return 0;
	}
	return 2;
}

static int
handler(void *user, const char *sec, const char *k, const char *v)
{
	struct ctx *x = user;
	const char *why = NULL;
	char here[80];
	int r;

	/* an indented line goes on with the value above: long texts */
	snprintf(here, sizeof(here), "%s\n%s", sec, k);
	if (x->cont && strcmp(here, x->last) == 0) {
		int kind = strncmp(sec, "template.", 9) == 0 ?
		    mcr_kind_byname(sec + 9) : -1;

		if (kind < 0 || strcmp(k, "text") != 0) {
			mcr_warn("%s:%d: only a template's text goes on over "
			    "indented lines", x->file, x->line);
			x->errors++;
			return 1;
		}
		{
			struct mcr_template *t = &x->c->tpl[kind];
			struct mcr_buf b = { 0 };

			mcr_buf_printf(&b, "%s %s", t->text, v);
			free(t->text);
			t->text = b.s;
		}
		return 1;
	}
	mcr_strlcpy(x->last, here, sizeof(x->last));
	r = setkey(x->c, sec, k, v, &why);
	if (r == 2 && *sec == '\0') {
		mcr_warn("%s:%d: '%s' is outside any [section]", x->file,
		    x->line, k);
		x->errors++;
		return 1;
	}
	if (r == 2)
		return 1;	/* reported with its header line */
	if (r == 1)
		mcr_warn("%s:%d: unknown key '%s' in [%s]", x->file, x->line,
		    k, sec);
	else if (r == -1)
		mcr_warn("%s:%d: %s: bad value '%s': %s", x->file, x->line, k,
		    v, why);
	if (r != 0)
		x->errors++;
	return 1;
}

/* inih reads one line a call: counting calls gives the line number. */
static char *
reader(char *buf, int n, void *stream)
{
	struct ctx *x = stream;
	char *r = fgets(buf, n, x->fp);
	size_t len;

	if (r == NULL)
		return NULL;
	x->line++;
	len = strlen(buf);
	x->cont = (buf[0] == ' ' || buf[0] == '\t') &&
	    buf[strspn(buf, " \t\r\n")] != '\0';
	{
		const char *p = buf + strspn(buf, " \t");
		static const char *known[] = { "practice", "hours", "numbers",
		    "store", "ingest", "csv", "send", "whatsapp", "twilio",
		    "sms", "outbox", "reply", "slots", "escalation", "followup",
		    "report", NULL };
		size_t n;
		int i, kind = -1;

		if (*p == '[' && p[1 + (n = strcspn(p + 1, "]"))] == ']') {
			for (i = 0; known[i] != NULL; i++)
				if (strlen(known[i]) == n &&
				    strncmp(p + 1, known[i], n) == 0)
					break;
			if (known[i] == NULL && n > 9 && n < 40 &&
			    strncmp(p + 1, "template.", 9) == 0) {
				char k[32];

				memcpy(k, p + 10, n - 9);
				k[n - 9] = '\0';
				if ((kind = mcr_kind_byname(k)) >= 0)
					x->c->tpl[kind].line = x->line;
			}
			if (known[i] == NULL && kind < 0) {
				mcr_warn("%s:%d: unknown section [%.*s]",
				    x->file, x->line, (int)n, p + 1);
				x->errors++;
			}
		}
	}
	if (len == (size_t)n - 1 && buf[len - 1] != '\n') {
		int ch;

		while ((ch = fgetc(x->fp)) != EOF && ch != '\n')
			;
		buf[0] = '\0';
		mcr_warn("%s:%d: line too long (at most %d characters; a "
		    "template's text goes on over indented lines)",
		    x->file, x->line, n - 2);
		x->errors++;
	}
	return r;
}

static void
defaults(struct mcr_config *c)
{
	const char *why;

	c->name = mcr_xstrdup("the practice");
	c->type = MCR_DENTAL;
	c->timezone = mcr_xstrdup("Europe/London");
	memcpy(c->region, "GB", 3);
	c->appointment_value = 85;
	c->currency = mcr_xstrdup("GBP");
	for (int d = 1; d <= 5; d++)
		mcr_hours_parse_day(&c->hours, d, "08:30-18:00", &why);
	c->ext_digits = 6;
	c->store_path = mcr_xstrdup("/var/lib/mcr/mcr.db");
	c->busy_timeout_ms = 5000;
	list_set(&c->inbound_contexts, "from-trunk, from-pstn, from-external, "
	    "from-did-direct, ext-did, from-sip-external, public, incoming, "
	    "inbound");
	c->short_abandon = 5;
	c->ring_threshold = 0;
	c->voicemail_missed = 1;
	c->short_abandon_missed = 0;
	c->cooldown = 24 * 3600;
	c->queue_wait = 3600;
	c->settle_ms = 300;
	c->send_delay = 0;
	c->max_age = 2 * 3600;
	c->holdout = 0;
	c->retries = 3;
	c->max_attempts = 6;
	c->backoff_ms = 1000;
	c->burst_calls = 8;
	c->burst_window = 600;
	c->burst_neighbours = 5;
	c->connect_timeout = 5;
	c->timeout = 20;
	c->recipient_interval = 6;
	c->whatsapp_provider = mcr_xstrdup("outbox");
	c->whatsapp_api_base = mcr_xstrdup("https://graph.facebook.com/v21.0");
	c->language = mcr_xstrdup("en_GB");
	c->whatsapp_rate = 20;
	c->twilio_api_base = mcr_xstrdup("https://api.twilio.com");
	c->sms_provider = mcr_xstrdup("none");
	c->sms_rate = 10;
	c->listen = mcr_xstrdup("127.0.0.1:8088");
	c->max_body = 65536;
	c->slot_length = 30;
	c->slot_days = 14;
	c->slot_lead = 60;
	c->slot_hold = 15;
	c->slot_offer = 3;
	c->esc_smtp = mcr_xstrdup("smtp://127.0.0.1:25");
	c->nsteps = 3;
	c->steps[0].delay = 30 * 60;
	c->steps[0].what = MCR_STEP_WHATSAPP;
	c->steps[1].delay = 3 * 3600;
	c->steps[1].what = MCR_STEP_SMS;
	c->steps[2].delay = 24 * 3600;
	c->steps[2].what = MCR_STEP_EXPIRE;
	c->short_cover = 20;
	c->callback_baseline = 6;
	c->quiet_from = 20 * 60;
	c->quiet_to = 8 * 60;
	c->outbox_path = mcr_xstrdup("/var/lib/mcr/outbox.jsonl");
}

static int
parsefile(struct mcr_config *c, const char *file, int *errors)
{
	struct ctx x;
	int r;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.file = file;
	if ((x.fp = fopen(file, "r")) == NULL) {
		mcr_warn("%s: %s", file, strerror(errno));
		return -1;
	}
	r = ini_parse_stream(reader, &x, handler, &x);
	fclose(x.fp);
	if (r > 0) {
		mcr_warn("%s:%d: syntax error: expected [section] or "
		    "key = value", file, r);
		x.errors++;
	}
	*errors += x.errors;
	return 0;
}

struct mcr_config *
mcr_config_load(const char *file)
{
	struct mcr_config *c = mcr_xcalloc(1, sizeof(*c));
	const char *e, *why;
	int errors = 0;

	defaults(c);
	if (file == NULL && (e = getenv("MCR_CONFIG")) != NULL && *e != '\0')
		file = e;
	if (file == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		file = DEFAULT_CONFIG;
	if (file != NULL) {
		c->file = mcr_xstrdup(file);
		if (parsefile(c, file, &errors) == -1) {
			mcr_config_free(c);
			return NULL;
		}
	}
	if (c->map != NULL) {
		if (c->csv == NULL)
			c->csv = mcr_csvmap_new();
		if (parsefile(c, c->map, &errors) == -1)
			errors++;
	}
	if (c->csv != NULL && mcr_csvmap_check(c->csv, &why) == -1) {
		mcr_warn("%s: [csv]: %s", c->map ? c->map : c->file, why);
		errors++;
	}
	if ((e = getenv("MCR_DB")) != NULL && *e != '\0')
		str_set(&c->store_path, e);
	if (errors > 0) {
		mcr_config_free(c);
		return NULL;
	}
	return c;
}

void
mcr_config_free(struct mcr_config *c)
{
	if (c == NULL)
		return;
	free(c->file);
	free(c->name);
	free(c->timezone);
	free(c->currency);
	free(c->hours.holiday);
	list_free(&c->own);
	list_free(&c->staff);
	free(c->blocklist);
	free(c->store_path);
	free(c->format);
	free(c->source_tz);
	list_free(&c->inbound_contexts);
	list_free(&c->trunks);
	list_free(&c->ddis);
	free(c->map);
	mcr_csvmap_free(c->csv);
	free(c->whatsapp_provider);
	free(c->whatsapp_api_base);
	free(c->phone_number_id);
	free(c->whatsapp_token_file);
	free(c->language);
	free(c->whatsapp_from);
	free(c->twilio_account);
	free(c->twilio_token_file);
	free(c->twilio_api_base);
	free(c->twilio_service);
	free(c->twilio_status_callback);
	free(c->sms_provider);
	free(c->sms_from);
	free(c->outbox_path);
	free(c->listen);
	free(c->public_url);
	free(c->app_secret_file);
	free(c->verify_token_file);
	free(c->booking_hook);
	free(c->esc_email);
	free(c->esc_smtp);
	free(c->esc_from);
	free(c->esc_user);
	free(c->esc_hook);
	for (int k = 0; k < MCR_K_N; k++) {
		free(c->tpl[k].name);
		free(c->tpl[k].language);
		free(c->tpl[k].content_sid);
		list_free(&c->tpl[k].params);
		free(c->tpl[k].text);
	}
	free(c);
}

char *
mcr_config_secret(const char *env, const char *file, const char *what)
{
	const char *e = getenv(env);
	struct stat sb;
	char line[1024];
	FILE *fp;
	size_t n;

	if (e != NULL && *e != '\0')
		return mcr_xstrdup(e);
	if (file == NULL) {
		mcr_warn("%s: set %s or a token_file", what, env);
		return NULL;
	}
	if ((fp = fopen(file, "r")) == NULL) {
		mcr_warn("%s: %s: %s", what, file, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &sb) == -1 || sb.st_uid != geteuid() ||
	    (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		mcr_warn("%s: %s must belong to this user and be readable by "
		    "no one else (chmod 600)", what, file);
		fclose(fp);
		return NULL;
	}
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	e = line + strspn(line, " \t");
	if (*e == '\0') {
		mcr_warn("%s: %s is empty", what, file);
		return NULL;
	}
	return mcr_xstrdup(e);
}
