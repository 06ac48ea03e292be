/*
 * test_textnorm.c - bulletin text cleaning and speech rewriting: exact
 * outputs per rule and language, hostile input, and real espeak-ng.
 */
#include "textnorm.h"

#include "err.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

struct speech_case {
	const char *lang, *in, *want;
};

/* Input as typed, through textnorm_clean() then textnorm_speech(). */
static const struct speech_case speech_cases[] = {
    /* Amounts */
    {"en", "R350", "350 rand"},
    {"en", "It costs R350.", "It costs 350 rand."},
    {"en", "R2.5m", "2.5 million rand"},
    {"en", "R2,5m", "2.5 million rand"},
    {"en", "R2.5 million", "2.5 million rand"},
    {"en", "R2.5M budget", "2.5 million rand budget"},
    {"en", "R1.2bn", "1.2 billion rand"},
    {"en", "R1.2 billion", "1.2 billion rand"},
    {"en", "R10 000", "10000 rand"},
    {"en", "R10,000", "10000 rand"},
    {"en", "R1,250,000 owed", "1250000 rand owed"},
    {"en", "R5k", "5 thousand rand"},
    {"en", "R12.50", "12 rand 50 cents"},
    {"en", "R12.5", "12 rand 50 cents"},
    {"en", "R12.05", "12 rand 5 cents"},
    {"en", "R12.00", "12 rand"},
    {"en", "(R350)", "(350 rand)"},
    {"en", "R21 highway", "R 21 highway"},
    {"en", "the R21 Highway and R24 freeway",
     "the R 21 Highway and R 24 freeway"},
    {"en", "R21", "21 rand"},
    {"en", "Road closed", "Road closed"},
    {"en", "R350abc", "R350abc"},
    {"af", "R350", "350 rand"},
    {"af", "R2.5m", "2 komma 5 miljoen rand"},
    {"af", "R2,5 miljoen", "2 komma 5 miljoen rand"},
    {"af", "R3 miljard", "3 miljard rand"},
    {"af", "R1.2bn", "1 komma 2 miljard rand"},
    {"af", "R5k", "5 duisend rand"},
    {"af", "R12.50", "12 rand 50 sent"},
    {"af", "R10 000", "10000 rand"},
    {"tn", "R350", "diranta di le 350"},
    {"tn", "R2.5m", "dimilione di le 2.5 tsa diranta"},
    {"tn", "R1.2 billion", "dibilione di le 1.2 tsa diranta"},
    {"tn", "R5k", "dikete di le 5 tsa diranta"},
    {"tn", "R12.50", "diranta di le 12 le disente di le 50"},
    /* Times */
    {"en", "14:30", "14 30"},
    {"en", "14h30", "14 30"},
    {"en", "14:00", "14 hundred"},
    {"en", "14:05", "14 oh 5"},
    {"en", "09:00", "9 o'clock"},
    {"en", "00:00", "midnight"},
    {"en", "9am", "9 a m"},
    {"en", "9 a.m. Residents", "9 a m. Residents"},
    {"en", "9 a.m. to 5 p.m.", "9 a m to 5 p m."},
    {"en", "2pm", "2 p m"},
    {"en", "9:30 pm", "9 30 p m"},
    {"en", "25:99", "25:99"},
    {"en", "14:30:15", "14:30:15"},
    {"af", "14:30", "14 uur 30"},
    {"af", "14:00", "14 uur"},
    {"af", "9am", "9 uur voormiddag"},
    {"af", "00:00", "middernag"},
    {"tn", "14:30", "ura ya 14 le metsotso e le 30"},
    {"tn", "14:00", "ura ya 14"},
    {"tn", "2pm", "ura ya 2 mo tshokologong"},
    /* Dates */
    {"en", "2026-12-01", "1 December 2026"},
    {"en", "1/12/2026", "1 December 2026"},
    {"en", "01.12.2026", "1 December 2026"},
    {"en", "On 29/02/2028.", "On 29 February 2028."},
    {"en", "2026-13-45", "2026-13-45"},
    {"en", "29/02/2027", "29/02/2027"},
    {"en", "31.04.2026", "31.04.2026"},
    {"af", "2026-12-01", "1 Desember 2026"},
    {"af", "15/3/2026", "15 Maart 2026"},
    {"tn", "2026-12-01", "1 Sedimonthole 2026"},
    {"tn", "01.06.2026", "1 Seetebosigo 2026"},
    {"tn", "2026-01-05", "5 Ferikgong 2026"},
    /* Percentages */
    {"en", "15%", "15 percent"},
    {"en", "2.5%", "2.5 percent"},
    {"en", "15 %", "15 percent"},
    {"af", "15%", "15 persent"},
    {"af", "2.5%", "2 komma 5 persent"},
    {"tn", "15%", "15 phesente"},
    /* Units */
    {"en", "12km", "12 kilometres"},
    {"en", "12 km", "12 kilometres"},
    {"en", "1 km", "1 kilometre"},
    {"en", "80km/h", "80 kilometres per hour"},
    {"en", "45mm of rain", "45 millimetres of rain"},
    {"en",
     "25\xc2\xb0"
     "C",
     "25 degrees Celsius"},
    {"en", "25C", "25 degrees Celsius"},
    {"en", "2.5 km", "2.5 kilometres"},
    {"en", "a 5 C grade", "a 5 C grade"},
    {"en", "1,500 people", "1500 people"},
    {"en", "3rd and 5G", "3rd and 5G"},
    {"en", "version 1.2.3", "version 1.2.3"},
    {"af", "12km", "12 kilometer"},
    {"af", "80 km/h", "80 kilometer per uur"},
    {"af",
     "25\xc2\xb0"
     "C",
     "25 grade Celsius"},
    {"af", "2.5 mm", "2 komma 5 millimeter"},
    {"tn", "12km", "dikilometara di le 12"},
    {"tn", "30 mm", "dimilimitara di le 30"},
    /* Abbreviations */
    {"en", "CoJ", "City of Johannesburg"},
    {"en", "JMPD and SAPS", "J M P D and S A P S"},
    {"en", "Eskom in Joburg CBD", "Eskom in Joburg C B D"},
    {"en", "N1 south", "N 1 south"},
    {"en", "e.g. Soweto", "for example Soweto"},
    {"en", "i.e. today", "that is today"},
    {"en", "pipes, etc.", "pipes, etcetera."},
    {"en", "No. 5", "number 5"},
    {"en", "No.7", "number 7"},
    {"en", "No way", "No way"},
    {"en", "St Andrews St", "St Andrews St"},
    {"en", "CoJs JMPDx", "CoJs JMPDx"},
    {"af", "CoJ", "Stad Johannesburg"},
    {"af", "e.g. Soweto", "byvoorbeeld Soweto"},
    {"af", "No. 5", "nommer 5"},
    {"tn", "e.g. Soweto", "sekai Soweto"},
    {"tn", "JMPD", "J M P D"},
    /* URLs, e-mail */
    {"en", "https://www.joburg.org.za/water?x=1", "joburg dot org dot za"},
    {"en", "Visit joburg.org.za.", "Visit joburg dot org dot za."},
    {"en", "See http://joburg.org.za/a/b, then",
     "See joburg dot org dot za, then"},
    {"en", "info@joburg.org.za", "info at joburg dot org dot za"},
    {"en", "Mail first.last@joburg.org.za now",
     "Mail first dot last at joburg dot org dot za now"},
    {"en", "It ended.Then", "It ended.Then"},
    {"af", "info@joburg.org.za", "info at joburg punt org punt za"},
    {"tn", "www.joburg.org.za", "joburg ntlha org ntlha za"},
    /* Hashtags, mentions */
    {"en", "#LoadShedding", "hashtag Load Shedding"},
    {"en", "@CityofJoburg", "at City of Joburg"},
    {"en", "#JMPD_Alerts", "hashtag J M P D Alerts"},
    {"en", "#Budget2026", "hashtag Budget 2026"},
    {"en", "#5", "number 5"},
    {"af", "#LoadShedding", "hashtag Load Shedding"},
    /* Symbols */
    {"en", "a*b_c|d~e^f=g[h]i{j}k\\l`m", "a b c d e f g h i j k l m"},
    {"en", "water & lights", "water and lights"},
    {"en", "Soweto/Lenasia", "Soweto Lenasia"},
    {"en", "temperatures < 5 degrees", "temperatures less than 5 degrees"},
    {"en", "a > b", "a greater than b"},
    {"af", "water & ligte", "water en ligte"},
    {"tn", "metsi & motlakase", "metsi le motlakase"},
    /* Paragraphs */
    {"en", "One.\n\nTwo.", "One.\nTwo."},
    {"en", "One\nline", "One line"},
};

