/* libFuzzer harness for the batch reader: any bytes as one NDJSON line give a target or an error naming the field. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/target.h"
#include "output/output.h"
#include "src/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True if the line is an object with a "message" field, which names a file to read. */
static bool
names_a_file(const uint8_t *data, size_t size)
{
	json_t *obj = json_loadb((const char *)data, size, 0, NULL);
	bool file = obj != NULL && json_object_get(obj, "message") != NULL;

	json_decref(obj);
	return file;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target t;
	struct error err = { "" };
	char *line;
	json_t *doc;

	/* a fuzzer must not read whatever file an input names */
	if (names_a_file(data, size))
		return 0;
	target_init(&t);
	if (batch_parse_line((const char *)data, size, &t, &err) == 0) {
		if (t.ip == NULL && t.helo == NULL && t.mail_from == NULL && t.rcpt_to == NULL &&
		    t.bounce == NULL)
			abort();
	} else {
		if (err.msg[0] == '\0')
			abort();
		/* the error line of the output is valid JSON whatever the input held */
		line = output_ndjson_error(1, err.msg);
		doc = line != NULL ? json_loads(line, 0, NULL) : NULL;
		if (doc == NULL)
			abort();
		json_decref(doc);
		free(line);
	}
	target_release(&t);
	return 0;
}
