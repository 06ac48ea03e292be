-- schema.sql - the single truth for Pulse Radio's SQLite database.
--
-- Version 1: the music library, which the player's playlists draw from.
-- The programme (slots, overrides, rotation) and the as-run log come with
-- version 2 (issue 3); the bulletin queue with issue 4. Every version bumps
-- PRAGMA user_version, and the program migrates an older file on start.
-- Times are UTC, as ISO 8601 text ("2026-11-26T06:00:00Z").

PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS track (
	id          INTEGER PRIMARY KEY,
	path        TEXT NOT NULL UNIQUE,   -- absolute, inside the library
	title       TEXT NOT NULL DEFAULT '',
	artist      TEXT NOT NULL DEFAULT '',
	album       TEXT NOT NULL DEFAULT '',
	duration_ms INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
	enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	added_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	last_played TEXT
);

CREATE TABLE IF NOT EXISTS playlist (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS playlist_item (
	playlist_id INTEGER NOT NULL REFERENCES playlist(id) ON DELETE CASCADE,
	position    INTEGER NOT NULL,
	track_id    INTEGER NOT NULL REFERENCES track(id) ON DELETE CASCADE,
	PRIMARY KEY (playlist_id, position)
);

CREATE INDEX IF NOT EXISTS track_artist ON track(artist);

PRAGMA user_version = 1;
