/*
 * textnorm_speech.c - clean bulletin text rewritten into words espeak-ng
 * reads well, in English, Afrikaans or Setswana.
 *
 * The one thing to know: rules fire only at the start of a token (the
 * byte before is not a letter, digit or UTF-8 byte), so nothing inside a
 * word is ever rewritten; text no rule claims is copied through, except
 * for the symbols below. The rules, tried in this order at a token start:
 *
 *  - URLs and e-mail: "https://www.joburg.org.za/water?x=1" and a bare
 *    "joburg.org.za" (last label a known TLD) read their host only, with
 *    "dot" between labels; "info@joburg.org.za" is "info at joburg dot
 *    org dot za". The scheme, "www.", port, path and query are dropped.
 *  - "#LoadShedding" is "hashtag Load Shedding", "@CityofJoburg" is "at
 *    City of Joburg": CamelCase, digit runs and '_' split the words, an
 *    "of" glued to the end of a capitalised part before another is split
 *    off, and each part goes through the abbreviation table. "#5" is
 *    "number 5".
 *  - Rand amounts: "R" + digits, with ',' or ' ' thousands groups ("R10
 *    000", "R10,000"), a decimal '.' or ',' ("R2.5m", "R2,5m"), and a
 *    multiplier k/thousand, m/mil/mln/million, bn/b/billion, tn/trillion
 *    (or af duisend, miljoen, miljard, biljoen) attached or after one
 *    space. Two decimals without a multiplier are
 *    cents: "R12.50" is "12 rand 50 cents". The amount must end the
 *    token. A road is not an amount: "R" + 1-3 digits followed by a road
 *    word (highway, road, freeway, ... see tnorm_road_words) is read
 *    "R 21", as are "N1" and "M2" always.
 *  - The abbreviation table (case-sensitive whole tokens: "CoJ", "JMPD",
 *    "e.g.", "etc.", "No." before a number).
 *  - Dates, day first as in South Africa: "2026-12-01", "1/12/2026",
 *    "01.12.2026", "01-12-2026" are "1 December 2026"; a date that does
 *    not exist stays exactly as typed.
 *  - Times: "14:30" or "14h30" (24-hour) are "14 30", "14:05" is "14 oh
 *    5", "14:00" is "14 hundred", "9:00" is "9 o'clock", "00:00" is
 *    "midnight" (af "14 uur 30", tn "ura ya 14 le metsotso e le 30");
 *    "9am", "9 a.m.", "9:30 pm" are "9 a m", "9 30 p m".
 *  - Numbers: thousands commas dropped ("1,500" is "1500"), the decimal
 *    point made the language's ("2.5" in en and tn, "2 komma 5" in af,
 *    as espeak-ng's af voice skips a comma), then "%" ("15 percent")
 *    or a unit from tnorm_units ("12km" is "12 kilometres"). Numbers with
 *    two or more dots (versions, addresses) are copied as typed.
 *
 * Symbols: '&' is "and" (af "en", tn "le"); '<' and '>' are words; '%'
 * elsewhere is "percent"; * _ | ~ ^ = [ ] { } \ ` and '/' become spaces.
 */
#include "textnorm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "textnorm_priv.h"

struct ctx {
	const char *s; /* NUL-terminated, so s[n] may be read */
	size_t n;
	const struct tnorm_lang *l;
	struct tnorm_out *o;
};