struct clean_case {
	const char *in, *want;
};

static const struct clean_case clean_cases[] = {
    {"  hello \t  world  ", "hello world"},
    {"a\x01"
     "b\x1b[31mc",
     "ab[31mc"},
    {"\x01\x02\x03"
     "news\x7f",
     "news"},
    {"\xef\xbb\xbfnews", "news"},
    {"ne\xe2\x80\x8bws \xe2\x80\xaeok\xe2\x80\xac", "news ok"},
    {"c1 \xc2\x85x\xc2\x9f", "c1 x"},
    {"a\xc2\xa0"
     "b",
     "a b"},
    {"one\r\n\r\ntwo\rthree", "one\ntwo three"},
    {"p1\n \n\n p2", "p1\np2"},
    {"<audio src=\"/etc/passwd\"/>Water", "Water"},
    {"<voice name=\"x\">hi</voice>", "hi"},
    {"<speak>Power cut</speak>", "Power cut"},
    {"a<!-- x > y -->b", "a b"},
    {"<?xml version=\"1.0\"?>text", "text"},
    {"<a title=\"x>y\">link</a>", "link"},
    {"temperatures < 5 degrees", "temperatures less than 5 degrees"},
    {"x<5", "x less than 5"},
    {"<b unclosed", "less than b unclosed"},
    {"&lt;audio src=x&gt;", "<audio src=x>"},
    {"&amp;lt;audio&amp;gt;", "&lt;audio&gt;"},
    {"Tom &amp; Jerry &quot;q&quot; &apos;s&apos; &nbsp; &",
     "Tom & Jerry \"q\" 's' &nbsp; &"},
};

