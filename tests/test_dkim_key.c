/* Tests of the DKIM key-record parser, the tag-list parser and the DER reader (no network). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/dkim/key.h"
#include "checks/dkim/tags.h"

/* Keys made with openssl for these tests (the 1024 one is also in tests/zones/mailer.test.zone). */
#define RSA512 "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALOHcj/WCU8NQFpUhcf1UUVB2vBxFOmBaGPfD+" \
	"MykDlkOONvRqzQmMjI8naLPBI0jVrkjy5xjex/EknyH0h5ZZECAwEAAQ=="
#define RSA1024 "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCy+4Q0pf8bJZOA8IprFuVtKmPwYFTixcAe" \
	"tvRwFqcuTnekrLNjX90ImHiT3uc0ID4zMETWBlLV02pZ1tJastsco0AtsMvqjEPWogfNZVDvyA5m" \
	"MNuyVENa36JyoaeQMcly9UdzS74m0lB1pW/izBA1Cr3Y1zXEX6TR0KVuTnh++QIDAQAB"
#define ED25519 "1UsFNckpvk+WhUF8NwkxeboRj/MuCWmfwP2KEvJ+XF0="
/* the same ed25519 key wrapped in a SubjectPublicKeyInfo (RFC 8410), which RFC 8463 does not allow */
#define ED25519_SPKI "MCowBQYDK2VwAyEA1UsFNckpvk+WhUF8NwkxeboRj/MuCWmfwP2KEvJ+XF0="
#define PEM512 "-----BEGIN RSA PRIVATE KEY-----\n" \
	"MIIBOgIBAAJBALOHcj/WCU8NQFpUhcf1UUVB2vBxFOmBaGPfD+MykDlkOONvRqzQ\n" \
	"mMjI8naLPBI0jVrkjy5xjex/EknyH0h5ZZECAwEAAQJAXp4IDLTVeyBUxka9q0ET\n" \
	"cBjhNs+iYd6eEeTCDs/bSyMwDH6wVrSl9ubI97B/8tKwTrS2bvljUI6C8HqQUSxG\n" \
	"MQIhAOueqN3zqsBozPNbPl0PhSW+RIF4g/yDwbhZfHjxu37HAiEAww7EmC1qS2/8\n" \
	"8ji6iYs3/nG/ltvoJ8Ni0FOOwTNmAOcCIQDblrReljbutz07GDBY3pwCfv6tgznO\n" \
	"3qRuQMfml7NcBQIgO5p1pHKsOmT8DCAdkA4EjDHB85068XuY5EPEKXFFSB0CIFVD\n" \
	"vG1+J0K5qfvE484MGOlItSFGKCoyiq2ZswclShyy\n" \
	"-----END RSA PRIVATE KEY-----\n"
/* the same key in PKCS#8 (RFC 5208), and an ed25519 private key in PKCS#8 */
#define PEM512_PKCS8 "-----BEGIN PRIVATE KEY-----\n" \
	"MIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEAs4dyP9YJTw1AWlSF\n" \
	"x/VRRUHa8HEU6YFoY98P4zKQOWQ4429GrNCYyMjydos8EjSNWuSPLnGN7H8SSfIf\n" \
	"SHllkQIDAQABAkBenggMtNV7IFTGRr2rQRNwGOE2z6Jh3p4R5MIOz9tLIzAMfrBW\n" \
	"tKX25sj3sH/y0rBOtLZu+WNQjoLwepBRLEYxAiEA656o3fOqwGjM81s+XQ+FJb5E\n" \
	"gXiD/IPBuFl8ePG7fscCIQDDDsSYLWpLb/zyOLqJizf+cb+W2+gnw2LQU47BM2YA\n" \
	"5wIhANuWtF6WNu63PTsYMFjenAJ+/q2DOc7epG5Ax+aXs1wFAiA7mnWkcqw6ZPwM\n" \
	"IB2QDgSMMcHznTrxe5jkQ8QpcUVIHQIgVUO8bX4nQrmp+8TjzgwY6Ui1IUYoKjKK\n" \
	"rZmzByVKHLI=\n" \
	"-----END PRIVATE KEY-----\n"
