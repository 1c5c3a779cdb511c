/* libFuzzer harness for src/textsafe.c: any bytes give valid UTF-8, and terminal output holds no control. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/textsafe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_utf8(const char *s)
{
	json_t *j = json_string(s);

	/* jansson's strict check: rejects overlongs, surrogates, > U+10FFFF */
	if (j == NULL)
		abort();
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char *utf8 = text_utf8_sanitize(in, size);
	char *term = text_term_escape(in, size);
	char *again;
	json_t *j;
	size_t i;

	check_utf8(utf8);
	check_utf8(term);
	/* sanitized text is a fixed point: a second pass changes nothing */
	again = text_utf8_sanitize(utf8, strlen(utf8));
	if (strcmp(again, utf8) != 0)
		abort();
	free(again);
	for (i = 0; term[i] != '\0'; i++) {
		unsigned char c = (unsigned char)term[i];

		if (c < 0x20 || c == 0x7f)
			abort();
		/* C1 controls are U+0080..U+009F: C2 80..C2 9F */
		if (c == 0xc2 && (unsigned char)term[i + 1] >= 0x80 &&
		    (unsigned char)term[i + 1] <= 0x9f)
			abort();
	}
	/* output never shorter than the input: nothing is dropped */
	if (strlen(utf8) < size || strlen(term) < size)
		abort();
	j = json_text(in, size);
	if (j == NULL || !json_is_string(j))
		abort();
	json_decref(j);
	free(utf8);
	free(term);
	return 0;
}