/* Bytes that must never come out of clean + speech. */
static bool is_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p == '<' || *p == '>' || (*p < 0x20 && *p != '\n') ||
		    *p == 0x7f)
			return false;
	return true;
}

/* clean then speech; NULL if either refuses. */
static char *norm(const char *in, const char *lang)
{
	char why[128], *c, *s = NULL;

	if (textnorm_clean(in, strlen(in), &c, why, sizeof(why)) < 0)
		return NULL;
	if (textnorm_speech(c, lang, &s) < 0)
		s = NULL;
	free(c);
	return s;
}

static void test_speech_table(void)
{
	for (size_t i = 0; i < sizeof(speech_cases) / sizeof(speech_cases[0]);
	     i++) {
		const struct speech_case *t = &speech_cases[i];
		char *s = norm(t->in, t->lang);

		CHECKF(s && strcmp(s, t->want) == 0,
		       "%s [%s]: got [%s], want [%s]", t->lang, t->in,
		       s ? s : "(refused)", t->want);
		CHECKF(s && is_safe(s), "%s [%s] unsafe", t->lang, t->in);
		free(s);
	}
}

static void test_clean_table(void)
{
	for (size_t i = 0; i < sizeof(clean_cases) / sizeof(clean_cases[0]);
	     i++) {
		const struct clean_case *t = &clean_cases[i];
		char why[128] = "", *c = NULL;
		int rc =
		    textnorm_clean(t->in, strlen(t->in), &c, why, sizeof(why));

		CHECKF(rc == 0 && c && strcmp(c, t->want) == 0,
		       "[%s]: rc %d got [%s], want [%s] (%s)", t->in, rc,
		       c ? c : "(null)", t->want, why);
		free(c);
	}
}

