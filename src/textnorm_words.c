/*
 * textnorm_words.c - the words textnorm_speech() writes, per language.
 *
 * The one thing to know: adding an abbreviation, unit or language is an
 * edit to a table here, never to the rules; a NULL word in the af or tn
 * column means "as in English" (names such as "Eskom" stay the same).
 */
#include "textnorm_priv.h"

#include <string.h>

static const struct tnorm_lang langs[] = {
    {
        .code = "en",
        .idx = TNORM_EN,
        .dec = ".",
        .money = "{1} rand",
        .money_mult = "{1} {2} rand",
        .money_cents = "{1} rand {2} cents",
        .mult = {"thousand", "million", "billion", "trillion"},
        .percent = "{1} percent",
        .unit = "{1} {2}",
        .t_hour = "{1} hundred",
        .t_oclock = "{1} o'clock",
        .t_hm = "{1} {2}",
        .min_lead = "oh",
        .t_hour_p = "{1} {3}",
        .t_hm_p = "{1} {2} {3}",
        .am = "a m",
        .pm = "p m",
        .midnight = "midnight",
        .date = "{1} {2} {3}",
        .months = {"January", "February", "March", "April", "May", "June",
                   "July", "August", "September", "October", "November",
                   "December"},
        .and_w = "and",
        .less = "less than",
        .greater = "greater than",
        .percent_w = "percent",
        .hashtag = "hashtag",
        .at = "at",
        .dot = "dot",
        .number = "number",
    },
    {
        .code = "af",
        .idx = TNORM_AF,
        .dec = " komma ",
        .money = "{1} rand",
        .money_mult = "{1} {2} rand",
        .money_cents = "{1} rand {2} sent",
        .mult = {"duisend", "miljoen", "miljard", "biljoen"},
        .percent = "{1} persent",
        .unit = "{1} {2}",
        .t_hour = "{1} uur",
        .t_oclock = NULL,
        .t_hm = "{1} uur {2}",
        .min_lead = NULL,
        .t_hour_p = "{1} uur {3}",
        .t_hm_p = "{1} uur {2} {3}",
        .am = "voormiddag",
        .pm = "namiddag",
        .midnight = "middernag",
        .date = "{1} {2} {3}",
        .months = {"Januarie", "Februarie", "Maart", "April", "Mei", "Junie",
                   "Julie", "Augustus", "September", "Oktober", "November",
                   "Desember"},
        .and_w = "en",
        .less = "kleiner as",
        .greater = "groter as",
        .percent_w = "persent",
        .hashtag = "hashtag",
        .at = "at",
        .dot = "punt",
        .number = "nommer",
    },
    {
        /* Setswana puts the noun first: "diranta di le 350". */
        .code = "tn",
        .idx = TNORM_TN,
        .dec = ".",
        .money = "diranta di le {1}",
        .money_mult = "{2} di le {1} tsa diranta",
        .money_cents = "diranta di le {1} le disente di le {2}",
        .mult = {"dikete", "dimilione", "dibilione", "ditirilione"},
        .percent = "{1} phesente",
        .unit = "{2} di le {1}",
        .t_hour = "ura ya {1}",
        .t_oclock = NULL,
        .t_hm = "ura ya {1} le metsotso e le {2}",
        .min_lead = NULL,
        .t_hour_p = "ura ya {1} {3}",
        .t_hm_p = "ura ya {1} le metsotso e le {2} {3}",
        .am = "mo mosong",
        .pm = "mo tshokologong",
        .midnight = "bosigogare",
        .date = "{1} {2} {3}",
        .months = {"Ferikgong", "Tlhakole", "Mopitlo", "Moranang",
                   "Motsheganong", "Seetebosigo", "Phukwi", "Phatwe", "Lwetse",
                   "Diphalane", "Ngwanatsele", "Sedimonthole"},
        .and_w = "le",
        .less = "ka fa tlase ga",
        .greater = "go feta",
        .percent_w = "phesente",
        .hashtag = "hashtag",
        .at = "at",
        .dot = "ntlha",
        .number = "nomoro",
    },
};

const struct tnorm_lang *tnorm_lang_find(const char *code)
{
	for (size_t i = 0; code && i < sizeof(langs) / sizeof(langs[0]); i++)
		if (strcmp(code, langs[i].code) == 0)
			return &langs[i];
	return NULL;
}

/*
 * Case-sensitive whole tokens. Initialisms read letter by letter are
 * written spaced ("J M P D"); names that are words already ("Eskom",
 * "Joburg") map to themselves so that no later rule spells them.
 */
