/* libFuzzer harness for the dmarc check's parsers of hostile text: the DMARC record and the From header of a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checks/dmarc/record.h"
#include "checks/dmarc/from.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
record(const char *text, size_t len)
{
	struct dmarc_record rec;
	enum dmarc_policy p, sp;
	size_t i;

	(void)dmarc_record_version_misplaced(text, len);
	if (dmarc_record_parse(&rec, text, len) < 0) {
		if (dmarc_record_is_dmarc(text, len))
			abort();	/* a DMARC record must parse */
		return;
	}
	(void)dmarc_record_effective(&rec, &p, &sp);
	for (i = 0; i < rec.nerrors; i++)
		if (rec.errors[i].tag == NULL || rec.errors[i].message == NULL)
			abort();
	for (i = 0; i < rec.nrua; i++)
		if (rec.rua[i].uri == NULL || strlen(rec.rua[i].uri) > len)
			abort();
	if (rec.pct < 0 || rec.pct > 100)
		abort();
	dmarc_record_release(&rec);
}

static void
from(const char *text, size_t len)
{
	char *value, *addr, *domain, why[256];
	enum dmarc_from_error code;
	int rc;

	rc = dmarc_from_parse(text, len, &value, &addr, &domain, &code, why, sizeof(why));
	if ((rc == 0) != (code == DMARC_FROM_OK) || (rc == 0 && (addr == NULL || domain == NULL)))
		abort();
	free(value);
	free(addr);
	free(domain);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* the first byte picks the parser; the rest is the input, NUL bytes included */
	if (data[0] & 1)
		record((const char *)data + 1, size - 1);
	else
		from((const char *)data + 1, size - 1);
	return 0;
}