#define PEM_ED25519_PKCS8 "-----BEGIN PRIVATE KEY-----\n" \
	"MC4CAQAwBQYDK2VwBCIEIB7Gz1H3fyVKx5UTNKhJ3HiD8jpk9caSIYIo8YCoH4A5\n" \
	"-----END PRIVATE KEY-----\n"

static int
parse(const char *txt, struct dkim_key *key)
{
	return dkim_key_parse(txt, strlen(txt), key);
}

Test(dkim_key, rsa_keys_are_sized_from_their_modulus)
{
	struct dkim_key k;

	cr_assert_eq(parse("v=DKIM1; k=rsa; p=" RSA1024, &k), 0, "%s", k.why);
	cr_assert_eq(k.type, DKIM_KEY_RSA);
	cr_assert_eq(k.bits, 1024);
	cr_assert_not(k.revoked);
	dkim_key_release(&k);
	cr_assert_eq(parse("p=" RSA512, &k), 0, "%s", k.why);
	cr_assert_eq(k.bits, 512);
	cr_assert_eq(k.type, DKIM_KEY_RSA, "no k= means rsa");
	dkim_key_release(&k);
}

Test(dkim_key, ed25519_raw_key_is_256_bits)
{
	struct dkim_key k;

	cr_assert_eq(parse("v=DKIM1; k=ed25519; p=" ED25519, &k), 0, "%s", k.why);
	cr_assert_eq(k.type, DKIM_KEY_ED25519);
	cr_assert_eq(k.bits, 256);
	cr_assert_eq(k.modulus_len, 32);
	dkim_key_release(&k);
}

Test(dkim_key, ed25519_key_wrapped_in_spki_is_rejected)
{
	struct dkim_key k;

	cr_assert_eq(parse("v=DKIM1; k=ed25519; p=" ED25519_SPKI, &k), -1);
	cr_assert_eq(k.error, DKIM_KEY_ERR_KEYDATA);
	cr_assert_str_eq(k.error_tag, "p");
	dkim_key_release(&k);
}

Test(dkim_key, empty_p_means_revoked_not_an_error)
{
	struct dkim_key k;

	cr_assert_eq(parse("v=DKIM1; k=rsa; p=", &k), 0);
	cr_assert(k.revoked);
	cr_assert_eq(k.bits, 0);
	dkim_key_release(&k);
}

Test(dkim_key, missing_p_is_a_syntax_error_naming_p)
{
	struct dkim_key k;

	cr_assert_eq(parse("v=DKIM1; k=rsa", &k), -1);
	cr_assert_eq(k.error, DKIM_KEY_ERR_SYNTAX);
	cr_assert_str_eq(k.error_tag, "p");
	dkim_key_release(&k);
	cr_assert_eq(dkim_key_parse("", 0, &k), -1, "an empty TXT record has no key");
	dkim_key_release(&k);
}

Test(dkim_key, non_base64_or_truncated_key_data_is_rejected)
{
	struct dkim_key k;

	cr_assert_eq(parse("v=DKIM1; p=MIGfMA0G!!not*base64", &k), -1);
	cr_assert_eq(k.error, DKIM_KEY_ERR_KEYDATA);
	cr_assert(strstr(k.why, "'!'") != NULL, "why: %s", k.why);
	dkim_key_release(&k);
	/* the first 100 characters of a valid key: base64 is fine, the DER is cut */
	cr_assert_eq(parse("v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCy+4Q0pf8bJZOA8IprFuVtKmPwYFTixcAetvRwFqcuTnekrLNjX90I", &k), -1);
	cr_assert_eq(k.error, DKIM_KEY_ERR_KEYDATA);
	dkim_key_release(&k);
}

