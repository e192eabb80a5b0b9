/*
 * The webhook listener: Meta's verification handshake, and POSTs from
 * Meta and Twilio verified, stored in the inbox and answered 200 at once.
 * The conversation runs from the inbox on the caller's thread, so a slow
 * provider never keeps a webhook waiting and nothing acknowledged is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "mcr.h"
#include "storeint.h"
#include "webhook.h"

struct mcr_listener {
	struct MHD_Daemon *d;
	const struct mcr_config *cfg;
	struct mcr_store *st;		/* the listener thread's connection */
	char	*app_secret, *verify, *twilio;
	int	 wake[2];		/* a byte: the inbox has more */
	pthread_mutex_t lock;
	struct mcr_listen_stats stats;
};

struct req {
	char	*uri;			/* as requested, with its query */
	struct mcr_buf body;
	int	 started;		/* the headers were seen */
};

static void *
onuri(void *arg, const char *uri, struct MHD_Connection *conn)
{
	struct req *r = mcr_xcalloc(1, sizeof(*r));

	(void)arg;
	(void)conn;
	r->uri = mcr_xstrdup(uri);
	return r;
}

static void
ondone(void *arg, struct MHD_Connection *conn, void **ctx,
    enum MHD_RequestTerminationCode code)
{
	struct req *r = *ctx;

	(void)arg;
	(void)conn;
	(void)code;
	if (r == NULL)
		return;
	free(r->uri);
	mcr_buf_free(&r->body);
	free(r);
	*ctx = NULL;
}

/*
 * The HTTP library's complaints (a client that went away, a body cut
 * off): at most one a second, so that a stranger's flood does not flood
 * the log too.  Its one thread calls this.
 */
static void
httplog(void *arg, const char *fmt, va_list ap)
{
	static time_t last;
	static long more;
	time_t t = time(NULL);
	char msg[256];

	(void)arg;
	if (t == last) {
		more++;
		return;
	}
	last = t;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	if (more > 0)
		mcr_warn("http: %s (%ld more not shown)", msg,
		    more);
	else
		mcr_warn("http: %s", msg);
	more = 0;
}

