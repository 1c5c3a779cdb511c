/* libopendkim in verify mode, one library handle per message so that its DNS service handle is that target's adapter. */
#include <opendkim/dkim.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/dkim/verify.h"
#include "core/util.h"

static enum dkim_lib_error
convert_error(int err)
{
	switch (err) {
	case DKIM_SIGERROR_OK:
	case DKIM_SIGERROR_BADSIG:
		return DKIM_LIB_OK;
	case DKIM_SIGERROR_NOKEY:
		return DKIM_LIB_KEY_MISSING;
	case DKIM_SIGERROR_KEYFAIL:
		return DKIM_LIB_KEY_DNS;
	case DKIM_SIGERROR_KEYREVOKED:
		return DKIM_LIB_KEY_REVOKED;
	case DKIM_SIGERROR_DNSSYNTAX:
	case DKIM_SIGERROR_MULTIREPLY:
	case DKIM_SIGERROR_KEYVERSION:
	case DKIM_SIGERROR_KEYUNKNOWNHASH:
	case DKIM_SIGERROR_KEYHASHMISMATCH:
	case DKIM_SIGERROR_NOTEMAILKEY:
	case DKIM_SIGERROR_KEYTYPEMISSING:
	case DKIM_SIGERROR_KEYTYPEUNKNOWN:
	case DKIM_SIGERROR_KEYDECODE:
		return DKIM_LIB_KEY_INVALID;
	case DKIM_SIGERROR_EXPIRED:
	case DKIM_SIGERROR_FUTURE:
	case DKIM_SIGERROR_TIMESTAMPS:
		return DKIM_LIB_EXPIRED;
	case DKIM_SIGERROR_KEYTOOSMALL:
		return DKIM_LIB_KEY_SMALL;
	case DKIM_SIGERROR_UNKNOWN:
	case DKIM_SIGERROR_MBSFAILED:
	case DKIM_SIGERROR_CONDITIONAL:
	case DKIM_SIGERROR_CONDLOOP:
		return DKIM_LIB_OTHER;
	default:
		return DKIM_LIB_SIG_INVALID;
	}
}

/* Copies s without whitespace into out (at most outlen - 1 bytes). */
static void
strip_copy(const unsigned char *s, char *out, size_t outlen)
{
	size_t o = 0;

	for (; s != NULL && *s != '\0' && o + 1 < outlen; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			out[o++] = (char)*s;
	out[o] = '\0';
}

static void
read_sig(DKIM_SIGINFO *sig, struct dkim_verdict *v)
{
	unsigned flags = dkim_sig_getflags(sig);
	int bh = dkim_sig_getbh(sig), err = dkim_sig_geterror(sig);
	dkim_canon_t hc, bc;
	unsigned bits = 0;

	v->seen = true;
	v->error = convert_error(err);
	if (err != DKIM_SIGERROR_OK && dkim_sig_geterrorstr(err) != NULL)
		snprintf(v->why, sizeof(v->why), "%s", dkim_sig_geterrorstr(err));
	if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		v->key_bits = bits;
	if (dkim_sig_getcanons(sig, &hc, &bc) == DKIM_STAT_OK)
		snprintf(v->canon, sizeof(v->canon), "%s/%s",
		    hc == DKIM_CANON_RELAXED ? "relaxed" : "simple",
		    bc == DKIM_CANON_RELAXED ? "relaxed" : "simple");
	if (!(flags & DKIM_SIGFLAG_PROCESSED) || v->error != DKIM_LIB_OK)
		return;
	/*
	 * libopendkim sets PASSED from the header signature alone, even when
	 * the body hash does not match: both must hold for a pass.
	 */
	if (bh == DKIM_SIGBH_MISMATCH)
		v->crypto = DKIM_CRYPTO_BAD_BODY;
	else if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH)
		v->crypto = DKIM_CRYPTO_PASS;
	else
		v->crypto = DKIM_CRYPTO_BAD_SIG;
}

/* True if the header field at field (n bytes up to its first line end) is a DKIM-Signature. */
static bool
is_signature_field(const char *field, size_t n)
{
	static const char name[] = "DKIM-Signature";
	size_t i = sizeof(name) - 1;

	if (n < i || strncasecmp(field, name, i) != 0)
		return false;
	while (i < n && (field[i] == ' ' || field[i] == '\t'))
		i++;
	return i < n && field[i] == ':';
}

/*
 * Copies the message into out (len bytes are enough) without the
 * DKIM-Signature fields past the first DKIM_MAX_SIGNATURES, which the
 * caller does not check: libopendkim parses every signature field before
 * it verifies one, and thousands cost seconds. Returns the length copied.
 * A kept signature that signs DKIM-Signature fields may then see fewer of
 * them; with more than DKIM_MAX_SIGNATURES signatures the message is
 * reported as such anyway.
 */
static size_t
drop_extra_signatures(const char *text, size_t len, unsigned char *out)
{
	size_t pos = 0, o = 0, eol, end, nsig = 0;
	bool keep = true;

	while (pos < len) {
		for (eol = pos; eol < len && text[eol] != '\n'; eol++)
			;
		end = eol < len ? eol + 1 : len;
		if (eol == pos || (eol == pos + 1 && text[pos] == '\r'))
			break;		/* the empty line: the body follows as it is */
		if (text[pos] != ' ' && text[pos] != '\t')
			keep = !is_signature_field(text + pos, eol - pos) ||
			    ++nsig <= DKIM_MAX_SIGNATURES;
		if (keep) {
			memcpy(out + o, text + pos, end - pos);
			o += end - pos;
		}
		pos = end;
	}
	memcpy(out + o, text + pos, len - pos);
	return o + len - pos;
}