static void expect_refused(const char *in, size_t len, const char *want_why)
{
	char why[128] = "", *c = (char *)"x";
	int rc = textnorm_clean(in, len, &c, why, sizeof(why));

	CHECKF(rc == -ERR_INVALID && c == NULL, "len %zu: rc %d", len, rc);
	CHECKF(strcmp(why, want_why) == 0, "len %zu: why [%s], want [%s]", len,
	       why, want_why);
}

static void test_refused(void)
{
	expect_refused("", 0, "text is empty");
	expect_refused(NULL, 0, "text is empty");
	expect_refused(" \t\n\r\n  ", 7,
	               "text has nothing to read (only whitespace or markup)");
	expect_refused("<speak></speak> <!-- -->", 24,
	               "text has nothing to read (only whitespace or markup)");
	expect_refused("\x01\x02\xef\xbb\xbf", 5,
	               "text has nothing to read (only whitespace or markup)");
	/* Invalid UTF-8: the byte named counts from 1. */
	expect_refused("ab\xc3", 3, "text is not valid UTF-8 (byte 3)");
	expect_refused("abc\xe2\x82", 5, "text is not valid UTF-8 (byte 4)");
	expect_refused("\xc0\xaf", 2, "text is not valid UTF-8 (byte 1)");
	expect_refused("x\xe0\x80\xaf", 4, "text is not valid UTF-8 (byte 2)");
	expect_refused("ok \xed\xa0\x80", 6,
	               "text is not valid UTF-8 (byte 4)");
	expect_refused("\xf4\x90\x80\x80", 4,
	               "text is not valid UTF-8 (byte 1)");
	expect_refused("a\x80"
	               "b",
	               3, "text is not valid UTF-8 (byte 2)");
	expect_refused("\xff", 1, "text is not valid UTF-8 (byte 1)");
	expect_refused("abcdefghijklmnop\xfe", 17,
	               "text is not valid UTF-8 (byte 17)");
	/* The largest code point and a 4-byte sequence are fine. */
	{
		char *c = NULL;

		CHECK(textnorm_clean("\xf4\x8f\xbf\xbf \xf0\x9f\x93\xbb", 9, &c,
		                     NULL, 0) == 0);
		CHECK(c && strcmp(c, "\xf4\x8f\xbf\xbf \xf0\x9f\x93\xbb") == 0);
		free(c);
	}
	/* why may be NULL or tiny; it is always NUL-terminated. */
	{
		char why[8], *c;

		CHECK(textnorm_clean("", 0, &c, NULL, 0) == -ERR_INVALID);
		CHECK(textnorm_clean("", 0, &c, why, sizeof(why)) ==
		      -ERR_INVALID);
		CHECK(strcmp(why, "text is") == 0);
	}
}

