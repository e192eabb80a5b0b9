/* Webhooks in: signatures and payloads (webhook.c), part of libmcr. */
#ifndef MCR_WEBHOOK_H
#define MCR_WEBHOOK_H

/*
 * 1 when header ("sha256=<hex>") is the HMAC-SHA256 of body with secret,
 * else 0.
 */
int	 mcr_sig_meta(const char *secret, const char *body, size_t,
	    const char *header);
/*
 * 1 when header (base64) is Twilio's HMAC-SHA1 of url and the form body's
 * parameters with token (the URL is also tried with and without its port).
 */
int	 mcr_sig_twilio(const char *token, const char *url, const char *body,
	    size_t, const char *header);

/* A form body (application/x-www-form-urlencoded), decoded. */
struct mcr_form {
	int	  n;
	char	**k, **v;
};
int	 mcr_form_parse(const char *, size_t, struct mcr_form *);
const char *mcr_form_get(const struct mcr_form *, const char *);
void	 mcr_form_free(struct mcr_form *);

enum mcr_evtype { MCR_EV_MESSAGE, MCR_EV_STATUS };

/* One message or delivery receipt of a payload. */
struct mcr_event {
	enum mcr_evtype type;
	const char *provider;		/* "meta", "twilio" */
	enum mcr_chan chan;
	char	 id[128];		/* wamid or MessageSid */
	char	 from[32];		/* the patient's number as given, or "" */
	char	 user_id[96];		/* a business-scoped user id, or "" */
	time_t	 at;			/* the provider's time, or -1 */
	/* a message */
	char	*text;			/* its text (a button's title), or NULL */
	char	 button[256];		/* a button or list row id, or "" */
	char	 mtype[16];		/* text, interactive, image, ... */
	int	 other;			/* media or a type without text */
	/* a receipt */
	char	 status[16];		/* sent, delivered, read, failed */
	int64_t	 mcr_id;		/* our message id it carried, or 0 */
	long	 code;
	char	 error[160];
};

struct mcr_events {
	int	 n;
	struct mcr_event *v;
};

/*
 * Read a Meta (JSON) or Twilio (form) payload into events; -1 with why
 * when it is not one.  Every entry, change, message and status is taken.
 */
int	 mcr_events_meta(const char *, size_t, struct mcr_events *, char *why,
	    size_t);
int	 mcr_events_twilio(const char *, size_t, struct mcr_events *,
	    char *why, size_t);
void	 mcr_events_free(struct mcr_events *);

#endif
