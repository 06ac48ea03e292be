-- schema.sql - the single truth for Pulse Radio's SQLite database.
--
-- The file is a list of versions, each opened by a line "-- @version N".
-- On start the program applies, in one transaction each, every version
-- above the database's PRAGMA user_version, then sets user_version to N.
-- A released version is never edited: a change is a new version below.
-- A database whose user_version is above the last version here is from a
-- newer Pulse Radio and is refused, untouched.
--
-- Times of day in slots are the station's local wall clock (minutes after
-- midnight) in the IANA time zone of setting 'timezone'; instants (overrides,
-- as-run, scans) are UTC, ISO 8601 text with milliseconds:
-- "2026-11-26T06:00:00.000Z".

-- @version 1

CREATE TABLE setting (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
INSERT INTO setting(key, value) VALUES
	('timezone', 'Africa/Johannesburg'),
	('title_separation_s', '10800'),  -- a title not again within 3 h
	('artist_separation_s', '3600'),  -- an artist not again within 1 h
	('fallback_playlist', '');        -- name of the never-dead-air playlist

-- The music library: one row per file, measured once at scan time.
CREATE TABLE track (
	id            INTEGER PRIMARY KEY,
	path          TEXT NOT NULL UNIQUE,  -- absolute
	title         TEXT NOT NULL DEFAULT '',
	artist        TEXT NOT NULL DEFAULT '',
	album         TEXT NOT NULL DEFAULT '',
	duration_ms   INTEGER NOT NULL CHECK (duration_ms >= 0),
	loudness_lufs REAL,                  -- EBU R128 integrated; NULL if silent
	peak_dbfs     REAL,                  -- sample peak; NULL if silent
	cue_in_ms     INTEGER NOT NULL DEFAULT 0 CHECK (cue_in_ms >= 0),
	cue_out_ms    INTEGER NOT NULL CHECK (cue_out_ms >= cue_in_ms),
	enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	missing       INTEGER NOT NULL DEFAULT 0 CHECK (missing IN (0, 1)),
	                                     -- file gone at the last scan
	file_size     INTEGER NOT NULL,      -- with file_mtime: rescan if changed
	file_mtime    INTEGER NOT NULL,      -- nanoseconds since the epoch
	added_at      TEXT NOT NULL,
	scanned_at    TEXT NOT NULL,
	last_played   TEXT
);
CREATE INDEX track_artist ON track(artist);

CREATE TABLE playlist (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100)
);

CREATE TABLE playlist_item (
	playlist_id INTEGER NOT NULL REFERENCES playlist(id) ON DELETE CASCADE,
	position    INTEGER NOT NULL CHECK (position >= 0),
	track_id    INTEGER NOT NULL REFERENCES track(id) ON DELETE CASCADE,
	PRIMARY KEY (playlist_id, position)
);
CREATE INDEX playlist_item_track ON playlist_item(track_id);

-- The weekly grid. days: bit 0 Monday .. bit 6 Sunday. end_min <= start_min
-- means the slot crosses midnight into the next day.
CREATE TABLE slot (
	id             INTEGER PRIMARY KEY,
	name           TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
	days           INTEGER NOT NULL CHECK (days BETWEEN 1 AND 127),
	start_min      INTEGER NOT NULL CHECK (start_min BETWEEN 0 AND 1439),
	end_min        INTEGER NOT NULL CHECK (end_min BETWEEN 0 AND 1440),
	playlist_id    INTEGER NOT NULL REFERENCES playlist(id),
	jingle_playlist_id INTEGER REFERENCES playlist(id),
	jingle_every   INTEGER NOT NULL DEFAULT 0 CHECK (jingle_every >= 0),
	news_minutes   TEXT NOT NULL DEFAULT '',  -- e.g. "0,30"; '' for none
	crossfade_ms   INTEGER NOT NULL DEFAULT 3000
	               CHECK (crossfade_ms BETWEEN 0 AND 30000),
	start_mode     TEXT NOT NULL DEFAULT 'soft'
	               CHECK (start_mode IN ('hard', 'soft', 'not-before')),
	tolerance_s    INTEGER NOT NULL DEFAULT 0 CHECK (tolerance_s >= 0)
);

