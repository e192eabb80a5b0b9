/*
 * replay: a fuzz target run over saved inputs, without libFuzzer, for
 * make check (tests/fuzz-TARGET, built with the project's compiler and
 * its sanitizers).
 *
 *   fuzz-TARGET FILE...
 *
 * A FILE ending in .b64 holds many inputs, one a line in base64; any
 * other is one input.  Prints the number of inputs run.  A crash is the
 * failure: the target aborts, or the sanitizer does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

static unsigned char *
slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *b = NULL;
	size_t cap = 0;

	*n = 0;
	if (fp == NULL) {
		perror(path);
		exit(2);
	}
	for (;;) {
		if (cap - *n < 65536) {
			cap = cap ? cap * 2 : 65536;
			if ((b = realloc(b, cap)) == NULL)
				abort();
		}
		size_t k = fread(b + *n, 1, cap - *n - 1, fp);

		if (k == 0)
			break;
		*n += k;
	}
	fclose(fp);
	b[*n] = '\0';
	return b;
}

int
main(int argc, char *argv[])
{
	long runs = 0;

	for (int i = 1; i < argc; i++) {
		size_t n, len = strlen(argv[i]);
		unsigned char *b = slurp(argv[i], &n);

		if (len > 4 && strcmp(argv[i] + len - 4, ".b64") == 0) {
			char *line = (char *)b, *nl;

			for (; *line != '\0'; line = nl + 1) {
				size_t ll;
				unsigned char *out;
				int k;

				if ((nl = strchr(line, '\n')) == NULL)
					nl = line + strlen(line) - 1;
				ll = (size_t)(nl - line) + (*nl != '\n');
				if (ll == 0)
					continue;
				if ((out = malloc(ll)) == NULL)
					abort();
				if ((k = EVP_DecodeBlock(out, (unsigned char *)
				    line, (int)ll)) < 0) {
					fprintf(stderr, "%s: a line is not "
					    "base64\n", argv[i]);
					exit(2);
				}
				/* EVP_DecodeBlock counts the padding */
				while (ll > 0 && line[ll - 1] == '=') {
					ll--;
					k--;
				}
				LLVMFuzzerTestOneInput(out, (size_t)k);
				free(out);
				runs++;
			}
		} else {
			LLVMFuzzerTestOneInput(b, n);
			runs++;
		}
		free(b);
	}
	printf("%ld\n", runs);
	return 0;
}