static enum MHD_Result
respond(struct MHD_Connection *conn, unsigned int code, const char *type,
    const char *text)
{
	struct MHD_Response *res = MHD_create_response_from_buffer(
	    strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(res, "Content-Type", type);
	ret = MHD_queue_response(conn, code, res);
	MHD_destroy_response(res);
	return ret;
}

static void
count(struct mcr_listener *l, long *v)
{
	pthread_mutex_lock(&l->lock);
	(*v)++;
	pthread_mutex_unlock(&l->lock);
}

/* Store a verified payload; 0, or -1 when the store would not take it. */
static int
store(struct mcr_listener *l, const char *kind, const char *body)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(l->st->db, "INSERT INTO inbox (at, kind, "
	    "payload) VALUES (?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return store_failed(l->st, "store webhook");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mcr_now());
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, body, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return store_failed(l->st, "store webhook");
	(void)!write(l->wake[1], "", 1);
	return 0;
}

static enum MHD_Result
verify_get(struct mcr_listener *l, struct MHD_Connection *conn)
{
	const char *mode = MHD_lookup_connection_value(conn,
	    MHD_GET_ARGUMENT_KIND, "hub.mode");
	const char *tok = MHD_lookup_connection_value(conn,
	    MHD_GET_ARGUMENT_KIND, "hub.verify_token");
	const char *ch = MHD_lookup_connection_value(conn,
	    MHD_GET_ARGUMENT_KIND, "hub.challenge");

	unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
	unsigned int na = 0, nb = 0;

	/*
	 * Compared as digests, in constant time: neither the token nor its
	 * length shows in how long the answer takes.
	 */
	if (l->verify != NULL && mode != NULL && tok != NULL && ch != NULL &&
	    strcmp(mode, "subscribe") == 0 &&
	    EVP_Digest(tok, strlen(tok), a, &na, EVP_sha256(), NULL) == 1 &&
	    EVP_Digest(l->verify, strlen(l->verify), b, &nb, EVP_sha256(),
	    NULL) == 1 && na == nb && CRYPTO_memcmp(a, b, na) == 0)
		return respond(conn, 200, "text/plain", ch);
	count(l, &l->stats.forbidden);
	return respond(conn, 403, "text/plain", "forbidden\n");
}

static enum MHD_Result
handle(void *arg, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data, size_t *size,
    void **ctx)
{
	struct mcr_listener *l = arg;
	struct req *r = *ctx;
	struct mcr_events ev;
	const char *sig, *kind;
	char why[160];
	int ok;

	(void)version;
	if (strcmp(method, "GET") == 0) {
		if (strcmp(url, "/health") == 0)
			return respond(conn, 200, "text/plain", "ok\n");
		if (strcmp(url, "/meta") == 0)
			return verify_get(l, conn);
		return respond(conn, 404, "text/plain", "not found\n");
	}
	if (strcmp(method, "POST") != 0)
		return respond(conn, 405, "text/plain", "method not allowed\n");
	if (!r->started) {
		/* the first call has the headers only */
		const char *cl = MHD_lookup_connection_value(conn,
		    MHD_HEADER_KIND, "Content-Length");

		r->started = 1;
		if (cl != NULL && strtoll(cl, NULL, 10) > l->cfg->max_body) {
			count(l, &l->stats.requests);
			count(l, &l->stats.big);
			return respond(conn, 413, "text/plain", "too large\n");
		}
		return MHD_YES;
	}
	if (*size > 0) {
		if (r->body.len + *size > (size_t)l->cfg->max_body) {
			/* a body without a length that will not end: cut off */
			count(l, &l->stats.requests);
			count(l, &l->stats.big);
			return MHD_NO;
		}
		mcr_buf_add(&r->body, data, *size);
		*size = 0;
		return MHD_YES;
	}
	count(l, &l->stats.requests);
	if (strcmp(url, "/meta") == 0)
		kind = "meta";
	else if (strcmp(url, "/twilio") == 0)
		kind = "twilio";
	else
		return respond(conn, 404, "text/plain", "not found\n");
	mcr_buf_add(&r->body, "", 0);
	if (r->body.s == NULL)
		mcr_buf_puts(&r->body, "");
	/* verified before anything else is done with it */
	if (strcmp(kind, "meta") == 0) {
		sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    "X-Hub-Signature-256");
		ok = mcr_sig_meta(l->app_secret, r->body.s, r->body.len, sig);
	} else {
		struct mcr_buf u = { 0 };

		sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    "X-Twilio-Signature");
		mcr_buf_printf(&u, "%s%s", l->cfg->public_url ?
		    l->cfg->public_url : "", r->uri);
		ok = l->cfg->public_url != NULL && mcr_sig_twilio(l->twilio,
		    u.s, r->body.s, r->body.len, sig);
		mcr_buf_free(&u);
	}
	if (!ok) {
		count(l, &l->stats.forbidden);
		return respond(conn, 403, "text/plain", "forbidden\n");
	}
	if ((strcmp(kind, "meta") == 0 ? mcr_events_meta(r->body.s,
	    r->body.len, &ev, why, sizeof(why)) : mcr_events_twilio(r->body.s,
	    r->body.len, &ev, why, sizeof(why))) == -1) {
		count(l, &l->stats.bad);
		return respond(conn, 400, "text/plain", "bad payload\n");
	}
	mcr_events_free(&ev);
	if (strcmp(kind, "twilio") == 0) {
		/* our message id rides on the status callback's query */
		const char *id = MHD_lookup_connection_value(conn,
		    MHD_GET_ARGUMENT_KIND, "mcr_id");
		long long v;
		const char *e;

		if (id != NULL && mcr_util_num(id, 1, INT64_MAX, &v, &e) == 0)
			mcr_buf_printf(&r->body, "&mcr_id=%lld", v);
	}
	if (store(l, kind, r->body.s) == -1) {
		count(l, &l->stats.failed);
		/* not taken: the provider sends it again */
		return respond(conn, 503, "text/plain", "try again\n");
	}
	count(l, &l->stats.stored);
	if (strcmp(kind, "twilio") == 0)
		return respond(conn, 200, "text/xml",
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
	return respond(conn, 200, "text/plain", "ok\n");
}

