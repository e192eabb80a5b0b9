/*
 * flood: a stranger's load on the webhook listener, for the tests.
 *
 *   flood -p PORT [-u UNSIGNED] [-b BIG] [-c CHUNKED] [-s SLOW] [-r READY]
 *
 * Over raw sockets to 127.0.0.1:PORT, at once:
 *   - UNSIGNED POSTs of a well-formed Meta payload without a signature,
 *     and as many with a wrong one, on kept-alive connections;
 *   - BIG POSTs that declare a body of 64 MB and start sending it;
 *   - CHUNKED POSTs with a chunked body that never ends (up to 8 MB each);
 *   - SLOW connections that send a request's headers a byte a second and
 *     hold on until flood is stopped (SIGTERM or SIGINT); it then waits for
 *     the others to be done, so that the counts do not depend on timing.
 * READY is made once the slow connections are open.
 * Then prints what came back, one "what count" a line: the status codes
 * of the unsigned and big requests, the chunked streams cut off by the
 * server, the slow connections it had closed.  Exits 0, or 1 when a
 * stranger's request was answered 200.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static int port;
static volatile sig_atomic_t stop;
static long codes[600], cut, uncut, slowshut, slowopen, refused;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static const char payload[] = "{\"object\":\"whatsapp_business_account\","
    "\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\","
    "\"value\":{\"contacts\":[{\"wa_id\":\"447400999001\"}],\"messages\":"
    "[{\"from\":\"447400999001\",\"id\":\"wamid.evil\",\"timestamp\":\"1\","
    "\"type\":\"text\",\"text\":{\"body\":\"yes\"}}]}}]}]}";

static void
onsig(int s)
{
	(void)s;
	stop = 1;
}

static int
dial(void)
{
	struct sockaddr_in a;
	struct timeval tv = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1) {
		close(fd);
		pthread_mutex_lock(&mu);
		refused++;
		pthread_mutex_unlock(&mu);
		return -1;
	}
	return fd;
}

static int
putall(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The status of one response on fd, its body skipped; 0 when none. */
static int
status(int fd)
{
	char buf[4096];
	size_t n = 0;
	long len = 0;
	char *e, *cl;
	int code = 0;

	for (;;) {
		ssize_t r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);

		if (r <= 0)
			return 0;
		n += (size_t)r;
		buf[n] = '\0';
		if ((e = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		if (n == sizeof(buf) - 1)
			return 0;
	}
	sscanf(buf, "HTTP/1.%*d %d", &code);
	if ((cl = strcasestr(buf, "Content-Length:")) != NULL)
		len = atol(cl + 15);
	len -= (long)(n - (size_t)(e + 4 - buf));
	while (len > 0) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r <= 0)
			break;
		len -= r;
	}
	return code;
}

static void
count(int code)
{
	pthread_mutex_lock(&mu);
	codes[code >= 0 && code < 600 ? code : 0]++;
	pthread_mutex_unlock(&mu);
}

