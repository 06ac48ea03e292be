/*
 * textnorm_priv.h - what textnorm's files share: the bounded output
 * buffer that collapses whitespace as it goes, UTF-8 decoding, and the
 * per-language word tables (textnorm_words.c).
 *
 * The one thing to know: everything is written through struct tnorm_out,
 * which never grows past the cap it was given and never emits two spaces
 * in a row, a leading or trailing space, or a control character other
 * than "\n".
 */
#ifndef TEXTNORM_PRIV_H
#define TEXTNORM_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tnorm_out {
	char *p;
	size_t len, alloc; /* alloc excludes the NUL */
	size_t cap;        /* the most it may ever hold, NUL excluded */
	bool overflow;     /* a write would have passed cap */
	bool nomem;        /* growing the buffer failed */
	bool pend_space;   /* whitespace seen since the last byte */
	unsigned pend_nl;  /* line breaks seen since the last byte */
	unsigned para_min; /* line breaks that make a paragraph break */
};

/* Starts a buffer that grows as needed up to cap bytes. 0 or -ENOMEM. */
int tnorm_out_init(struct tnorm_out *o, size_t cap, unsigned para_min);
/* One byte; ' ', '\t', '\n' and other controls count as whitespace. */
void tnorm_out_byte(struct tnorm_out *o, char c);
void tnorm_out_mem(struct tnorm_out *o, const char *s, size_t n);
void tnorm_out_str(struct tnorm_out *o, const char *s);
void tnorm_out_space(struct tnorm_out *o);
/*
 * Writes tpl with "{1}", "{2}", "{3}" replaced by a1..a3 (NULL is "").
 * Table templates are not printf formats, so no -Wformat-nonliteral.
 */
void tnorm_out_tpl(struct tnorm_out *o, const char *tpl, const char *a1,
                   const char *a2, const char *a3);
/* NUL-terminates and hands over the string; NULL (and the buffer freed)
 * if it overflowed or ran out of memory. */
char *tnorm_out_finish(struct tnorm_out *o);

/*
 * Decodes one UTF-8 sequence at s[*i] (n bytes in all) into *cp and
 * advances *i. false (and *i unchanged) if it is invalid: truncated, an
 * overlong form, a surrogate, above U+10FFFF or a stray continuation.
 */
bool tnorm_utf8_next(const unsigned char *s, size_t n, size_t *i, uint32_t *cp);

enum { TNORM_EN, TNORM_AF, TNORM_TN, TNORM_NLANGS };

/*
 * One language's words. Templates use "{1}".."{3}" (see each field).
 */
struct tnorm_lang {
	const char *code;
	int idx; /* TNORM_EN, ... : the column in the shared tables */
	/*
	 * The decimal point as written out. espeak-ng's af voice reads
	 * "2,5" as "twee vyf", so Afrikaans gets the word: "2 komma 5".
	 */
	const char *dec;
	const char *money;       /* {1} rand */
	const char *money_mult;  /* {1} amount, {2} million/billion/... */
	const char *money_cents; /* {1} rand, {2} cents */
	const char *mult[4];     /* thousand, million, billion, trillion */
	const char *percent;     /* {1} number */
	const char *unit;        /* {1} number, {2} unit word */
	const char *t_hour;      /* {1} hour, minutes 00 (24-hour) */
	const char *t_oclock;    /* {1} hour 1..12, minutes 00; or NULL */
	const char *t_hm;        /* {1} hour, {2} minutes 10..59 */
	const char *min_lead;    /* said before minutes 1..9, or NULL */
	const char *t_hour_p;    /* {1} hour, {3} am/pm word */
	const char *t_hm_p;      /* {1} hour, {2} minutes, {3} am/pm word */
	const char *am, *pm, *midnight;
	const char *date; /* {1} day, {2} month name, {3} year */
	const char *months[12];
	const char *and_w, *less, *greater, *percent_w;
	const char *hashtag, *at, *dot, *number;
};

/* Whole-word, case-sensitive replacements ("CoJ", "e.g."). */
struct tnorm_abbr {
	const char *tok;
	const char *word[TNORM_NLANGS]; /* NULL: as in English */
	bool need_digit;                /* only before a number ("No. 5") */
	bool keep_stop; /* the '.' also ends a sentence ("etc.") */
};

/* Units after a number ("12km", "25 °C"). */
struct tnorm_unit {
	const char *tok;
	bool attached;   /* only straight after the digits ("25C") */
	const char *one; /* English after exactly "1" */
	const char *word[TNORM_NLANGS];
};

const struct tnorm_lang *tnorm_lang_find(const char *code);

extern const struct tnorm_abbr tnorm_abbrs[];
extern const size_t tnorm_nabbrs;
extern const struct tnorm_unit tnorm_units[];
extern const size_t tnorm_nunits;
/* Words that make "R21" a road rather than an amount (lower case). */
extern const char *const tnorm_road_words[];
extern const size_t tnorm_nroad_words;
/* Top-level domains that let a bare "joburg.org.za" count as a host. */
extern const char *const tnorm_tlds[];
extern const size_t tnorm_ntlds;

/* The abbreviation-table word for a in lang. */
const char *tnorm_abbr_word(const struct tnorm_abbr *a,
                            const struct tnorm_lang *l);

#endif