-- Dated one-off programming (a public holiday, a special broadcast); wins
-- over the weekly grid while it runs.
CREATE TABLE override (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	starts_at   TEXT NOT NULL,  -- UTC
	ends_at     TEXT NOT NULL CHECK (ends_at > starts_at),
	playlist_id INTEGER NOT NULL REFERENCES playlist(id),
	start_mode  TEXT NOT NULL DEFAULT 'hard'
	            CHECK (start_mode IN ('hard', 'soft', 'not-before'))
);
CREATE INDEX override_starts ON override(starts_at);

-- What aired: a snapshot of the tags, so the log survives library edits.
CREATE TABLE asrun (
	id          INTEGER PRIMARY KEY,
	started_at  TEXT NOT NULL,  -- UTC, of its first sample on the stream
	duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
	ended_early INTEGER NOT NULL DEFAULT 0 CHECK (ended_early IN (0, 1)),
	track_id    INTEGER REFERENCES track(id) ON DELETE SET NULL,
	path        TEXT NOT NULL,
	title       TEXT NOT NULL DEFAULT '',
	artist      TEXT NOT NULL DEFAULT '',
	album       TEXT NOT NULL DEFAULT '',
	slot_name   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX asrun_started ON asrun(started_at);

-- @version 2

-- The top-of-hour station ID: at minute 0 of every local hour inside the
-- slot, an item from id_playlist_id (NULL: none) airs, started as id_mode
-- says (a 'not-before' one may be the slot's tolerance_s late).
ALTER TABLE slot ADD COLUMN id_playlist_id INTEGER REFERENCES playlist(id);
ALTER TABLE slot ADD COLUMN id_mode TEXT NOT NULL DEFAULT 'hard'
	CHECK (id_mode IN ('hard', 'soft', 'not-before'));

-- @version 3

-- City news bulletins, from comms staff's text to the air. state moves
-- queued -> rendered (spoken into audio_path) -> on_air -> aired, or ends
-- in expired, withdrawn or failed (reason says why); each change is one
-- transaction. A bulletin found on_air at start-up (the daemon died while
-- it played) goes back to rendered and airs again: never silently lost.
CREATE TABLE bulletin (
	id           INTEGER PRIMARY KEY,
	text         TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 65536),
	lang         TEXT NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'af', 'tn')),
	priority     TEXT NOT NULL DEFAULT 'normal'
	             CHECK (priority IN ('normal', 'breaking')),
	submitted_by TEXT NOT NULL DEFAULT '',
	submitted_at TEXT NOT NULL,  -- UTC
	not_before   TEXT,           -- UTC; NULL: at once
	expires_at   TEXT,           -- UTC; NULL: never
	state        TEXT NOT NULL DEFAULT 'queued'
	             CHECK (state IN ('queued', 'rendered', 'on_air', 'aired',
	                              'expired', 'withdrawn', 'failed')),
	reason       TEXT NOT NULL DEFAULT '',
	state_at     TEXT NOT NULL,  -- UTC, of the last change of state
	audio_path   TEXT,           -- the rendered Ogg file
	duration_ms  INTEGER CHECK (duration_ms IS NULL OR duration_ms > 0),
	rendered_at  TEXT,
	aired_at     TEXT,           -- UTC, when its last sample went out
	CHECK (expires_at IS NULL OR not_before IS NULL OR expires_at > not_before)
);
CREATE INDEX bulletin_state ON bulletin(state, priority, submitted_at);

-- Which bulletin an as-run row was (NULL for music, jingles and IDs).
ALTER TABLE asrun ADD COLUMN bulletin_id INTEGER REFERENCES bulletin(id);

-- How a slot's news minutes start: the song playing fades out ('hard').
ALTER TABLE slot ADD COLUMN news_mode TEXT NOT NULL DEFAULT 'hard'
	CHECK (news_mode IN ('hard', 'soft', 'not-before'));
