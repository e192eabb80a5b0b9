/*
 * webhook-load: signed WhatsApp webhooks at a rate, for the benchmark and
 * the tests.
 *
 *   webhook-load -u URL -s SECRET -r RATE -d SECONDS -o SENT [-t TEXT]
 *   webhook-load -P PORTFILE -s SECRET -f PAYLOADS -o SENT [-R]
 *
 * Posts one Meta message payload per tick, each from a number of its own
 * (+447911NNNNNN), signed with SECRET, paced at RATE a second for SECONDS,
 * over one kept-alive connection.  SENT gets "number ms status" per
 * request, ms the real clock when the request started.  Exits 1 when a
 * request was not answered 200.
 *
 * -f posts the payloads of a file instead, one a line, as fast as they are
 * answered, or at -r RATE a second (SENT gets "line ms status").  -P
 * reads the listener's port from a file before each request, at /meta of
 * 127.0.0.1, so that the listener may be restarted.  -R retries a payload
 * until it is answered 200, as the provider does (every 10 ms, up to 6000
 * times).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t
sink(char *p, size_t s, size_t n, void *a)
{
	(void)p;
	(void)a;
	return s * n;
}

int
main(int argc, char *argv[])
{
	const char *url = NULL, *secret = NULL, *out = NULL, *text = "hello";
	const char *pfile = NULL, *payloads = NULL;
	double rate = 200;
	int secs = 30, ch, bad = 0, retry = 0, paced = 0;
	long long t0, n;
	FILE *fp, *in = NULL;
	CURL *c;

	while ((ch = getopt(argc, argv, "d:f:o:P:r:Rs:t:u:")) != -1) {
		switch (ch) {
		case 'f':
			payloads = optarg;
			break;
		case 'P':
			pfile = optarg;
			break;
		case 'R':
			retry = 1;
			break;
		case 'd':
			secs = atoi(optarg);
			break;
		case 'o':
			out = optarg;
			break;
		case 'r':
			rate = atof(optarg);
			paced = 1;
			break;
		case 's':
			secret = optarg;
			break;
		case 't':
			text = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		default:
			goto usage;
		}
	}
	if ((url == NULL) == (pfile == NULL) || secret == NULL ||
	    out == NULL || rate <= 0) {
usage:
		fprintf(stderr, "usage: webhook-load -u url | -P portfile "
		    "-s secret [-r rate -d seconds | -f payloads] -o sent "
		    "[-R] [-t text]\n");
		return 2;
	}
	if (payloads != NULL && (in = fopen(payloads, "r")) == NULL) {
		perror(payloads);
		return 1;
	}
	if ((fp = fopen(out, "w")) == NULL) {
		perror(out);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = curl_easy_init();
	if (url != NULL)
		curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	n = in != NULL ? -1 : (long long)(rate * secs);
	t0 = now_ms();
	for (long long i = 0; n < 0 || i < n; i++) {
		char body[8192], num[32], hdr[128], hex[65];
		unsigned char mac[32];
		unsigned int ml = 0;
		struct curl_slist *h = NULL;
		long long at = now_ms();
		long code = 0;
		int len, tries = 0;

		if (in != NULL && paced) {
			long long due = t0 + (long long)(i * 1000 / rate);

			while ((at = now_ms()) < due)
				usleep((useconds_t)((due - at) * 1000));
		}
		if (in != NULL) {
			if (fgets(body, sizeof(body), in) == NULL)
				break;
			len = (int)strcspn(body, "\n");
			body[len] = '\0';
			snprintf(num, sizeof(num), "%lld", i + 1);
		} else {
			long long due = t0 + (long long)(i * 1000 / rate);

			while ((at = now_ms()) < due)
				usleep((useconds_t)((due - at) * 1000));
			snprintf(num, sizeof(num), "447911%06lld",
			    (100000 + i) % 1000000);
			len = snprintf(body, sizeof(body), "{\"object\":"
			    "\"whatsapp_business_account\",\"entry\":[{\"id\":"
			    "\"1\",\"changes\":[{\"field\":\"messages\","
			    "\"value\":{\"messaging_product\":\"whatsapp\","
			    "\"metadata\":{\"phone_number_id\":\"1234567890\"},"
			    "\"contacts\":[{\"profile\":{\"name\":\"x\"},"
			    "\"wa_id\":\"%s\"}],\"messages\":[{\"from\":"
			    "\"%s\",\"id\":\"wamid.load%lld\",\"timestamp\":"
			    "\"%lld\",\"type\":\"text\",\"text\":{\"body\":"
			    "\"%s\"}}]}}]}]}", num, num, i, at / 1000, text);
			memmove(num + 1, num, strlen(num) + 1);
			num[0] = '+';
		}
		HMAC(EVP_sha256(), secret, (int)strlen(secret),
		    (unsigned char *)body, (size_t)len, mac, &ml);
		for (unsigned int k = 0; k < ml; k++)
			snprintf(hex + 2 * k, 3, "%02x", mac[k]);
		snprintf(hdr, sizeof(hdr), "X-Hub-Signature-256: sha256=%s",
		    hex);
		h = curl_slist_append(h, hdr);
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
		for (;;) {
			code = 0;
			if (pfile != NULL) {
				char u[64];
				FILE *pf = fopen(pfile, "r");
				int port = 0;

				if (pf != NULL) {
					if (fscanf(pf, "%d", &port) != 1)
						port = 0;
					fclose(pf);
				}
				snprintf(u, sizeof(u),
				    "http://127.0.0.1:%d/meta", port);
				curl_easy_setopt(c, CURLOPT_URL, u);
				if (port <= 0)
					goto again;
			}
			at = now_ms();
			if (curl_easy_perform(c) == CURLE_OK)
				curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE,
				    &code);
			if (code == 200 || !retry)
				break;
again:
			if (++tries >= 6000)
				break;
			usleep(10000);
		}
		curl_slist_free_all(h);
		fprintf(fp, "%s %lld %ld\n", num, at, code);
		fflush(fp);
		bad += code != 200;
	}
	curl_easy_cleanup(c);
	curl_global_cleanup();
	fclose(fp);
	if (in != NULL)
		fclose(in);
	return bad ? 1 : 0;
}