struct num {
	char ip[24];   /* integer digits, no separators */
	char fp[16];   /* fraction digits, or "" */
	char text[64]; /* as written out: ip, the decimal point, fp */
	size_t end;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_alpha(char c)
{
	return is_upper(c) || is_lower(c);
}

static bool is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

static bool is_word(char c)
{
	return is_alnum(c) || (unsigned char)c >= 0x80;
}

static size_t count_digits(const char *s, size_t j)
{
	size_t k = 0;

	while (is_digit(s[j + k]))
		k++;
	return k;
}

/* The value of n digits at s (n <= 9). */
static unsigned digits_val(const char *s, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

/*
 * A number at s[i]: false if there is none, or it runs on into more
 * dotted digits ("1.2.3", "10.0.0.1"), which are not one number.
 */
static bool parse_num(const struct ctx *c, size_t i, bool space_groups,
                      struct num *nm)
{
	const char *s = c->s;
	size_t d = count_digits(s, i), j = i + d, k;
	char sep = 0;

	if (d == 0 || d > 15)
		return false;
	memcpy(nm->ip, s + i, d);
	nm->ip[d] = '\0';
	nm->fp[0] = '\0';
	while (d <= 3 || sep) {
		char ch = s[j];

		if (!(ch == ',' || (space_groups && ch == ' ')) ||
		    (sep && sep != ch) || count_digits(s, j + 1) != 3 ||
		    strlen(nm->ip) + 3 >= sizeof(nm->ip))
			break;
		strncat(nm->ip, s + j + 1, 3);
		sep = ch;
		j += 4;
	}
	if ((s[j] == '.' || (s[j] == ',' && sep != ',')) &&
	    is_digit(s[j + 1])) {
		k = count_digits(s, j + 1);
		if ((s[j] == '.' || k <= 2) && k < sizeof(nm->fp)) {
			memcpy(nm->fp, s + j + 1, k);
			nm->fp[k] = '\0';
			j += 1 + k;
			if (s[j] == '.' && is_digit(s[j + 1]))
				return false;
		}
	}
	snprintf(nm->text, sizeof(nm->text), "%s%s%s", nm->ip,
	         nm->fp[0] ? c->l->dec : "", nm->fp);
	nm->end = j;
	return true;
}

/* Ends a sentence where a consumed '.' did ("etc.", "a.m."). */
static void keep_stop(const struct ctx *c, size_t end)
{
	const char *s = c->s;

	if (!s[end] || s[end] == '\n' ||
	    (s[end] == ' ' && is_upper(s[end + 1])))
		tnorm_out_byte(c->o, '.');
}

static bool is_label(char ch)
{
	return is_alnum(ch) || ch == '-';
}

/*
 * Host labels from s[j]: how many (0 if none, or longer than a DNS name
 * may be, which also keeps "a.a.a.a..." linear), where they end, where
 * the last starts.
 */
static size_t parse_host(const char *s, size_t j, size_t *end, size_t *last)
{
	size_t labels = 0, start = j;

	while (is_label(s[j])) {
		*last = j;
		while (is_label(s[j]) && j - start <= 253)
			j++;
		if (j - start > 253)
			return 0;
		labels++;
		if (s[j] != '.' || !is_label(s[j + 1]))
			break;
		j++;
	}
	*end = j;
	return labels;
}

static bool known_tld(const char *s, size_t b, size_t e)
{
	for (size_t i = 0; i < tnorm_ntlds; i++)
		if (strlen(tnorm_tlds[i]) == e - b &&
		    memcmp(s + b, tnorm_tlds[i], e - b) == 0)
			return true;
	return false;
}

static bool all_alpha(const char *s, size_t b, size_t e)
{
	for (size_t i = b; i < e; i++)
		if (!is_alpha(s[i]))
			return false;
	return e > b;
}

/* Writes s[b..e) with '.' read as the dot word, '-' '_' '+' as spaces. */
static void say_dotted(const struct ctx *c, size_t b, size_t e)
{
	for (size_t i = b; i < e; i++) {
		char ch = c->s[i];

		if (ch == '.') {
			tnorm_out_space(c->o);
			tnorm_out_str(c->o, c->l->dot);
			tnorm_out_space(c->o);
		} else if (ch == '-' || ch == '_' || ch == '+' || ch == '%') {
			tnorm_out_space(c->o);
		} else {
			tnorm_out_byte(c->o, ch);
		}
	}
}

static size_t r_url(const struct ctx *c, size_t i)
{
	const char *s = c->s;
	size_t j = i, end, last = 0, labels, k;
	bool scheme = false, www = false;

	if (strncasecmp(s + j, "https://", 8) == 0)
		j += 8, scheme = true;
	else if (strncasecmp(s + j, "http://", 7) == 0)
		j += 7, scheme = true;
	if (!scheme) {
		/* An e-mail local part is at most 64 bytes. */
		for (k = j; k - j <= 64 && s[k] &&
		            (is_alnum(s[k]) || strchr("._%+-", s[k]));
		     k++)
			;
		if (k > j && s[k] == '@' && is_alnum(s[k - 1])) {
			labels = parse_host(s, k + 1, &end, &last);
			if (labels < 2 || !all_alpha(s, last, end) ||
			    is_word(s[end]) || s[end] == '@')
				return 0;
			say_dotted(c, j, k);
			tnorm_out_space(c->o);
			tnorm_out_str(c->o, c->l->at);
			tnorm_out_space(c->o);
			say_dotted(c, k + 1, end);
			return end - i;
		}
	}
	if (strncasecmp(s + j, "www.", 4) == 0 && is_label(s[j + 4]))
		j += 4, www = true;
	labels = parse_host(s, j, &end, &last);
	if (labels == 0 || is_word(s[end]) || s[end] == '@')
		return 0;
	if (!scheme && !www &&
	    (labels < 2 || !all_alpha(s, last, end) ||
	     !known_tld(s, last, end) || !is_alnum(s[j])))
		return 0;
	say_dotted(c, j, end);
	k = end;
	if (scheme && s[k] == ':' && is_digit(s[k + 1]))
		k += 1 + count_digits(s, k + 1);
	if (s[k] == '/' || s[k] == '?' || s[k] == '#') {
		while (s[k] && s[k] != ' ' && s[k] != '\n' && s[k] != '<' &&
		       s[k] != '>' && s[k] != '"')
			k++;
		/* Punctuation after a path belongs to the sentence. */
		while (k > end + 1 && strchr(".,;:!?)'", s[k - 1]))
			k--;
	}
	return k - i;
}

static const struct tnorm_abbr *find_abbr(const char *s, size_t len)
{
	for (size_t a = 0; a < tnorm_nabbrs; a++)
		if (strlen(tnorm_abbrs[a].tok) == len &&
		    memcmp(tnorm_abbrs[a].tok, s, len) == 0)
			return &tnorm_abbrs[a];
	return NULL;
}

/* One part of a hashtag or handle. */
static void say_part(const struct ctx *c, size_t b, size_t e, bool more)
{
	const char *s = c->s;
	const struct tnorm_abbr *a = find_abbr(s + b, e - b);
	size_t k;

	tnorm_out_space(c->o);
	if (a && !a->need_digit) {
		tnorm_out_str(c->o, tnorm_abbr_word(a, c->l));
		return;
	}
	/* "Cityof" + "Joburg": the "of" is a word of its own. */
	for (k = b + 1; k < e && is_lower(s[k]); k++)
		;
	if (more && k == e && e - b >= 5 && is_upper(s[b]) && s[e - 2] == 'o' &&
	    s[e - 1] == 'f') {
		tnorm_out_mem(c->o, s + b, e - b - 2);
		tnorm_out_str(c->o, " of");
		return;
	}
	tnorm_out_mem(c->o, s + b, e - b);
}

static bool part_break(const char *s, size_t p, size_t e)
{
	char a = s[p - 1], b = s[p];

	return (is_lower(a) && is_upper(b)) || (is_digit(a) != is_digit(b)) ||
	       (is_upper(a) && is_upper(b) && p + 1 < e && is_lower(s[p + 1]));
}

static size_t r_tag(const struct ctx *c, size_t i)
{
	const char *s = c->s;
	size_t b = i + 1, e = b, p, seg;

	while (is_alnum(s[e]) || s[e] == '_')
		e++;
	if (e == b || is_word(s[e]))
		return 0;
	if (s[i] == '#' && count_digits(s, b) == e - b) {
		tnorm_out_str(c->o, c->l->number);
		tnorm_out_space(c->o);
		tnorm_out_mem(c->o, s + b, e - b);
		return e - i;
	}
	tnorm_out_str(c->o, s[i] == '#' ? c->l->hashtag : c->l->at);
	seg = b;
	for (p = b; p <= e; p++) {
		bool cut =
		    p == e || s[p] == '_' || (p > seg && part_break(s, p, e));

		if (!cut)
			continue;
		if (p > seg)
			say_part(c, seg, p, p < e && is_upper(s[p]));
		seg = (p < e && s[p] == '_') ? p + 1 : p;
	}
	return e - i;
}

static size_t r_abbr(const struct ctx *c, size_t i)
{
	const char *s = c->s;

	for (size_t a = 0; a < tnorm_nabbrs; a++) {
		const struct tnorm_abbr *ab = &tnorm_abbrs[a];
		size_t tl = strlen(ab->tok), k;

		if (strncmp(s + i, ab->tok, tl) != 0)
			continue;
		/* "No.7" is fine; "e.g.x" and "CoJx" are not the token. */
		if (ab->tok[tl - 1] == '.'
		        ? is_alpha(s[i + tl]) ||
		              (is_digit(s[i + tl]) && !ab->need_digit)
		        : is_word(s[i + tl]))
			continue;
		k = i + tl + (s[i + tl] == ' ');
		if (ab->need_digit && !is_digit(s[k]))
			continue;
		tnorm_out_str(c->o, tnorm_abbr_word(ab, c->l));
		if (ab->need_digit)
			tnorm_out_space(c->o);
		if (ab->keep_stop)
			keep_stop(c, i + tl);
		return tl;
	}
	return 0;
}

static bool is_road_word(const char *s, size_t j)
{
	for (size_t w = 0; w < tnorm_nroad_words; w++) {
		size_t wl = strlen(tnorm_road_words[w]);

		if (strncasecmp(s + j, tnorm_road_words[w], wl) == 0 &&
		    !is_alpha(s[j + wl]))
			return true;
	}
	return false;
}

/* "N1", "M2", and "R21" before a road word: the letter, then the number. */
static size_t r_road(const struct ctx *c, size_t i)
{
	const char *s = c->s;
	size_t d = count_digits(s, i + 1);

	if (d == 0 || d > 3 || is_word(s[i + 1 + d]))
		return 0;
	if (s[i] == 'R' && !(s[i + 1 + d] == ' ' && is_road_word(s, i + 2 + d)))
		return 0;
	tnorm_out_byte(c->o, s[i]);
	tnorm_out_space(c->o);
	tnorm_out_mem(c->o, s + i + 1, d);
	return 1 + d;
}

static const struct {
	const char *w;
	int mult; /* index into tnorm_lang.mult */
} multipliers[] = {
    {"thousand", 0},
    {"k", 0},
    {"million", 1},
    {"mln", 1},
    {"mil", 1},
    {"m", 1},
    {"billion", 2},
    {"bn", 2},
    {"b", 2},
    {"trillion", 3},
    {"tn", 3},
    /* Afrikaans as typed: a "miljard" is 10^9, a "biljoen" 10^12. */
    {"duisend", 0},
    {"miljoen", 1},
    {"miljard", 2},
    {"biljoen", 3},
};

static size_t r_amount(const struct ctx *c, size_t i)
{
	const char *s = c->s;
	struct num nm;
	size_t end, m;
	int mult = -1;

	if (!is_digit(s[i + 1]) || !parse_num(c, i + 1, true, &nm))
		return 0;
	end = nm.end;
	for (m = 0; m < sizeof(multipliers) / sizeof(multipliers[0]); m++) {
		size_t k = end + (s[end] == ' '), wl = strlen(multipliers[m].w);

		if (strncasecmp(s + k, multipliers[m].w, wl) == 0 &&
		    !is_word(s[k + wl])) {
			mult = multipliers[m].mult;
			end = k + wl;
			break;
		}
	}
	if (is_word(s[end]))
		return 0;
	if (mult >= 0) {
		tnorm_out_tpl(c->o, c->l->money_mult, nm.text, c->l->mult[mult],
		              NULL);
	} else if (nm.fp[0] && strlen(nm.fp) <= 2) {
		unsigned cents = digits_val(nm.fp, strlen(nm.fp));
		char cs[12];

		cents *= nm.fp[1] ? 1 : 10;
		snprintf(cs, sizeof(cs), "%u", cents);
		if (cents)
			tnorm_out_tpl(c->o, c->l->money_cents, nm.ip, cs, NULL);
		else
			tnorm_out_tpl(c->o, c->l->money, nm.ip, NULL, NULL);
	} else {
		tnorm_out_tpl(c->o, c->l->money, nm.text, NULL, NULL);
	}
	return end - i;
}

static bool leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool date_ok(unsigned y, unsigned m, unsigned d)
{
	static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30,
	                                   31, 31, 30, 31, 30, 31};

	if (m < 1 || m > 12 || d < 1)
		return false;
	return d <= mdays[m - 1] + (m == 2 && leap(y));
}

static size_t r_date(const struct ctx *c, size_t i)
{
	const char *s = c->s;
	size_t a = count_digits(s, i), b, e, end;
	unsigned y, m, d;
	char sep = s[i + a], ds[12], ys[12];

	if (!(sep == '-' || sep == '/' || sep == '.'))
		return 0;
	b = count_digits(s, i + a + 1);
	if (b < 1 || b > 2 || s[i + a + 1 + b] != sep)
		return 0;
	e = count_digits(s, i + a + b + 2);
	end = i + a + b + 2 + e;
	if (is_word(s[end]))
		return 0;
	m = digits_val(s + i + a + 1, b);
	if (a == 4 && sep == '-' && e >= 1 && e <= 2) {
		y = digits_val(s + i, 4);
		d = digits_val(s + end - e, e);
	} else if (a >= 1 && a <= 2 && e == 4) {
		d = digits_val(s + i, a);
		y = digits_val(s + end - 4, 4);
	} else {
		return 0;
	}
	if (!date_ok(y, m, d)) {
		tnorm_out_mem(c->o, s + i, end - i); /* as typed */
		return end - i;
	}
	snprintf(ds, sizeof(ds), "%u", d);
	snprintf(ys, sizeof(ys), "%u", y);
	tnorm_out_tpl(c->o, c->l->date, ds, c->l->months[m - 1], ys);
	return end - i;
}

/* "am", "a.m.", " pm", ...: the index after it, or 0; *pm says which. */
static size_t parse_ampm(const char *s, size_t j, bool *pm, bool *dotted)
{
	size_t k = j + (s[j] == ' ');
	char ch = s[k];

	if (ch != 'a' && ch != 'A' && ch != 'p' && ch != 'P')
		return 0;
	*pm = ch == 'p' || ch == 'P';
	*dotted = false;
	if ((s[k + 1] == 'm' || s[k + 1] == 'M') && !is_word(s[k + 2]))
		return k + 2;
	if (s[k + 1] == '.' && (s[k + 2] == 'm' || s[k + 2] == 'M')) {
		k += 3;
		if (s[k] == '.')
			k++, *dotted = true;
		return is_word(s[k]) ? 0 : k;
	}
	return 0;
}

static void say_time(const struct ctx *c, unsigned h, unsigned m, int ampm)
{
	const struct tnorm_lang *l = c->l;
	char hs[12], ms[32];
	const char *p = ampm < 0 ? NULL : ampm ? l->pm : l->am;

	snprintf(hs, sizeof(hs), "%u", h);
	if (m < 10 && l->min_lead)
		snprintf(ms, sizeof(ms), "%s %u", l->min_lead, m);
	else
		snprintf(ms, sizeof(ms), "%u", m);
	if (p)
		tnorm_out_tpl(c->o, m ? l->t_hm_p : l->t_hour_p, hs, ms, p);
	else if (m)
		tnorm_out_tpl(c->o, l->t_hm, hs, ms, NULL);
	else if (h == 0)
		tnorm_out_str(c->o, l->midnight);
	else if (l->t_oclock && h <= 12)
		tnorm_out_tpl(c->o, l->t_oclock, hs, NULL, NULL);
	else
		tnorm_out_tpl(c->o, l->t_hour, hs, NULL, NULL);
}

static size_t r_time(const struct ctx *c, size_t i)
{
	const char *s = c->s;
	size_t a = count_digits(s, i), end, k;
	unsigned h, m;
	bool pm, dotted;
	char sep = s[i + a];

	if (a < 1 || a > 2 || (sep != ':' && sep != 'h') ||
	    count_digits(s, i + a + 1) != 2)
		return 0;
	end = i + a + 3;
	h = digits_val(s + i, a);
	m = digits_val(s + i + a + 1, 2);
	if (h > 23 || m > 59 || (s[end] == ':' && is_digit(s[end + 1])))
		return 0;
	k = parse_ampm(s, end, &pm, &dotted);
	if (k && h >= 1 && h <= 12) {
		say_time(c, h, m, pm);
		if (dotted)
			keep_stop(c, k);
		return k - i;
	}
	if (is_word(s[end]))
		return 0;
	say_time(c, h, m, -1);
	return end - i;
}

static const struct tnorm_unit *find_unit(const char *s, size_t end,
                                          size_t *after)
{
	for (size_t u = 0; u < tnorm_nunits; u++) {
		const struct tnorm_unit *un = &tnorm_units[u];
		size_t tl = strlen(un->tok);

		for (size_t k = end; k <= end + 1; k++) {
			if (k > end && (s[end] != ' ' || un->attached))
				break;
			if (strncmp(s + k, un->tok, tl) == 0 &&
			    !is_alnum(s[k + tl])) {
				*after = k + tl;
				return un;
			}
		}
	}
	return NULL;
}

static size_t r_number(const struct ctx *c, size_t i)
{
	const char *s = c->s;
	const struct tnorm_unit *un;
	struct num nm;
	size_t end, k;
	bool pm, dotted;

	if (!parse_num(c, i, false, &nm)) {
		for (k = i; is_digit(s[k]) || s[k] == '.'; k++)
			;
		tnorm_out_mem(c->o, s + i, k - i); /* "1.2.3" as typed */
		return k - i;
	}
	end = nm.end;
	k = end + (s[end] == ' ');
	if (s[k] == '%') {
		tnorm_out_tpl(c->o, c->l->percent, nm.text, NULL, NULL);
		return k + 1 - i;
	}
	if (!nm.fp[0] && strlen(nm.ip) <= 2) {
		unsigned h = digits_val(nm.ip, strlen(nm.ip));

		k = parse_ampm(s, end, &pm, &dotted);
		if (k && h >= 1 && h <= 12) {
			say_time(c, h, 0, pm);
			if (dotted)
				keep_stop(c, k);
			return k - i;
		}
	}
	un = find_unit(s, end, &k);
	if (un) {
		const char *w = un->word[c->l->idx];

		if (c->l->idx == TNORM_EN && strcmp(nm.text, "1") == 0)
			w = un->one;
		tnorm_out_tpl(c->o, c->l->unit, nm.text, w, NULL);
		return k - i;
	}
	if (is_word(s[end])) {
		for (k = end; is_word(s[k]); k++)
			;
		tnorm_out_mem(c->o, s + i, k - i); /* "3rd", "5G" */
		return k - i;
	}
	tnorm_out_str(c->o, nm.text);
	return end - i;
}

static void say_word(const struct ctx *c, const char *w)
{
	tnorm_out_space(c->o);
	tnorm_out_str(c->o, w);
	tnorm_out_space(c->o);
}

/* A byte no rule claimed. */
static void say_char(const struct ctx *c, char ch)
{
	if (ch == '&')
		say_word(c, c->l->and_w);
	else if (ch == '<')
		say_word(c, c->l->less);
	else if (ch == '>')
		say_word(c, c->l->greater);
	else if (ch == '%')
		say_word(c, c->l->percent_w);
	else if (ch && strchr("*_|~^=[]{}\\`/", ch))
		tnorm_out_space(c->o);
	else
		tnorm_out_byte(c->o, ch); /* controls become spaces there */
}

static size_t at_token(const struct ctx *c, size_t i)
{
	char ch = c->s[i];
	size_t used = 0;

	if (is_alnum(ch))
		used = r_url(c, i);
	if (!used && (ch == '#' || ch == '@'))
		used = r_tag(c, i);
	if (!used && (ch == 'R' || ch == 'N' || ch == 'M'))
		used = r_road(c, i);
	if (!used && ch == 'R')
		used = r_amount(c, i);
	if (!used && is_alpha(ch))
		used = r_abbr(c, i);
	if (!used && is_digit(ch))
		used = r_date(c, i);
	if (!used && is_digit(ch))
		used = r_time(c, i);
	if (!used && is_digit(ch))
		used = r_number(c, i);
	return used;
}

int textnorm_speech(const char *clean, const char *lang, char **out)
{
	struct tnorm_out o;
	struct ctx c;
	size_t i = 0;
	uint32_t cp;
	int rc;

	*out = NULL;
	c.l = tnorm_lang_find(lang);
	if (!c.l || !clean)
		return -ERR_INVALID;
	c.s = clean;
	c.n = strlen(clean);
	while (i < c.n)
		if (!tnorm_utf8_next((const unsigned char *)clean, c.n, &i,
		                     &cp))
			return -ERR_INVALID;
	rc = tnorm_out_init(&o, TEXTNORM_SPEECH_MAX(c.n), 1);
	if (rc < 0)
		return rc;
	c.o = &o;
	for (i = 0; i < c.n && !o.overflow && !o.nomem;) {
		size_t used = 0;

		if (i == 0 || !is_word(clean[i - 1]))
			used = at_token(&c, i);
		if (used) {
			i += used;
		} else {
			say_char(&c, clean[i]);
			i++;
		}
	}
	rc = o.nomem ? -ENOMEM : o.overflow ? -ERR_INVALID : 0;
	*out = tnorm_out_finish(&o);
	if (rc == 0 && !**out)
		rc = -ERR_INVALID; /* nothing left to say */
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}
