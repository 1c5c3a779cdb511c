/* libFuzzer harness for the SMTP reply parser: any bytes, read as a server's stream of replies, give sound replies or a reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checks/smtp/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
keyword(const char *kw, const char *line, size_t linelen, void *arg)
{
	const struct smtp_reply *r = arg;

	/* a keyword is a prefix of its line, which lies inside the reply's text */
	if (kw[0] == '\0' || strlen(kw) > linelen || line < r->text ||
	    line + linelen > r->text + r->textlen)
		abort();
}

/* The checks every whole reply must pass. */
static void
check(struct smtp_reply *r, const char *buf, size_t used)
{
	struct smtp_reply again;
	size_t used2;
	char why[200];

	if (r->code < 200 || r->code > 559 || r->nlines < 1 || r->nlines > SMTP_REPLY_MAX_LINES)
		abort();
	if (r->rawlen != used || memcmp(r->raw, buf, used) != 0 || r->raw[used] != '\0')
		abort();
	if (r->enhanced[0] != '\0' && r->enhanced[0] != '0' + r->code / 100)
		abort();
	if (r->textlen > used || r->text[r->textlen] != '\0')
		abort();
	/* a reply split anywhere before its end is not whole yet */
	if (smtp_reply_parse(buf, used - 1, &again, &used2, why, sizeof(why)) == 1)
		abort();
	smtp_reply_ehlo_keywords(r, keyword, r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t pos = 0, used;
	struct smtp_reply r;
	char why[200];
	int ret;

	while (pos < size) {
		why[0] = '\0';
		ret = smtp_reply_parse(buf + pos, size - pos, &r, &used, why, sizeof(why));
		if (ret == -1 && why[0] == '\0')
			abort();
		if (ret != 1)
			break;
		if (used == 0 || used > size - pos)
			abort();
		check(&r, buf + pos, used);
		smtp_reply_release(&r);
		pos += used;
	}
	return 0;
}
