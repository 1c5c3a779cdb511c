/*
 * dkimsign: signs a message with libopendkim (rsa-sha256, relaxed/relaxed)
 * for the tests, which build their sample messages at run time:
 *
 *   dkimsign --key PEM --domain D --selector S [--headers NAME:NAME...] < msg > signed
 *
 * --headers gives the h= list (default: libopendkim's, every field the
 * message has). Line ends become CRLF. Exit 1 with a message on failure.
 */
#include <opendkim/dkim.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MAX_HEADERS	64

static char *
read_all(FILE *f)
{
	struct strbuf sb;
	char buf[8192];
	size_t n;

	strbuf_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	return strbuf_detach(&sb, NULL);
}

/* The message with every line ended by CRLF, as libopendkim wants it. */
static char *
crlf(const char *text, size_t *len)
{
	struct strbuf sb;
	const char *p;

	strbuf_init(&sb);
	for (p = text; *p != '\0'; p++) {
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			strbuf_add(&sb, "\r", 1);
		strbuf_add(&sb, p, 1);
	}
	return strbuf_detach(&sb, len);
}

/* NAME:NAME into a NULL-terminated array (in place). */
static void
split_headers(char *list, const char **out)
{
	size_t n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(list, ":", &save); tok != NULL && n < MAX_HEADERS - 1;
	    tok = strtok_r(NULL, ":", &save))
		out[n++] = tok;
	out[n] = NULL;
}

int
main(int argc, char **argv)
{
	const char *keyfile = NULL, *hdrs[MAX_HEADERS];
	char *headers = NULL, *domain = NULL, *selector = NULL, *key, *msg, *text;
	unsigned char jobid[] = "why550-test";
	unsigned char *sig = NULL;
	size_t len, siglen = 0;
	DKIM_STAT st;
	DKIM_LIB *lib;
	DKIM *d;
	FILE *f;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--key") == 0)
			keyfile = argv[i + 1];
		else if (strcmp(argv[i], "--domain") == 0)
			domain = argv[i + 1];
		else if (strcmp(argv[i], "--selector") == 0)
			selector = argv[i + 1];
		else if (strcmp(argv[i], "--headers") == 0)
			headers = argv[i + 1];
	}
	if (keyfile == NULL || domain == NULL || selector == NULL || (f = fopen(keyfile, "r")) == NULL) {
		fprintf(stderr, "usage: dkimsign --key PEM --domain D --selector S "
		    "[--headers NAME:NAME...] < msg\n");
		return 64;
	}
	key = read_all(f);
	fclose(f);
	text = read_all(stdin);
	msg = crlf(text, &len);
	lib = dkim_init(NULL, NULL);
	if (headers != NULL) {
		split_headers(headers, hdrs);
		/* the value is the array's address, its length that of one pointer */
		if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, hdrs,
		    sizeof(const char **)) != DKIM_STAT_OK) {
			fprintf(stderr, "dkimsign: libopendkim refused the header list\n");
			return 1;
		}
	}
	d = dkim_sign(lib, jobid, NULL, (dkim_sigkey_t)key,
	    (unsigned char *)selector, (unsigned char *)domain, DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &st);
	if (d == NULL || dkim_chunk(d, (unsigned char *)msg, len) != DKIM_STAT_OK ||
	    dkim_chunk(d, NULL, 0) != DKIM_STAT_OK || dkim_eom(d, NULL) != DKIM_STAT_OK ||
	    dkim_getsighdr_d(d, strlen(DKIM_SIGNHEADER) + 2, &sig, &siglen) != DKIM_STAT_OK) {
		fprintf(stderr, "dkimsign: signing failed: %s\n",
		    d != NULL ? dkim_geterror(d) : dkim_getresultstr(st));
		return 1;
	}
	printf("%s: %.*s\r\n%s", DKIM_SIGNHEADER, (int)siglen, (const char *)sig, msg);
	dkim_free(d);
	dkim_close(lib);
	free(key);
	free(text);
	free(msg);
	return 0;
}
