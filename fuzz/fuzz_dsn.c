/* libFuzzer harness for the bounce message reader (checks/bounce/dsn.c): any bytes give sound recipients and text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checks/bounce/dsn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsn d;
	size_t i;

	dsn_read((const char *)data, size, &d);
	if (d.nrcpts > DSN_MAX_RCPTS || (d.message && d.text == NULL) || (!d.message && d.text != NULL))
		abort();
	if (d.text != NULL && strlen(d.text) > d.len)
		abort();
	for (i = 0; i < d.nrcpts; i++) {
		const struct dsn_rcpt *r = &d.rcpts[i];

		/* every block holds a field, and no value is longer than the cap */
		if (r->recipient == NULL && r->action == NULL && r->status == NULL &&
		    r->remote_mta == NULL && r->diagnostic == NULL)
			abort();
		if ((r->diagnostic != NULL && strlen(r->diagnostic) > DSN_MAX_FIELD) ||
		    (r->recipient != NULL && strlen(r->recipient) > DSN_MAX_FIELD))
			abort();
	}
	dsn_release(&d);
	return 0;
}