static void test_sizes(void)
{
	size_t big = 1024 * 1024;
	char *buf = malloc(big), *c = NULL, *s = NULL, why[128];

	CHECK(buf != NULL);
	if (!buf)
		return;
	for (size_t i = 0; i < big; i++)
		buf[i] = i % 8 == 7 ? ' ' : 'a';
	CHECK(textnorm_clean(buf, TEXTNORM_MAX_BYTES, &c, why, sizeof(why)) ==
	      0);
	CHECK(c && strlen(c) == TEXTNORM_MAX_BYTES - 1); /* trailing ' ' */
	CHECK(c && textnorm_speech(c, "en", &s) == 0);
	CHECK(s && strcmp(s, c) == 0);
	free(s);
	free(c);
	expect_refused(buf, TEXTNORM_MAX_BYTES + 1,
	               "text is longer than 65536 bytes");
	expect_refused(buf, big, "text is longer than 65536 bytes");
	/* The same 1 MB with a NUL and hostile bytes in it: still refused. */
	buf[10] = '\0';
	buf[11] = '\xc0';
	expect_refused(buf, big, "text is longer than 65536 bytes");
	/*
	 * Full-size repeats that start a token at every other byte: each
	 * rule must give up in bounded time ("a-a-a-..." was quadratic in
	 * the host parser), and what no rule claims is copied as typed.
	 */
	{
		/* The first five are copied unchanged; all must succeed. */
		static const char *const pats[] = {"a.", "a-", "1.",  ".a",
		                                   "x@", "#a", "1/1/"};

		for (size_t p = 0; p < sizeof(pats) / sizeof(pats[0]); p++) {
			size_t pl = strlen(pats[p]);

			for (size_t i = 0; i < TEXTNORM_MAX_BYTES; i++)
				buf[i] = pats[p][i % pl];
			CHECK(textnorm_clean(buf, TEXTNORM_MAX_BYTES, &c, why,
			                     sizeof(why)) == 0);
			CHECK(c && textnorm_speech(c, "en", &s) == 0);
			CHECKF(s && is_safe(s), "pattern %s", pats[p]);
			if (p < 5)
				CHECKF(s && c && strcmp(s, c) == 0,
				       "pattern %s", pats[p]);
			free(s);
			free(c);
		}
	}
	/* A full-size text of '<' that never closes: linear, no crash. */
	memset(buf, '<', TEXTNORM_MAX_BYTES);
	for (size_t i = 1; i < TEXTNORM_MAX_BYTES; i += 2)
		buf[i] = 'a';
	CHECK(textnorm_clean(buf, TEXTNORM_MAX_BYTES, &c, why, sizeof(why)) ==
	      0);
	CHECK(c && !strchr(c, '<'));
	CHECK(c && textnorm_speech(c, "en", &s) == 0 && s && is_safe(s));
	free(s);
	free(c);
	free(buf);
}

static void test_speech_errors(void)
{
	char *s = (char *)"x";

	CHECK(textnorm_speech("hello", "de", &s) == -ERR_INVALID && !s);
	CHECK(textnorm_speech("hello", "", &s) == -ERR_INVALID && !s);
	CHECK(textnorm_speech("hello", NULL, &s) == -ERR_INVALID && !s);
	CHECK(textnorm_speech("hello", "EN", &s) == -ERR_INVALID && !s);
	CHECK(textnorm_speech(NULL, "en", &s) == -ERR_INVALID && !s);
	CHECK(textnorm_speech("bad \xc0\xaf", "en", &s) == -ERR_INVALID && !s);
	/* Nothing left to say. */
	CHECK(textnorm_speech("*** ~~~ ___", "en", &s) == -ERR_INVALID && !s);
	/* Over the bound: each '<' (a "&lt;" in the bulletin) is 10 bytes. */
	{
		char in[1001];

		memset(in, '<', 1000);
		in[1000] = '\0';
		CHECK(textnorm_speech(in, "en", &s) == -ERR_INVALID && !s);
		/* Just under the bound is fine and really is within it. */
		memset(in, '&', 999);
		in[999] = '\0';
		CHECK(textnorm_speech(in, "tn", &s) == 0);
		CHECK(s && strlen(s) <= TEXTNORM_SPEECH_MAX(999));
		free(s);
	}
	/* Speech never passes controls through, even if handed some. */
	CHECK(textnorm_speech("a\x01"
	                      "b\tc\rd",
	                      "en", &s) == 0);
	CHECK(s && strcmp(s, "a b c d") == 0);
	free(s);
}

