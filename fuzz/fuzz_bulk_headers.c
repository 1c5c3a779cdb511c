/* libFuzzer harness for the bulk check's header reader: any bytes give bounded fields, and the unsubscribe parsers never fail unsoundly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/bulk/headers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bulk_headers h;
	char why[160], *uri;
	size_t i;

	bulk_headers_parse((const char *)data, size, &h);
	if (h.n > BULK_MAX_FIELDS)
		abort();
	for (i = 0; i < h.n; i++) {
		const struct bulk_field *f = &h.f[i];

		/* a value is unfolded and trimmed: no line end, no blank at either end */
		if (strlen(f->value) > BULK_VALUE_MAX || strchr(f->value, '\n') != NULL ||
		    (f->value[0] == ' ' || f->value[0] == '\t'))
			abort();
		if (bulk_headers_count(&h, f->name) == 0 || bulk_headers_get(&h, f->name) == NULL)
			abort();
		why[0] = '\0';
		if (bulk_unsubscribe_https(f->value, &uri, why, sizeof(why)) == 0) {
			if (uri == NULL || strncasecmp(uri, "https:", 6) != 0)
				abort();
			free(uri);
		} else if (uri != NULL || why[0] == '\0') {
			abort();
		}
		(void)bulk_one_click_post(f->value);
	}
	bulk_headers_release(&h);
	return 0;
}