/*
 * A library handle whose key lookups go through ad, leaving key size and
 * hash policy (RFC 8301) to the caller. NULL with why.
 */
static DKIM_LIB *
lib_open(struct dkim_adapter *ad, char *why, size_t whylen)
{
	unsigned flags = DKIM_LIBFLAGS_BADSIGHANDLES | DKIM_LIBFLAGS_FIXCRLF;
	unsigned minbits = 1;
	DKIM_LIB *lib;

	if ((lib = dkim_init(NULL, NULL)) == NULL) {
		snprintf(why, whylen, "libopendkim: cannot initialise the library");
		return NULL;
	}
	/* our engine does the lookups; libopendkim must neither start nor free a resolver */
	dkim_dns_set_query_service(lib, ad);
	dkim_dns_set_query_start(lib, dkim_adapter_query_start);
	dkim_dns_set_query_cancel(lib, dkim_adapter_query_cancel);
	dkim_dns_set_query_waitreply(lib, dkim_adapter_query_waitreply);
	dkim_dns_set_init(lib, NULL);
	dkim_dns_set_close(lib, NULL);
	/* key size and hash policy (RFC 8301) are judged by the caller, after the crypto */
	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &minbits,
	    sizeof(minbits)) != DKIM_STAT_OK) {
		snprintf(why, whylen, "libopendkim: cannot set the verification options");
		dkim_close(lib);
		return NULL;
	}
	return lib;
}

/* The unused signature of msg whose b= is bval, from index from on; msg->nsig if none. */
static size_t
find_b(const struct dkim_msg *msg, const bool *used, size_t from, const char *bval)
{
	size_t j;

	for (j = from; j < msg->nsig; j++)
		if (!used[j] && msg->sig[j].b != NULL && strcmp(msg->sig[j].b, bval) == 0)
			return j;
	return msg->nsig;
}

/* Gives each of libopendkim's signatures to the DKIM-Signature of msg it is. */
static void
read_sigs(DKIM_SIGINFO **sigs, size_t nsigs, const struct dkim_msg *msg,
    struct dkim_verdict *out)
{
	bool *used = xcalloc(msg->nsig + 1, sizeof(*used));
	size_t i, j, next = 0;

	for (i = 0; i < nsigs; i++) {
		unsigned char tag[] = "b";
		const unsigned char *b = dkim_sig_gettagvalue(sigs[i], false, tag);
		char bval[2048];

		strip_copy(b, bval, sizeof(bval));
		/* header order first; b= tells which field it is when libopendkim skipped one */
		if ((j = find_b(msg, used, next, bval)) == msg->nsig)
			j = find_b(msg, used, 0, bval);
		if (j == msg->nsig && next < msg->nsig && !used[next] && b == NULL)
			j = next;
		if (j == msg->nsig)
			continue;
		used[j] = true;
		next = j + 1;
		read_sig(sigs[i], &out[j]);
	}
	free(used);
}

int
dkim_verify_message(struct dkim_adapter *ad, const char *text, size_t len,
    const struct dkim_msg *msg, struct dkim_verdict *out, char *why, size_t whylen)
{
	DKIM_LIB *lib;
	DKIM *dkim = NULL;
	DKIM_SIGINFO **sigs = NULL;
	DKIM_STAT st;
	unsigned char *copy = NULL;
	int nsigs = 0, ret = -1;

	memset(out, 0, msg->nsig * sizeof(*out));
	if ((lib = lib_open(ad, why, whylen)) == NULL)
		goto out;
	dkim = dkim_verify(lib, (const unsigned char *)"why550", NULL, &st);
	if (st == DKIM_STAT_NORESOURCE)
		resource_check(ENOMEM, "libopendkim");
	if (dkim == NULL) {
		snprintf(why, whylen, "libopendkim: cannot start verifying (%s)", dkim_getresultstr(st));
		goto out;
	}
	/* dkim_chunk() wants a writable buffer */
	copy = xmalloc(len + 1);
	st = dkim_chunk(dkim, copy, drop_extra_signatures(text, len, copy));
	if (st == DKIM_STAT_OK)
		st = dkim_chunk(dkim, NULL, 0);
	if (st == DKIM_STAT_OK || st == DKIM_STAT_NOSIG)
		st = dkim_eom(dkim, NULL);
	/* a signature unverified for want of memory must not read as a bad signature */
	if (st == DKIM_STAT_NORESOURCE)
		resource_check(ENOMEM, "libopendkim");
	if (dkim_getsiglist(dkim, &sigs, &nsigs) != DKIM_STAT_OK || nsigs <= 0) {
		const char *e = dkim_geterror(dkim);

		snprintf(why, whylen, "libopendkim: the message was not verified: %s",
		    e != NULL && e[0] != '\0' ? e : dkim_getresultstr(st));
		goto out;
	}
	read_sigs(sigs, (size_t)nsigs, msg, out);
	ret = 0;
out:
	free(copy);
	if (dkim != NULL)
		dkim_free(dkim);
	if (lib != NULL)
		dkim_close(lib);
	return ret;
}
