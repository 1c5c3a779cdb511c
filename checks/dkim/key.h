/* DKIM key records (RFC 6376 3.6.1, RFC 8463): parsing a selector's TXT record and decoding its public key. */
#ifndef WHY550_DKIM_KEY_H
#define WHY550_DKIM_KEY_H

#include <stdbool.h>
#include <stddef.h>

enum dkim_key_type {
	DKIM_KEY_UNKNOWN = 0,
	DKIM_KEY_RSA,
	DKIM_KEY_ED25519,
};

/* "rsa", "ed25519" or "unknown". */
const char *dkim_key_type_name(enum dkim_key_type type);

/* What is wrong with a record, the first problem found. */
enum dkim_key_error {
	DKIM_KEY_OK = 0,
	DKIM_KEY_ERR_SYNTAX,		/* tag-list syntax, bad v=, missing p= */
	DKIM_KEY_ERR_KEYTYPE,		/* unknown k= */
	DKIM_KEY_ERR_MISMATCH,		/* k= does not match the key data in p= */
	DKIM_KEY_ERR_KEYDATA,		/* p= is not base64 or not a usable key */
};

struct dkim_key {
	char *k;			/* k= as written, NULL if absent (means rsa) */
	enum dkim_key_type type;	/* from k= */
	int bits;			/* RSA modulus bits, 256 for ed25519; 0 if unknown */
	bool revoked;			/* p= is empty (RFC 6376 3.6.1) */
	bool testing;			/* t= has y */
	bool strict_subdomain;		/* t= has s: i= must be d= exactly */
	char *h;			/* h= as written or NULL (all hashes) */
	bool h_sha1, h_sha256;		/* hashes h= allows (both true without h=) */
	char *s;			/* s= as written or NULL (means *) */
	bool email;			/* s= allows email */
	unsigned char *modulus;		/* RSA modulus without leading zeros, or the 32 ed25519 bytes */
	size_t modulus_len;
	enum dkim_key_error error;
	char *error_tag;		/* the tag the error is about ("p"), or NULL */
	char *why;			/* the error in words, or NULL */
};

/*
 * Parses a key record: len bytes of TXT data (the strings joined). key is
 * initialised here and must be released by the caller in every case.
 * Returns 0 for a usable or revoked key, -1 when key->error says why not.
 */
int dkim_key_parse(const char *txt, size_t len, struct dkim_key *key);
void dkim_key_release(struct dkim_key *key);

/*
 * Decodes base64 (RFC 6376: whitespace allowed anywhere, '=' padding only at
 * the end). Fresh buffer in *out, length in *outlen. -1 with why on a bad
 * character or length.
 */
int dkim_base64_decode(const char *in, unsigned char **out, size_t *outlen,
    char *why, size_t whylen);

/*
 * Reads a DER SubjectPublicKeyInfo. For rsaEncryption, the modulus (leading
 * zeros dropped) goes to *mod and *modlen (pointing into der) and the return is
 * DKIM_KEY_RSA; for id-Ed25519 the 32 key bytes and DKIM_KEY_ED25519; -1 with
 * why when it is not a well-formed SPKI or has another algorithm.
 */
int dkim_spki_parse(const unsigned char *der, size_t len, const unsigned char **mod,
    size_t *modlen, char *why, size_t whylen);

/* The bit length of a big-endian unsigned number without leading zero bytes. */
int dkim_bits(const unsigned char *num, size_t len);

/*
 * Reads an RSA private key in PEM ("RSA PRIVATE KEY" or PKCS#8 "PRIVATE
 * KEY") and writes its modulus (fresh buffer, no leading zeros). -1 with why.
 */
int dkim_rsa_private_modulus(const char *pem, size_t len, unsigned char **mod,
    size_t *modlen, char *why, size_t whylen);

#endif
