/* fuzz-config: the configuration reader over any file. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mcr.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static char path[64];
	struct mcr_config *c;
	FILE *fp;

	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "/tmp/fuzz-config.%d", (int)getpid());
		unsetenv("MCR_DB");
	}
	if ((fp = fopen(path, "w")) == NULL)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	c = mcr_config_load(path);
	mcr_config_free(c);
	return 0;
}
