/* DKIM key record parsing and the small DER reader that sizes RSA and ed25519 public keys. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/dkim/key.h"
#include "checks/dkim/tags.h"
#include "core/util.h"

/* 1.2.840.113549.1.1.1 rsaEncryption and 1.3.101.112 id-Ed25519 (RFC 8410) */
static const unsigned char oid_rsa[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
};
static const unsigned char oid_ed25519[] = { 0x2b, 0x65, 0x70 };

const char *
dkim_key_type_name(enum dkim_key_type type)
{
	switch (type) {
	case DKIM_KEY_RSA:
		return "rsa";
	case DKIM_KEY_ED25519:
		return "ed25519";
	default:
		return "unknown";
	}
}

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
dkim_base64_decode(const char *in, unsigned char **out, size_t *outlen, char *why, size_t whylen)
{
	size_t n = strlen(in), o = 0, nchars = 0, pad = 0;
	unsigned char *buf = xmalloc(n / 4 * 3 + 3);
	uint32_t acc = 0;
	const char *p;

	for (p = in; *p != '\0'; p++) {
		int c = (unsigned char)*p, v;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if ((v = b64_value(c)) < 0 || pad > 0) {
			if (v < 0 && c >= 0x21 && c <= 0x7e)
				snprintf(why, whylen, "'%c' is not a base64 character", c);
			else if (v < 0)
				snprintf(why, whylen, "byte 0x%02x is not a base64 character", c);
			else
				snprintf(why, whylen, "base64 data continues after '=' padding");
			free(buf);
			return -1;
		}
		acc = acc << 6 | (uint32_t)v;
		if (++nchars % 4 == 0) {
			buf[o++] = (unsigned char)(acc >> 16);
			buf[o++] = (unsigned char)(acc >> 8);
			buf[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	switch (nchars % 4) {
	case 0:
		break;
	case 2:
		buf[o++] = (unsigned char)(acc >> 4);
		break;
	case 3:
		buf[o++] = (unsigned char)(acc >> 10);
		buf[o++] = (unsigned char)(acc >> 2);
		break;
	default:
		snprintf(why, whylen, "base64 data has a stray final character");
		free(buf);
		return -1;
	}
	if (pad > 2 || (pad > 0 && (nchars + pad) % 4 != 0)) {
		snprintf(why, whylen, "base64 padding is wrong");
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = o;
	return 0;
}

/*
 * Reads one DER element at *p (before end) with the expected tag: its
 * contents in *c and *clen, *p moved past it. -1 when malformed or another tag.
 */
static int
der_next(const unsigned char **p, const unsigned char *end, unsigned tag,
    const unsigned char **c, size_t *clen)
{
	const unsigned char *q = *p;
	size_t len, i, nlen;

	if (end - q < 2 || q[0] != tag)
		return -1;
	q++;
	if (*q < 0x80) {
		len = *q++;
	} else {
		nlen = *q++ & 0x7f;
		/* definite lengths only, at most 4 octets, no leading zero */
		if (nlen == 0 || nlen > 4 || (size_t)(end - q) < nlen || q[0] == 0)
			return -1;
		for (len = 0, i = 0; i < nlen; i++)
			len = len << 8 | *q++;
		if (len < 0x80)
			return -1;
	}
	if ((size_t)(end - q) < len)
		return -1;
	*c = q;
	*clen = len;
	*p = q + len;
	return 0;
}

int
dkim_bits(const unsigned char *num, size_t len)
{
	int bits;
	unsigned char top;

	while (len > 0 && num[0] == 0) {
		num++;
		len--;
	}
	if (len == 0)
		return 0;
	for (bits = 0, top = num[0]; top != 0; top >>= 1)
		bits++;
	return (int)((len - 1) * 8) + bits;
}

/* An INTEGER's magnitude without the leading zero octets. */
static int
der_uint(const unsigned char **p, const unsigned char *end, const unsigned char **v, size_t *vlen)
{
	if (der_next(p, end, 0x02, v, vlen) < 0 || *vlen == 0 || ((*v)[0] & 0x80))
		return -1;
	while (*vlen > 1 && (*v)[0] == 0) {
		(*v)++;
		(*vlen)--;
	}
	return 0;
}

/* Enters the SEQUENCE at *p: *p and *end then bound its contents. */
static int
der_enter(const unsigned char **p, const unsigned char **end)
{
	const unsigned char *c;
	size_t clen;

	if (der_next(p, *end, 0x30, &c, &clen) < 0)
		return -1;
	*p = c;
	*end = c + clen;
	return 0;
}

/* The algorithm of an AlgorithmIdentifier (alg, alglen): is it the OID oid? -1 if malformed. */
static int
alg_is(const unsigned char *alg, size_t alglen, const unsigned char *oid, size_t oidlen)
{
	const unsigned char *q = alg, *o;
	size_t olen;

	if (der_next(&q, alg + alglen, 0x06, &o, &olen) < 0)
		return -1;
	return olen == oidlen && memcmp(o, oid, olen) == 0;
}

int
dkim_spki_parse(const unsigned char *der, size_t len, const unsigned char **mod,
    size_t *modlen, char *why, size_t whylen)
{
	const unsigned char *p = der, *end = der + len, *alg, *bits, *e;
	size_t alglen, bitslen, elen;
	int ed25519;

	if (der_enter(&p, &end) < 0 || end != der + len) {
		snprintf(why, whylen, "not a DER SubjectPublicKeyInfo (outer SEQUENCE is %s)",
		    len == 0 ? "empty" : "malformed or truncated");
		return -1;
	}
	if (der_next(&p, end, 0x30, &alg, &alglen) < 0 ||
	    der_next(&p, end, 0x03, &bits, &bitslen) < 0 || p != end ||
	    bitslen < 1 || bits[0] != 0) {
		snprintf(why, whylen, "SubjectPublicKeyInfo is malformed");
		return -1;
	}
	if ((ed25519 = alg_is(alg, alglen, oid_ed25519, sizeof(oid_ed25519))) < 0) {
		snprintf(why, whylen, "SubjectPublicKeyInfo has no algorithm identifier");
		return -1;
	}
	if (ed25519) {
		if (bitslen != 33) {
			snprintf(why, whylen, "ed25519 SubjectPublicKeyInfo holds %zu bytes, not 32",
			    bitslen - 1);
			return -1;
		}
		*mod = bits + 1;
		*modlen = 32;
		return DKIM_KEY_ED25519;
	}
	if (alg_is(alg, alglen, oid_rsa, sizeof(oid_rsa)) != 1) {
		snprintf(why, whylen, "SubjectPublicKeyInfo algorithm is neither rsaEncryption nor Ed25519");
		return -1;
	}
	/* RFC 8017 A.1.1: RSAPublicKey ::= SEQUENCE { modulus, publicExponent } */
	p = bits + 1;
	end = bits + bitslen;
	if (der_enter(&p, &end) < 0 || end != bits + bitslen) {
		snprintf(why, whylen, "RSA public key is malformed or truncated");
		return -1;
	}
	if (der_uint(&p, end, mod, modlen) < 0 || der_uint(&p, end, &e, &elen) < 0 || p != end) {
		snprintf(why, whylen, "RSA public key has a malformed modulus or exponent");
		return -1;
	}
	if (dkim_bits(*mod, *modlen) == 0 || dkim_bits(e, elen) < 2) {
		snprintf(why, whylen, "RSA public key has a zero modulus or a trivial exponent");
		return -1;
	}
	return DKIM_KEY_RSA;
}

static void
set_error(struct dkim_key *key, enum dkim_key_error err, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
set_error(struct dkim_key *key, enum dkim_key_error err, const char *tag, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (key->error != DKIM_KEY_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	key->error = err;
	key->error_tag = tag != NULL ? xstrdup(tag) : NULL;
	key->why = xstrdup(buf);
}

/* Is word one of the colon-separated items of list (whitespace around items allowed)? */
static bool
list_has(const char *list, const char *word)
{
	size_t wl = strlen(word);
	const char *p = list;

	while (*p != '\0') {
		const char *start, *stop;

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		start = p;
		while (*p != '\0' && *p != ':')
			p++;
		stop = p;
		while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t' ||
		    stop[-1] == '\r' || stop[-1] == '\n'))
			stop--;
		if ((size_t)(stop - start) == wl && strncmp(start, word, wl) == 0)
			return true;
		if (*p == ':')
			p++;
	}
	return false;
}

static void
parse_keydata(struct dkim_key *key, const char *p)
{
	char why[160];
	unsigned char *data = NULL;
	const unsigned char *mod;
	size_t len, modlen;
	int alg;

	if (dkim_base64_decode(p, &data, &len, why, sizeof(why)) < 0) {
		set_error(key, DKIM_KEY_ERR_KEYDATA, "p", "p= is not valid base64: %s", why);
		return;
	}
	if (key->type == DKIM_KEY_ED25519) {
		/* RFC 8463 4.2: the raw 32-byte public key, not an SPKI */
		if (len == 32) {
			key->modulus = data;
			key->modulus_len = 32;
			key->bits = 256;
			return;
		}
		alg = dkim_spki_parse(data, len, &mod, &modlen, why, sizeof(why));
		if (alg == DKIM_KEY_RSA)
			set_error(key, DKIM_KEY_ERR_MISMATCH, "k",
			    "k=ed25519 but p= holds a %d-bit RSA key", dkim_bits(mod, modlen));
		else if (alg == DKIM_KEY_ED25519)
			set_error(key, DKIM_KEY_ERR_KEYDATA, "p",
			    "p= wraps the ed25519 key in a SubjectPublicKeyInfo (%zu bytes); "
			    "RFC 8463 wants the raw 32 bytes", len);
		else
			set_error(key, DKIM_KEY_ERR_KEYDATA, "p",
			    "p= holds %zu bytes; an ed25519 key is 32", len);
		free(data);
		return;
	}
	alg = dkim_spki_parse(data, len, &mod, &modlen, why, sizeof(why));
	if (alg == DKIM_KEY_RSA) {
		key->modulus = xmalloc(modlen);
		memcpy(key->modulus, mod, modlen);
		key->modulus_len = modlen;
		key->bits = dkim_bits(mod, modlen);
	} else if (alg == DKIM_KEY_ED25519 || len == 32) {
		set_error(key, DKIM_KEY_ERR_MISMATCH, "k",
		    "%s but p= holds an ed25519 key", key->k != NULL ? "k=rsa" : "k= is absent (rsa)");
	} else {
		set_error(key, DKIM_KEY_ERR_KEYDATA, "p", "p= is not an RSA key: %s", why);
	}
	free(data);
}

int
dkim_key_parse(const char *txt, size_t len, struct dkim_key *key)
{
	struct dkim_tags tags;
	char why[160];
	const char *v, *h, *k, *p, *t;

	memset(key, 0, sizeof(*key));
	key->h_sha1 = key->h_sha256 = true;
	key->email = true;
	key->type = DKIM_KEY_RSA;
	if (dkim_tags_parse(txt, len, &tags, why, sizeof(why)) < 0) {
		set_error(key, DKIM_KEY_ERR_SYNTAX, NULL, "%s", why);
		goto out;
	}
	/* RFC 6376 3.6.1: v= is optional, but if present it is first and "DKIM1" */
	if ((v = dkim_tags_get(&tags, "v")) != NULL) {
		if (strcmp(tags.tag[0].name, "v") != 0)
			set_error(key, DKIM_KEY_ERR_SYNTAX, "v", "v= is not the first tag");
		else if (strcmp(v, "DKIM1") != 0)
			set_error(key, DKIM_KEY_ERR_SYNTAX, "v", "v=%.40s is not DKIM1", v);
	}
	if ((h = dkim_tags_get(&tags, "h")) != NULL) {
		key->h = xstrdup(h);
		key->h_sha1 = list_has(h, "sha1");
		key->h_sha256 = list_has(h, "sha256");
	}
	if ((k = dkim_tags_get(&tags, "k")) != NULL) {
		key->k = xstrdup(k);
		if (strcmp(k, "rsa") == 0)
			key->type = DKIM_KEY_RSA;
		else if (strcmp(k, "ed25519") == 0)
			key->type = DKIM_KEY_ED25519;
		else {
			key->type = DKIM_KEY_UNKNOWN;
			set_error(key, DKIM_KEY_ERR_KEYTYPE, "k", "k=%.40s is not a known key type", k);
		}
	}
	if ((t = dkim_tags_get(&tags, "s")) != NULL) {
		key->s = xstrdup(t);
		key->email = list_has(t, "email") || list_has(t, "*");
	}
	if ((t = dkim_tags_get(&tags, "t")) != NULL) {
		key->testing = list_has(t, "y");
		key->strict_subdomain = list_has(t, "s");
	}
	if ((p = dkim_tags_get(&tags, "p")) == NULL) {
		set_error(key, DKIM_KEY_ERR_SYNTAX, "p", "the required tag p= is missing");
		goto out;
	}
	if (key->error != DKIM_KEY_OK)
		goto out;
	if (p[0] == '\0') {
		key->revoked = true;
		goto out;
	}
	parse_keydata(key, p);
out:
	dkim_tags_release(&tags);
	return key->error == DKIM_KEY_OK ? 0 : -1;
}

void
dkim_key_release(struct dkim_key *key)
{
	free(key->k);
	free(key->h);
	free(key->s);
	free(key->modulus);
	free(key->error_tag);
	free(key->why);
	memset(key, 0, sizeof(*key));
}

/*
 * The base64 text between the BEGIN line of an RSA private key and its END
 * line (fresh string); *pkcs8 says which of the two BEGIN lines it was.
 * NULL with why.
 */
static char *
pem_body(const char *pem, size_t len, bool *pkcs8, char *why, size_t whylen)
{
	const char *begin, *body, *stop;
	char *b64;

	/* the PEM text must be NUL-free for the string functions below */
	if (memchr(pem, '\0', len) != NULL) {
		snprintf(why, whylen, "the key file holds a NUL byte");
		return NULL;
	}
	b64 = xstrndup(pem, len);
	if ((begin = strstr(b64, "-----BEGIN RSA PRIVATE KEY-----")) != NULL) {
		*pkcs8 = false;
	} else if ((begin = strstr(b64, "-----BEGIN PRIVATE KEY-----")) != NULL) {
		*pkcs8 = true;
	} else {
		snprintf(why, whylen, "no 'BEGIN RSA PRIVATE KEY' or 'BEGIN PRIVATE KEY' line");
		free(b64);
		return NULL;
	}
	body = strchr(begin + 10, '\n');
	if (body == NULL || (stop = strstr(body, "-----END")) == NULL) {
		snprintf(why, whylen, "the PEM block has no END line");
		free(b64);
		return NULL;
	}
	memmove(b64, body, (size_t)(stop - body));
	b64[stop - body] = '\0';
	return b64;
}

/*
 * RFC 5208 5: PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier,
 * OCTET STRING }; *p and *end then bound the key inside the OCTET STRING.
 * -1 when malformed, with why when the key is not RSA.
 */
static int
pkcs8_unwrap(const unsigned char **p, const unsigned char **end, char *why, size_t whylen)
{
	const unsigned char *v, *alg, *oct;
	size_t vlen, alglen, octlen;

	if (der_enter(p, end) < 0 || der_uint(p, *end, &v, &vlen) < 0 ||
	    der_next(p, *end, 0x30, &alg, &alglen) < 0 ||
	    der_next(p, *end, 0x04, &oct, &octlen) < 0)
		return -1;
	if (alg_is(alg, alglen, oid_rsa, sizeof(oid_rsa)) != 1) {
		snprintf(why, whylen, "the private key is not an RSA key");
		return -1;
	}
	*p = oct;
	*end = oct + octlen;
	return 0;
}

int
dkim_rsa_private_modulus(const char *pem, size_t len, unsigned char **modp, size_t *modlen,
    char *why, size_t whylen)
{
	char *b64;
	unsigned char *der = NULL;
	const unsigned char *p, *end, *v, *mod;
	size_t derlen, vlen, mlen;
	bool pkcs8;
	int ret = -1;

	if ((b64 = pem_body(pem, len, &pkcs8, why, whylen)) == NULL)
		return -1;
	if (dkim_base64_decode(b64, &der, &derlen, why, whylen) < 0)
		goto out;
	/* the message for every DER problem below */
	snprintf(why, whylen, "the private key is not well-formed DER");
	p = der;
	end = der + derlen;
	if (pkcs8 && pkcs8_unwrap(&p, &end, why, whylen) < 0)
		goto out;
	/* RFC 8017 A.1.2: RSAPrivateKey ::= SEQUENCE { version, modulus, ... } */
	if (der_enter(&p, &end) < 0 || der_uint(&p, end, &v, &vlen) < 0 ||
	    der_uint(&p, end, &mod, &mlen) < 0)
		goto out;
	*modp = xmalloc(mlen);
	memcpy(*modp, mod, mlen);
	*modlen = mlen;
	ret = 0;
out:
	free(der);
	free(b64);
	return ret;
}