-- A quiet music bed under the whole news block (NULL: the news is dry).
ALTER TABLE slot ADD COLUMN news_bed_playlist_id INTEGER
	REFERENCES playlist(id);

INSERT INTO setting(key, value) VALUES
	('voice_en', 'en'), ('rate_en', '165'), ('pitch_en', '50'),
	('voice_af', 'af'), ('rate_af', '160'), ('pitch_af', '50'),
	('voice_tn', 'tn'), ('rate_tn', '150'), ('pitch_tn', '50'),
	('news_intro_playlist', ''),   -- played before the bulletins
	('news_outro_playlist', ''),   -- and after them
	('news_sting_playlist', ''),   -- between two bulletins ('' : a gap)
	('news_gap_ms', '800'),        -- silence between bulletins, no sting
	('news_bed_db', '-20'),        -- the bed's level under speech, dB
	('news_empty_playlist', ''),   -- at a news minute with nothing due
	                               -- ('' : the news minute is skipped)
	('breaking_mode', 'after-item'),  -- or 'now': fade the item out
	('breaking_latency_s', '10'),  -- 'after-item' waits at most this long
	('bulletin_dir', ''),          -- rendered bulletins as Ogg files
	                               -- ('' : bulletins/ beside the database)
	('bulletin_keep_days', '30');  -- then their files are deleted

-- @version 4

-- Even loudness: every item plays at loudness_target_lufs, from the
-- loudness measured at scan time (tracks) or at render time (bulletins),
-- raised by at most loudness_max_gain_db so quiet items are not boosted
-- into noise. An item with no measure (silent, or not scanned) plays as is.
ALTER TABLE bulletin ADD COLUMN loudness_lufs REAL;
INSERT INTO setting(key, value) VALUES
	('loudness_target_lufs', '-16'),
	('loudness_max_gain_db', '15'),
	('limiter_ceiling_dbtp', '-1'),  -- true-peak ceiling after mixing
	('dead_air_db', '-50'),          -- quieter than this (peak, dBFS)...
	('dead_air_s', '5');             -- ...this long is dead air: skip

-- @version 5

-- Broadcast sound: crossfades, talk-over jingles, ducking. A slot's NULL
-- takes the station-wide setting of the same name. Music crosses into
-- music over crossfade_ms (slot.crossfade_ms; crossfade_ms for music
-- outside any slot) along crossfade_curve; a slot with jingles_over plays
-- its cadence jingles over the start of the next song, which is lowered
-- by duck_db (as the news bed is under speech) over duck_attack_ms and
-- raised again over duck_release_ms.
ALTER TABLE slot ADD COLUMN crossfade_curve TEXT
	CHECK (crossfade_curve IN ('equal-power', 'linear'));
ALTER TABLE slot ADD COLUMN duck_db REAL CHECK (duck_db BETWEEN -40 AND 0);
ALTER TABLE slot ADD COLUMN jingles_over INTEGER CHECK (jingles_over IN (0, 1));
INSERT INTO setting(key, value) VALUES
	('crossfade_ms', '3000'),
	('crossfade_curve', 'equal-power'),
	('duck_db', '-12'),
	('duck_attack_ms', '200'),
	('duck_release_ms', '800'),
	('jingles_over', '0');
-- The news bed now plays at news_bed_db between bulletins and duck_db
-- lower under speech; -8 keeps the old -20 under speech.
UPDATE setting SET value = '-8' WHERE key = 'news_bed_db' AND value = '-20';

-- @version 6

-- Every write through the HTTP API or the comms page: who (the token's
-- name), when, what, on which bulletin, and the answer.
CREATE TABLE audit (
	id        INTEGER PRIMARY KEY,
	at        TEXT NOT NULL,                      -- UTC, ISO 8601
	who       TEXT NOT NULL,
	action    TEXT NOT NULL,                      -- e.g. bulletin.add
	target    INTEGER,                            -- the bulletin id
	status    INTEGER NOT NULL,                   -- the HTTP status sent
	detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit(at);
