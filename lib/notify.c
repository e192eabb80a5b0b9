/*
 * Telling people and systems: a hook command with a record on its standard
 * input (never through a shell), and e-mail to staff through libcurl.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mcr.h"

extern char **environ;

#define HOOK_WAIT_MS	10000

/* The environment without mcr's secrets: a hook needs none of them. */
static char **
cleanenv(void)
{
	static char *v[512];
	int n = 0;

	for (char **e = environ; *e != NULL && n < 511; e++)
		if (strncmp(*e, "MCR_", 4) != 0 || (strstr(*e, "TOKEN") ==
		    NULL && strstr(*e, "SECRET") == NULL &&
		    strstr(*e, "PASSWORD") == NULL))
			v[n++] = *e;
	v[n] = NULL;
	return v;
}

int
mcr_hook_run(const char *cmd, const char *input, char *why, size_t whysz)
{
	char *copy = mcr_xstrdup(cmd), *p = copy, *tok, *argv[32];
	int argc = 0, fd[2], st = 0, rc = -1;
	posix_spawn_file_actions_t fa;
	size_t len = strlen(input), off = 0;
	int64_t t0;
	pid_t pid;

	/* words split on blanks: nothing a patient wrote reaches a shell */
	while ((tok = strsep(&p, " \t")) != NULL && argc < 31)
		if (*tok != '\0')
			argv[argc++] = tok;
	argv[argc] = NULL;
	if (argc == 0) {
		snprintf(why, whysz, "empty command");
		free(copy);
		return -1;
	}
	if (pipe2(fd, O_CLOEXEC) == -1) {
		snprintf(why, whysz, "pipe: %s", strerror(errno));
		free(copy);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[0], STDIN_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
	    O_WRONLY, 0);
	errno = posix_spawnp(&pid, argv[0], &fa, NULL, argv, cleanenv());
	posix_spawn_file_actions_destroy(&fa);
	close(fd[0]);
	if (errno != 0) {
		snprintf(why, whysz, "%s: %s", argv[0], strerror(errno));
		close(fd[1]);
		free(copy);
		return -1;
	}
	t0 = mcr_clock_ms();
	/* the input, then wait: a hook that hangs is killed */
	while (off < len) {
		struct pollfd pf = { fd[1], POLLOUT, 0 };
		ssize_t n;

		if (poll(&pf, 1, 100) <= 0) {
			if (mcr_clock_ms() - t0 > HOOK_WAIT_MS)
				break;
			continue;
		}
		if ((n = write(fd[1], input + off, len - off)) <= 0)
			break;	/* it did not read it all: its business */
		off += (size_t)n;
	}
	close(fd[1]);
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		if (w == -1 && errno != EINTR) {
			snprintf(why, whysz, "%s: %s", argv[0],
			    strerror(errno));
			free(copy);
			return -1;
		}
		if (mcr_clock_ms() - t0 > HOOK_WAIT_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			snprintf(why, whysz, "%s: killed after %d s", argv[0],
			    HOOK_WAIT_MS / 1000);
			free(copy);
			return -1;
		}
		{
			struct timespec ts = { 0, 10 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		snprintf(why, whysz, "ok");
		rc = 0;
	} else if (WIFEXITED(st))
		snprintf(why, whysz, "%s: exit %d", argv[0], WEXITSTATUS(st));
	else
		snprintf(why, whysz, "%s: signal %d", argv[0],
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	free(copy);
	return rc;
}

struct upload {
	const char *s;
	size_t	 len, off;
};

static size_t
reader(char *buf, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t k = size * n;

	if (k > u->len - u->off)
		k = u->len - u->off;
	memcpy(buf, u->s + u->off, k);
	u->off += k;
	return k;
}

int
mcr_mail_send(const struct mcr_config *cfg, const char *subject,
    const char *body, char *why, size_t whysz)
{
	struct curl_slist *rcpt = NULL;
	struct mcr_buf m = { 0 };
	struct upload u;
	char date[64], addr[256];
	const char *from = cfg->esc_from ? cfg->esc_from : "mcr@localhost";
	const char *pw = getenv("MCR_SMTP_PASSWORD");
	struct tm tm;
	time_t t = mcr_now();
	CURLcode cc;
	CURL *c;

	if ((c = curl_easy_init()) == NULL) {
		snprintf(why, whysz, "cannot start libcurl");
		return -1;
	}
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	mcr_buf_printf(&m, "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n", date, from,
	    cfg->esc_email, subject);
	/* the body with CRLF line ends; lines may not start with a dot */
	for (const char *p = body; *p != '\0';) {
		size_t n = strcspn(p, "\n");

		if (*p == '.')
			mcr_buf_add(&m, ".", 1);
		mcr_buf_add(&m, p, n);
		if (n > 0 && p[n - 1] == '\r')
			m.len--;
		mcr_buf_add(&m, "\r\n", 2);
		p += n;
		if (*p == '\n')
			p++;
	}
	u.s = m.s;
	u.len = m.len;
	u.off = 0;
	snprintf(addr, sizeof(addr), "<%s>", from);
	rcpt = curl_slist_append(rcpt, cfg->esc_email);
	curl_easy_setopt(c, CURLOPT_URL, cfg->esc_smtp);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, addr);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, reader);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)cfg->connect_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg->timeout);
	/* transcripts may be clinical: TLS, unless the server is local */
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)(strncmp(cfg->esc_smtp,
	    "smtp://127.", 11) == 0 || strncmp(cfg->esc_smtp,
	    "smtp://localhost", 16) == 0 || strncmp(cfg->esc_smtp,
	    "smtp://[::1]", 12) == 0 ? CURLUSESSL_TRY : CURLUSESSL_ALL));
	if (cfg->esc_user != NULL) {
		curl_easy_setopt(c, CURLOPT_USERNAME, cfg->esc_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, pw ? pw : "");
	}
	cc = curl_easy_perform(c);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	mcr_buf_free(&m);
	if (cc != CURLE_OK) {
		snprintf(why, whysz, "%s: %s", cfg->esc_smtp,
		    curl_easy_strerror(cc));
		return -1;
	}
	return 0;
}