const struct tnorm_abbr tnorm_abbrs[] = {
    {"CoJ",
     {"City of Johannesburg", "Stad Johannesburg",
      "Toropokgolo ya Johannesburg"},
     false,
     false},
    {"COJ",
     {"City of Johannesburg", "Stad Johannesburg",
      "Toropokgolo ya Johannesburg"},
     false,
     false},
    {"JMPD", {"J M P D", NULL, NULL}, false, false},
    {"SAPS", {"S A P S", NULL, NULL}, false, false},
    {"CBD", {"C B D", NULL, NULL}, false, false},
    {"EMS", {"E M S", NULL, NULL}, false, false},
    {"JRA", {"J R A", NULL, NULL}, false, false},
    {"MMC", {"M M C", NULL, NULL}, false, false},
    {"SMS", {"S M S", NULL, NULL}, false, false},
    {"GBV", {"G B V", NULL, NULL}, false, false},
    {"Jhb", {"Johannesburg", NULL, NULL}, false, false},
    {"JHB", {"Johannesburg", NULL, NULL}, false, false},
    {"Cllr", {"Councillor", "Raadslid", "Mokhanselara"}, false, false},
    {"Eskom", {"Eskom", NULL, NULL}, false, false},
    {"Joburg", {"Joburg", NULL, NULL}, false, false},
    {"e.g.", {"for example", "byvoorbeeld", "sekai"}, false, false},
    {"i.e.", {"that is", "dit is", "ke gore"}, false, false},
    {"etc.", {"etcetera", "ensovoorts", "le tse dingwe"}, false, true},
    {"No.", {"number", "nommer", "nomoro"}, true, false},
};
const size_t tnorm_nabbrs = sizeof(tnorm_abbrs) / sizeof(tnorm_abbrs[0]);

/* Longer tokens first where one is a prefix of another. */
const struct tnorm_unit tnorm_units[] = {
    {"km/h",
     false,
     "kilometre per hour",
     {"kilometres per hour", "kilometer per uur", "dikilometara ka ura"}},
    {"kph",
     false,
     "kilometre per hour",
     {"kilometres per hour", "kilometer per uur", "dikilometara ka ura"}},
    {"km", false, "kilometre", {"kilometres", "kilometer", "dikilometara"}},
    {"mm", false, "millimetre", {"millimetres", "millimeter", "dimilimitara"}},
    {"cm", false, "centimetre", {"centimetres", "sentimeter", "disentimitara"}},
    {"kg", false, "kilogram", {"kilograms", "kilogram", "dikilograma"}},
    {"kl", false, "kilolitre", {"kilolitres", "kiloliter", "dikilolitara"}},
    {"kL", false, "kilolitre", {"kilolitres", "kiloliter", "dikilolitara"}},
    {"Ml", false, "megalitre", {"megalitres", "megaliter", "dimegalitara"}},
    {"ML", false, "megalitre", {"megalitres", "megaliter", "dimegalitara"}},
    {"MW", false, "megawatt", {"megawatts", "megawatt", "dimegawate"}},
    {"kWh",
     false,
     "kilowatt hour",
     {"kilowatt hours", "kilowatt-uur", "dikilowate ka ura"}},
    {"kW", false, "kilowatt", {"kilowatts", "kilowatt", "dikilowate"}},
    {"ha", false, "hectare", {"hectares", "hektaar", "diheketara"}},
    {"\xc2\xb0"
     "C",
     false,
     "degree Celsius",
     {"degrees Celsius", "grade Celsius", "dikgato tsa Celsius"}},
    {"\xc2\xba"
     "C",
     false,
     "degree Celsius",
     {"degrees Celsius", "grade Celsius", "dikgato tsa Celsius"}},
    {"\xc2\xb0", false, "degree", {"degrees", "grade", "dikgato"}},
    {"C",
     true,
     "degree Celsius",
     {"degrees Celsius", "grade Celsius", "dikgato tsa Celsius"}},
};
const size_t tnorm_nunits = sizeof(tnorm_units) / sizeof(tnorm_units[0]);

const char *const tnorm_road_words[] = {
    "highway", "road",     "freeway", "motorway",    "route",  "offramp",
    "onramp",  "off-ramp", "on-ramp", "interchange", "bridge", "rd",
    "hwy",     "snelweg",  "pad",     "roete",       "tsela",
};
const size_t tnorm_nroad_words =
    sizeof(tnorm_road_words) / sizeof(tnorm_road_words[0]);

const char *const tnorm_tlds[] = {
    "za", "com", "org", "net", "gov",    "edu",    "info",
    "io", "co",  "uk",  "int", "africa", "joburg",
};
const size_t tnorm_ntlds = sizeof(tnorm_tlds) / sizeof(tnorm_tlds[0]);

const char *tnorm_abbr_word(const struct tnorm_abbr *a,
                            const struct tnorm_lang *l)
{
	return a->word[l->idx] ? a->word[l->idx] : a->word[TNORM_EN];
}