static char *
secret(const char *env, const char *file, const char *what)
{
	const char *e = getenv(env);

	if ((e == NULL || *e == '\0') && file == NULL)
		return NULL;	/* that provider is not used */
	return mcr_config_secret(env, file, what);
}

struct mcr_listener *
mcr_listen_start(const struct mcr_config *cfg, const char *addr,
    const char *dbpath)
{
	struct mcr_listener *l = mcr_xcalloc(1, sizeof(*l));
	struct sockaddr_in sin;
	char host[64];
	const char *colon = strrchr(addr, ':');
	long long port;
	const char *e;

	l->cfg = cfg;
	l->wake[0] = l->wake[1] = -1;
	pthread_mutex_init(&l->lock, NULL);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host) ||
	    mcr_util_num(colon + 1, 0, 65535, &port, &e) == -1) {
		mcr_warn("%s: expected address:port, such as 127.0.0.1:8088",
		    addr);
		goto fail;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		mcr_warn("%s: not an IPv4 address", host);
		goto fail;
	}
	sin.sin_port = htons((uint16_t)port);
	l->app_secret = secret("MCR_META_APP_SECRET", cfg->app_secret_file,
	    "[reply] Meta app secret");
	l->verify = secret("MCR_META_VERIFY_TOKEN", cfg->verify_token_file,
	    "[reply] Meta verify token");
	l->twilio = secret("MCR_TWILIO_TOKEN", cfg->twilio_token_file,
	    "[twilio] auth token");
	if (l->app_secret == NULL && l->twilio == NULL) {
		mcr_warn("no webhook can be verified: set MCR_META_APP_SECRET "
		    "(or [reply] app_secret_file) and/or MCR_TWILIO_TOKEN (or "
		    "[twilio] token_file)");
		goto fail;
	}
	if (l->twilio != NULL && cfg->public_url == NULL)
		mcr_warn("[reply] public_url is not set: Twilio's webhooks "
		    "cannot be verified and will be refused");
	if ((l->st = mcr_store_open(dbpath, cfg->busy_timeout_ms, 0)) == NULL)
		goto fail;
	if (pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) == -1) {
		mcr_warn("pipe: %s", strerror(errno));
		goto fail;
	}
	l->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, l,
	    MHD_OPTION_EXTERNAL_LOGGER, httplog, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_URI_LOG_CALLBACK, onuri, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, ondone, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)512,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)256,
	    MHD_OPTION_END);
	if (l->d == NULL) {
		mcr_warn("%s: cannot listen: %s", addr, strerror(errno));
		goto fail;
	}
	return l;
fail:
	mcr_listen_stop(l);
	return NULL;
}

int
mcr_listen_fd(struct mcr_listener *l)
{
	return l->wake[0];
}

int
mcr_listen_port(struct mcr_listener *l)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(l->d,
	    MHD_DAEMON_INFO_BIND_PORT);

	return i ? i->port : -1;
}

void
mcr_listen_drain(struct mcr_listener *l)
{
	char buf[256];

	while (read(l->wake[0], buf, sizeof(buf)) > 0)
		;
}

void
mcr_listen_stats(struct mcr_listener *l, struct mcr_listen_stats *s)
{
	pthread_mutex_lock(&l->lock);
	*s = l->stats;
	pthread_mutex_unlock(&l->lock);
}

void
mcr_listen_stop(struct mcr_listener *l)
{
	if (l == NULL)
		return;
	if (l->d != NULL)
		MHD_stop_daemon(l->d);
	mcr_store_close(l->st);
	for (int i = 0; i < 2; i++)
		if (l->wake[i] != -1)
			close(l->wake[i]);
	free(l->app_secret);
	free(l->verify);
	free(l->twilio);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