Test(dkim_key, version_must_be_first_and_dkim1)
{
	struct dkim_key k;

	cr_assert_eq(parse("v=DKIM2; p=" RSA1024, &k), -1);
	cr_assert_str_eq(k.error_tag, "v");
	dkim_key_release(&k);
	cr_assert_eq(parse("k=rsa; v=DKIM1; p=" RSA1024, &k), -1);
	cr_assert_str_eq(k.error_tag, "v");
	dkim_key_release(&k);
}

Test(dkim_key, unknown_key_type_is_reported_with_tag_k)
{
	struct dkim_key k;

	cr_assert_eq(parse("k=foobar; p=" RSA1024, &k), -1);
	cr_assert_eq(k.error, DKIM_KEY_ERR_KEYTYPE);
	cr_assert_str_eq(k.error_tag, "k");
	dkim_key_release(&k);
}

Test(dkim_key, k_that_does_not_match_the_key_data_is_a_mismatch)
{
	struct dkim_key k;

	cr_assert_eq(parse("v=DKIM1; k=ed25519; p=" RSA1024, &k), -1);
	cr_assert_eq(k.error, DKIM_KEY_ERR_MISMATCH);
	cr_assert(strstr(k.why, "1024-bit RSA") != NULL, "why: %s", k.why);
	dkim_key_release(&k);
	cr_assert_eq(parse("v=DKIM1; k=rsa; p=" ED25519, &k), -1);
	cr_assert_eq(k.error, DKIM_KEY_ERR_MISMATCH);
	dkim_key_release(&k);
}

Test(dkim_key, hash_service_and_flag_tags_are_read)
{
	struct dkim_key k;

	cr_assert_eq(parse("v=DKIM1; h=sha1; s=chat; t=y:s; p=" RSA1024, &k), 0);
	cr_assert(k.h_sha1);
	cr_assert_not(k.h_sha256);
	cr_assert_not(k.email);
	cr_assert(k.testing);
	cr_assert(k.strict_subdomain);
	dkim_key_release(&k);
	/* unknown hashes and flags are ignored (RFC 6376 3.6.1); s=* allows email */
	cr_assert_eq(parse("v=DKIM1; h=md5 : sha256; s=*; t=n:extra; p=" RSA1024, &k), 0);
	cr_assert(k.h_sha256);
	cr_assert_not(k.h_sha1);
	cr_assert(k.email);
	cr_assert_not(k.testing);
	dkim_key_release(&k);
}

Test(dkim_key, whitespace_in_tags_and_base64_is_allowed)
{
	struct dkim_key k;
	char txt[512];

	/* the key split in the middle by folding whitespace, tags spaced around '=' */
	snprintf(txt, sizeof(txt), "v = DKIM1 ;  k=rsa ;\r\n p=%.60s \t %s ;", RSA1024, RSA1024 + 60);
	cr_assert_eq(parse(txt, &k), 0, "%s", k.why);
	cr_assert_eq(k.bits, 1024);
	dkim_key_release(&k);
}

Test(dkim_tags, tag_without_equals_and_duplicates_are_errors)
{
	struct dkim_tags t;
	char why[128];

	cr_assert_eq(dkim_tags_parse("k=rsa; t; p=x", 13, &t, why, sizeof(why)), -1);
	cr_assert(strstr(why, "'t'") != NULL, "why: %s", why);
	dkim_tags_release(&t);
	cr_assert_eq(dkim_tags_parse("p=a; p=b", 8, &t, why, sizeof(why)), -1);
	cr_assert(strstr(why, "duplicate") != NULL, "why: %s", why);
	dkim_tags_release(&t);
	cr_assert_eq(dkim_tags_parse("1a=b", 4, &t, why, sizeof(why)), -1);
	dkim_tags_release(&t);
}

