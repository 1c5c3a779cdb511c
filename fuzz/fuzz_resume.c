/* libFuzzer harness for batch_scan_answer (src/batch.c), which --resume runs on every line of an earlier output: any bytes, and agreement with jansson on valid JSON. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes: a read past them is a bug ASan sees */
	char *text = malloc(size != 0 ? size : 1);
	struct batch_answer a;
	char why[128];
	json_t *doc, *line;
	int rc;

	memcpy(text, data, size);
	rc = batch_scan_answer(text, size, &a, why, sizeof(why));
	if (rc == 0 && a.line < 1)
		abort();
	if (rc < 0 && memchr(why, '\0', sizeof(why)) == NULL)
		abort();
	/* a JSON object jansson reads whole, without duplicate keys: the same "line" */
	doc = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
	line = json_object_get(doc, "line");
	if (rc == 0 && doc != NULL && json_is_integer(line) && json_integer_value(line) != a.line)
		abort();
	json_decref(doc);
	free(text);
	return 0;
}
