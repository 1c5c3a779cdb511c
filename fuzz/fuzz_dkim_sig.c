/* libFuzzer harness for the message header reader: DKIM-Signature fields, their checks, and the From: domain. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checks/dkim/sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_msg msg;
	bool expired;
	size_t i;
	char *s;

	dkim_msg_parse((const char *)data, size, &msg);
	for (i = 0; i < msg.nsig; i++) {
		if (msg.sig[i].index != i)
			abort();
		(void)dkim_sig_check(&msg.sig[i], 1700000000, &expired);
	}
	dkim_msg_release(&msg);
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	free(dkim_from_domain(s));
	free(s);
	return 0;
}