Test(dkim_tags, values_keep_inner_space_and_bytes_are_checked)
{
	struct dkim_tags t;
	char why[128];
	static const char nul[] = "a=x\0y";

	cr_assert_eq(dkim_tags_parse(" n = two words ;;x=1;", 21, &t, why, sizeof(why)), 0, "%s", why);
	cr_assert_str_eq(dkim_tags_get(&t, "n"), "two words");
	cr_assert_str_eq(dkim_tags_get(&t, "x"), "1");
	cr_assert_null(dkim_tags_get(&t, "N"), "tag names are case-sensitive");
	dkim_tags_release(&t);
	cr_assert_eq(dkim_tags_parse(nul, sizeof(nul) - 1, &t, why, sizeof(why)), -1);
	cr_assert(strstr(why, "0x00") != NULL, "why: %s", why);
	dkim_tags_release(&t);
}

Test(dkim_key, base64_padding_rules)
{
	unsigned char *out = NULL;
	size_t len;
	char why[128];

	cr_assert_eq(dkim_base64_decode("aGk=", &out, &len, why, sizeof(why)), 0);
	cr_assert_eq(len, 2);
	cr_assert_eq(memcmp(out, "hi", 2), 0);
	free(out);
	cr_assert_eq(dkim_base64_decode("aG k\r\n=", &out, &len, why, sizeof(why)), 0);
	free(out);
	cr_assert_eq(dkim_base64_decode("aGk=a", &out, &len, why, sizeof(why)), -1);
	cr_assert_eq(dkim_base64_decode("a", &out, &len, why, sizeof(why)), -1);
	cr_assert_eq(dkim_base64_decode("aGk===", &out, &len, why, sizeof(why)), -1);
}

Test(dkim_key, private_key_modulus_matches_its_public_key)
{
	struct dkim_key k;
	unsigned char *mod = NULL;
	size_t len = 0;
	char why[128];

	cr_assert_eq(dkim_rsa_private_modulus(PEM512, strlen(PEM512), &mod, &len, why,
	    sizeof(why)), 0, "%s", why);
	cr_assert_eq(parse("p=" RSA512, &k), 0);
	cr_assert_eq(len, k.modulus_len);
	cr_assert_eq(memcmp(mod, k.modulus, len), 0);
	dkim_key_release(&k);
	cr_assert_eq(parse("p=" RSA1024, &k), 0);
	cr_assert_neq(len, k.modulus_len, "another key's modulus differs");
	dkim_key_release(&k);
	free(mod);
	cr_assert_eq(dkim_rsa_private_modulus("no key here", 11, &mod, &len, why, sizeof(why)), -1);
}

Test(dkim_key, pkcs8_private_key_has_the_modulus_of_its_pkcs1_form)
{
	unsigned char *mod1 = NULL, *mod8 = NULL;
	size_t len1 = 0, len8 = 0;
	char why[128];

	cr_assert_eq(dkim_rsa_private_modulus(PEM512, strlen(PEM512), &mod1, &len1, why,
	    sizeof(why)), 0, "%s", why);
	cr_assert_eq(dkim_rsa_private_modulus(PEM512_PKCS8, strlen(PEM512_PKCS8), &mod8, &len8,
	    why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(len8, 64, "a 512-bit modulus is 64 octets, got %zu", len8);
	cr_assert_eq(len8, len1);
	cr_assert_eq(memcmp(mod8, mod1, len8), 0);
	free(mod1);
	free(mod8);
}

Test(dkim_key, pkcs8_private_key_of_another_algorithm_is_refused)
{
	unsigned char *mod = NULL;
	size_t len = 0;
	char why[128];

	cr_assert_eq(dkim_rsa_private_modulus(PEM_ED25519_PKCS8, strlen(PEM_ED25519_PKCS8), &mod,
	    &len, why, sizeof(why)), -1);
	cr_expect_str_eq(why, "the private key is not an RSA key");
	cr_expect_null(mod);
}

Test(dkim_key, bits_ignore_leading_zero_octets)
{
	static const unsigned char n[] = { 0x00, 0x00, 0x01, 0xff };

	cr_assert_eq(dkim_bits(n, sizeof(n)), 9);
	cr_assert_eq(dkim_bits(n, 2), 0);
}