/* Unsigned and wrongly signed requests, n of each, kept alive. */
static void *
unsigned_(void *arg)
{
	long n = (long)arg;
	char req[2048];
	int fd = -1;

	for (long i = 0; i < 2 * n; i++) {
		int len = snprintf(req, sizeof(req), "POST /meta HTTP/1.1\r\n"
		    "Host: x\r\nContent-Type: application/json\r\n%s"
		    "Content-Length: %zu\r\n\r\n%s", i % 2 ? "X-Hub-Signature-"
		    "256: sha256=00112233445566778899aabbccddeeff00112233445566"
		    "778899aabbccddeeff\r\n" : "", strlen(payload), payload);
		int code;

		if (fd < 0 && (fd = dial()) < 0)
			continue;
		if (putall(fd, req, (size_t)len) == -1 ||
		    (code = status(fd)) == 0) {
			close(fd);
			fd = -1;
			count(0);
			continue;
		}
		count(code);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* A body declared too large, sent until the server stops it. */
static void *
big(void *arg)
{
	long n = (long)arg;
	static char junk[65536];

	memset(junk, 'x', sizeof(junk));
	for (long i = 0; i < n; i++) {
		const char *h = "POST /meta HTTP/1.1\r\nHost: x\r\n"
		    "X-Hub-Signature-256: sha256=00\r\n"
		    "Content-Length: 67108864\r\n\r\n";
		int fd = dial(), code;

		if (fd < 0)
			continue;
		if (putall(fd, h, strlen(h)) == 0)
			(void)putall(fd, junk, sizeof(junk));
		code = status(fd);
		count(code);
		close(fd);
	}
	return NULL;
}

/* A chunked body that never ends: the server must cut it off. */
static void *
chunked(void *arg)
{
	long n = (long)arg;
	static char chunk[8200];

	memcpy(chunk, "2000\r\n", 6);
	memset(chunk + 6, 'y', 8192);
	memcpy(chunk + 6 + 8192, "\r\n", 2);
	for (long i = 0; i < n; i++) {
		const char *h = "POST /meta HTTP/1.1\r\nHost: x\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n";
		int fd = dial(), k;

		if (fd < 0)
			continue;
		putall(fd, h, strlen(h));
		for (k = 0; k < 1024; k++)
			if (putall(fd, chunk, 6 + 8192 + 2) == -1)
				break;
		pthread_mutex_lock(&mu);
		if (k < 1024)
			cut++;
		else
			uncut++;
		pthread_mutex_unlock(&mu);
		close(fd);
	}
	return NULL;
}

int
main(int argc, char *argv[])
{
	long nu = 0, nb = 0, nc = 0, ns = 0;
	const char *ready = NULL;
	FILE *fp;
	pthread_t t[3];
	int ch, *slow;
	struct sigaction sa;

	while ((ch = getopt(argc, argv, "b:c:p:r:s:u:")) != -1) {
		switch (ch) {
		case 'b':
			nb = atol(optarg);
			break;
		case 'c':
			nc = atol(optarg);
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'r':
			ready = optarg;
			break;
		case 's':
			ns = atol(optarg);
			break;
		case 'u':
			nu = atol(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (port <= 0) {
usage:
		fprintf(stderr, "usage: flood -p port [-u unsigned] [-b big] "
		    "[-c chunked] [-s slow] [-r ready]\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsig;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* the slow ones first: they hold on while the rest goes */
	slow = calloc((size_t)ns + 1, sizeof(*slow));
	for (long i = 0; i < ns; i++)
		if ((slow[i] = dial()) >= 0) {
			putall(slow[i], "POST /meta HTTP/1.1\r\nHost: x\r\n", 31);
			slowopen++;
		}
	if (ready != NULL && (fp = fopen(ready, "w")) != NULL)
		fclose(fp);
	pthread_create(&t[0], NULL, unsigned_, (void *)nu);
	pthread_create(&t[1], NULL, big, (void *)nb);
	pthread_create(&t[2], NULL, chunked, (void *)nc);
	for (int k = 0; !stop; k++) {
		sleep(1);
		/* a byte of a header a second on each */
		for (long i = 0; i < ns; i++)
			if (slow[i] >= 0 && send(slow[i], &"X-Slow: 1\r\n"[k %
			    11], 1, MSG_NOSIGNAL) != 1) {
				close(slow[i]);
				slow[i] = -1;
				slowshut++;
			}
	}
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	for (long i = 0; i < ns; i++)
		if (slow[i] >= 0)
			close(slow[i]);
	free(slow);
	for (int c = 0; c < 600; c++)
		if (codes[c])
			printf("status-%03d %ld\n", c, codes[c]);
	printf("chunked-cut %ld\nchunked-uncut %ld\nslow-open %ld\n"
	    "slow-closed %ld\nrefused %ld\n", cut, uncut, slowopen, slowshut,
	    refused);
	return codes[200] ? 1 : 0;
}
