// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Object names for terminals and for JSON.  Any user may name an object
 * that everyone lists, so a name must never reach a terminal as a control
 * (a C1 CSI, U+009B or byte 0x9b, starts an escape sequence in xterm and
 * VTE) nor make a JSON document that strict parsers refuse.
 */
#include <langinfo.h>
#include <locale.h>
#include <string.h>

#include "cli.h"
#include "names.h"

size_t utf8_seq(const unsigned char *s, unsigned int *cp)
{
	unsigned int c = s[0], min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, min = 0x80, c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, min = 0x800, c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	/* a NUL is no continuation byte: a sequence cut short ends here */
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int cp;
	size_t n;

	for (; *p; p += n)
		if (!(n = utf8_seq(p, &cp)))
			return false;
	return true;
}

/*
 * Characters that show nothing or move what follows: bidirectional
 * embeddings, overrides and isolates (U+202E shows "/evil\u202Etxt.exe"
 * as "/evilexe.txt"), zero-width and other format characters, the line
 * and paragraph separators, and the tags.  Another user's name must not
 * hide from, or pose as, what a listing shows.
 */
bool invisible(unsigned int cp)
{
	static const unsigned int ranges[][2] = {
		{ 0x00ad, 0x00ad }, { 0x034f, 0x034f }, { 0x061c, 0x061c },   { 0x115f, 0x1160 },
		{ 0x17b4, 0x17b5 }, { 0x180b, 0x180f }, { 0x200b, 0x200f },   { 0x2028, 0x202e },
		{ 0x2060, 0x206f }, { 0x3164, 0x3164 }, { 0xfe00, 0xfe0f },   { 0xfeff, 0xfeff },
		{ 0xffa0, 0xffa0 }, { 0xfff0, 0xfffb }, { 0x1d173, 0x1d17a }, { 0xe0000, 0xe0fff },
	};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (cp >= ranges[i][0] && cp <= ranges[i][1])
			return true;
	return false;
}

static bool escaped(unsigned int cp, size_t n, unsigned int flags)
{
	if (!n || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == '\\' || invisible(cp))
		return true;
	return (cp == ' ' && flags & ESC_SPACE) || (n > 1 && flags & ESC_ASCII);
}

size_t escape_name(const char *s, char *out, size_t len, unsigned int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t at = 0;

	if (!len)
		return 0;
	while (*p) {
		unsigned int cp = 0;
		size_t n = utf8_seq(p, &cp);
		size_t take = n ? n : 1;

		if (escaped(cp, n, flags)) {
			for (size_t i = 0; i < take && at + 5 <= len; i++, at += 4)
				snprintf(out + at, 5, "\\x%02x", p[i]);
		} else if (at + take < len) {
			memcpy(out + at, p, take);
			at += take;
		}
		p += take;
	}
	out[at < len ? at : len - 1] = 0;
	return at;
}

/*
 * A terminal in a locale that is not UTF-8 may take each byte above 0x7f
 * for a character of its own, and 0x80-0x9f for a C1 control: only ASCII
 * is safe there.  The command does not set its locale otherwise.
 */
unsigned int term_flags(void)
{
	static int utf8 = -1;

	if (utf8 < 0) {
		locale_t l = newlocale(LC_CTYPE_MASK, "", (locale_t)0);

		utf8 = l && !strcmp(nl_langinfo_l(CODESET, l), "UTF-8");
		if (l)
			freelocale(l);
	}
	return utf8 ? 0 : ESC_ASCII;
}

void put_name(const char *s, FILE *f)
{
	char buf[NAME_ESCAPED_MAX];

	escape_name(s, buf, sizeof(buf), term_flags());
	fputs(buf, f);
}

/*
 * C1 controls and the invisible characters as \uXXXX too (a surrogate
 * pair past U+FFFF): the document may well be read on a terminal, and
 * the escape decodes to the same character.
 */
void put_json_string(const char *s, FILE *f)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int cp;
	size_t n;

	fputc('"', f);
	for (; *p; p += n ? n : 1) {
		n = utf8_seq(p, &cp);
		if (!n)
			fputs("\\ufffd", f); /* an owner's name, perhaps: not ours */
		else if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", cp);
		else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (invisible(cp) && cp < 0x10000))
			fprintf(f, "\\u%04x", cp);
		else if (invisible(cp))
			fprintf(f, "\\u%04x\\u%04x", 0xd800 + ((cp - 0x10000) >> 10),
				0xdc00 + ((cp - 0x10000) & 0x3ff));
		else
			fwrite(p, 1, n, f);
	}
	fputc('"', f);
}

void put_json_name(const char *s, FILE *f)
{
	if (utf8_valid(s))
		put_json_string(s, f);
	else
		fputs("null", f);
}

void put_json_hex(const char *s, FILE *f)
{
	fputc('"', f);
	for (; *s; s++)
		fprintf(f, "%02x", (unsigned char)*s);
	fputc('"', f);
}
