/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Object names on their way out: a name may hold any byte but '/' and NUL,
 * so what a terminal or a JSON parser gets must be escaped (names.c).
 */
#ifndef KSYNC_NAMES_H
#define KSYNC_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Room for any escaped name: each of KSYNC_NAME_MAX + 1 bytes as \xNN. */
#define NAME_ESCAPED_MAX (4 * 256 + 1)

/* escape_name() flags */
#define ESC_SPACE 1u /* --raw: a space as \x20 too, so that fields never hold one */
#define ESC_ASCII 2u /* every byte above 0x7f, for a terminal that is not UTF-8 */

/*
 * The length (1 to 4) of the one RFC 3629 UTF-8 sequence at s, and its
 * code point in *cp; 0 if s does not start one (a stray continuation byte,
 * an overlong form, a surrogate, past U+10FFFF, a lead byte C0, C1, F5-FF,
 * or a sequence cut short).  s is NUL-terminated.
 */
size_t utf8_seq(const unsigned char *s, unsigned int *cp);
bool utf8_valid(const char *s);

/* A bidi control, a zero-width or other invisible format character. */
bool invisible(unsigned int cp);

/*
 * s for a terminal: each byte of a C0 or C1 control (U+0080-U+009F as
 * well as raw bytes 0x80-0x9f), DEL, an invisible character, a backslash
 * and each byte that is not part of valid UTF-8 as \xNN.  Returns what escape_name() wrote (it
 * always NUL-terminates; out holds NAME_ESCAPED_MAX for a whole name).
 */
size_t escape_name(const char *s, char *out, size_t len, unsigned int flags);
/* The flags that suit the caller's locale: ESC_ASCII unless it is UTF-8. */
unsigned int term_flags(void);

/*
 * A JSON string of s, controls and invisible characters as \uXXXX; a
 * byte that is not valid UTF-8 becomes U+FFFD.
 */
void put_json_string(const char *s, FILE *f);
/*
 * A name as a JSON value: the name itself if it is valid UTF-8, else null
 * (JSON cannot carry its bytes, and anything else would name another).
 */
void put_json_name(const char *s, FILE *f);
/* Its bytes in hex, as a JSON string: exact for every name. */
void put_json_hex(const char *s, FILE *f);

#endif