static void test_hostile(void)
{
	static const char *const in[] = {
	    "<audio src=\"/etc/passwd\"/>",
	    "<voice name=\"x\">hi</voice>",
	    "<speak>",
	    "<!-- x -->",
	    "&lt;audio src=x&gt;",
	    "&lt;voice name=&quot;x&quot;&gt;hi",
	    "&amp;lt;speak&amp;gt;",
	    "\x01"
	    "14\x01"
	    "vx\x01 words",
	    "<<audio>> <<<a",
	    "a <b c=\"unbalanced>d</b> e",
	    "<![CDATA[ <audio/> ]]>",
	    "say \x1b]0;x\x07 this",
	};
	static const char *const langs[] = {"en", "af", "tn"};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		for (size_t l = 0; l < 3; l++) {
			char *s = norm(in[i], langs[l]);

			/* Refusing (nothing to say) is also safe. */
			CHECKF(!s || is_safe(s), "[%s] -> [%s]", in[i], s);
			free(s);
		}
	}
	/* Markup attributes never survive as text. */
	{
		char *s = norm("Hi <audio src=\"/etc/passwd\"/> there", "en");

		CHECK(s && strcmp(s, "Hi there") == 0);
		free(s);
		s = norm("\x01"
		         "14\x01"
		         "vx\x01 words",
		         "en");
		CHECK(s && strcmp(s, "14vx words") == 0);
		free(s);
	}
}

/* The phonemes espeak-ng makes of text; NULL if it fails. */
static char *phonemes(const char *text, const char *voice)
{
	static char buf[4096];
	char *p;
	size_t n;
	FILE *f;

	if (test_write_file(test_path("say.txt"), text, strlen(text)) < 0)
		return NULL;
	if (test_run("espeak-ng -q -x -v %s -f '%s' > '%s' 2>/dev/null", voice,
	             test_path("say.txt"), test_path("ph.txt")) != 0)
		return NULL;
	f = fopen(test_path("ph.txt"), "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = buf;
	return p;
}

static void test_espeak(void)
{
	char *s, *ph;

	if (!test_have("espeak-ng")) {
		printf("espeak-ng not installed: skipping the spoken checks\n");
		return;
	}
	s = norm("Water back at 14:30 on 2026-12-01", "en");
	CHECK(s && strcmp(s, "Water back at 14 30 on 1 December 2026") == 0);
	ph = s ? phonemes(s, "en") : NULL;
	CHECKF(ph && strstr(ph, "f'o@ti:n") && strstr(ph, "T'3:ti"),
	       "14 30: [%s]", ph ? ph : "");
	CHECKF(ph && strstr(ph, "dI2s'Emb3") && strstr(ph, "T'aUz@nd"),
	       "date: [%s]", ph ? ph : "");
	free(s);
	s = norm("Fines of R10 000 and 15% more", "en");
	CHECK(s && strcmp(s, "Fines of 10000 rand and 15 percent more") == 0);
	ph = s ? phonemes(s, "en") : NULL;
	CHECKF(ph && strstr(ph, "t'En T'aUz@nd r'and") &&
	           strstr(ph, "f'Ifti:n p3s'Ent"),
	       "amount: [%s]", ph ? ph : "");
	free(s);
	s = norm("R2,5m om 14:30", "af");
	CHECK(s && strcmp(s, "2 komma 5 miljoen rand om 14 uur 30") == 0);
	ph = s ? phonemes(s, "af") : NULL;
	/* "twee komma vyf", "uur" and "dertig" spoken as Afrikaans words. */
	CHECKF(ph && strstr(ph, "k'Oma") && strstr(ph, "m@lj'un") &&
	           strstr(ph, "'yr") && strstr(ph, "d'&rtIx"),
	       "af: [%s]", ph ? ph : "");
	free(s);
}

int main(void)
{
	test_speech_table();
	test_clean_table();
	test_refused();
	test_sizes();
	test_speech_errors();
	test_hostile();
	test_espeak();
	return test_done();
}
