#!/usr/bin/env bash
# it_web.sh - the news desk web page (issue 6), driven in Debian's headless
# Chromium (tests/tools/webdesk.py): sign in (a wrong token refused),
# preview a bulletin's normalised text, queue it, see it in the queue,
# queue a breaking one that airs, withdraw the first, sign out. Then, with
# curl, what a browser would not send: a form without its CSRF token, one
# from another site, a replayed session after signing out, a body over the
# limit, too many wrong tokens. The database says what happened, and the
# audit table who did it.
set -euo pipefail
: "${PULSE_RADIO:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"
P=$PULSE_RADIO

for tool in /usr/bin/chromium /usr/bin/chromedriver; do
	[ -x "$tool" ] || {
		echo "it_web: $tool is missing (scripts/deps.sh installs it)" >&2
		exit 1
	}
done

DB=$T/pulse.db
media_station "$P" "$T" "$DB" 2
TOKEN=desk$RANDOM$RANDOM$RANDOM$RANDOM$RANDOM
printf 'newsdesk %s\n' "$TOKEN" >"$T/tokens"
chmod 600 "$T/tokens"
HPORT=$(free_port)
cat >"$T/pulse.conf" <<EOF
[station]
name = Pulse Web Test
database = $DB
[output archive]
url = file:$T/out.ogg
[http]
bind = 127.0.0.1:$HPORT
token_file = $T/tokens
EOF
chmod 600 "$T/pulse.conf"
"$P" run --config "$T/pulse.conf" 2>"$T/run.log" &
pid=$!
lib_on_exit "kill -9 $pid 2>/dev/null"
U=http://127.0.0.1:$HPORT
up() { curl -sf -o /dev/null "$U/api/status"; }
t_check "the daemon answers within 10 s" wait_until 10 up

# The page in a browser.
if timeout 240 /usr/bin/python3 "$PULSE_SRC/tests/tools/webdesk.py" "$U" \
	"$TOKEN" "$T" >"$T/web.out" 2>&1; then
	t_ok "the news desk in headless Chromium: sign in, preview, queue, withdraw, sign out"
else
	t_fail "the news desk in headless Chromium"
fi
cat "$T/web.out"
read -r _ ID BRK < <(grep '^BULLETIN ' "$T/web.out" || echo "BULLETIN 0 0")
state() { sqlite3 "$DB" "SELECT state FROM bulletin WHERE id = $1"; }
t_check "the withdrawn one is withdrawn in the database" \
	test "$(state "$ID")" = withdrawn
t_check "it was stored without its markup, by newsdesk, expiring" \
	test "$(sqlite3 "$DB" "SELECT submitted_by, text LIKE '%<script%',
		expires_at IS NOT NULL FROM bulletin WHERE id = $ID")" = "newsdesk|0|1"
t_check "the breaking one aired once (as-run row)" \
	test "$(sqlite3 "$DB" "SELECT count(*) FROM asrun WHERE bulletin_id = $BRK")" = 1
sqlite3 "$DB" "SELECT who, action, target, status, detail FROM audit ORDER BY id" |
	tee "$T/audit"
t_check "the audit table has the sign-ins, the writes and who made them" \
	bash -c "grep -q '^-|login||401|web: wrong token' '$T/audit' &&
		grep -q '^newsdesk|login||303|web' '$T/audit' &&
		grep -q '^newsdesk|bulletin.add|$ID|303|web$' '$T/audit' &&
		grep -q '^newsdesk|bulletin.add|$BRK|303|web: breaking' '$T/audit' &&
		grep -q '^newsdesk|bulletin.withdraw|$ID|303|web' '$T/audit' &&
		grep -q '^newsdesk|logout||303|web' '$T/audit'"

# What a browser on this page would not send.
J=$T/jar
code() { curl -s -o "$T/body" -w '%{http_code}' -c "$J" -b "$J" "$@"; }
t_check "signing in with curl: 303 and a session cookie" \
	test "$(code --data-urlencode "token=$TOKEN" "$U/comms/login")" = 303
grep -q 'pulse_session' "$J"
code "$U/comms" >/dev/null
CSRF=$(grep -o 'name="csrf" value="[0-9a-f]*"' "$T/body" | head -1 | sed 's/.*value="//; s/"$//')
t_check "the page carries a 64-digit form token" test ${#CSRF} = 64
n0=$(sqlite3 "$DB" "SELECT count(*) FROM bulletin")
t_check "a form without its token: 403" \
	test "$(code --data 'text=No+token&action=queue' "$U/comms/bulletin")" = 403
t_check "a form with a wrong token: 403" \
	test "$(code --data "text=Wrong&action=queue&csrf=${CSRF//[0-9]/a}" "$U/comms/bulletin")" = 403
t_check "a form from another site: 403" \
	test "$(code -H 'Origin: http://evil.example' \
		--data "text=Evil&action=queue&csrf=$CSRF" "$U/comms/bulletin")" = 403
head -c 100000 /dev/zero | tr '\0' 'a' | sed "s/^/csrf=$CSRF\&action=queue\&text=/" >"$T/big"
t_check "a body over the limit: 413" \
	test "$(code --data-binary "@$T/big" "$U/comms/bulletin")" = 413
t_check "an empty bulletin: 400 with why, on the page" \
	bash -c "[ \"\$(curl -s -o '$T/empty' -w '%{http_code}' -b '$J' \
		--data 'text=+++&action=queue&csrf=$CSRF' '$U/comms/bulletin')\" = 400 ] &&
		grep -q 'id=\"problem\"' '$T/empty'"
t_check "none of those queued anything" \
	test "$(sqlite3 "$DB" "SELECT count(*) FROM bulletin")" = "$n0"
t_check "markup typed into the form comes back escaped" \
	bash -c "curl -s -b '$J' --data-urlencode 'text=<img src=x onerror=alert(1)>\"' \
		--data 'action=preview&csrf=$CSRF' '$U/comms/bulletin' |
		grep -q '&lt;img src=x onerror=alert(1)&gt;&quot;</textarea>'"
t_check "the page says what may load (CSP) and may not be framed" \
	bash -c "curl -s -D - -o /dev/null -b '$J' '$U/comms' |
		grep -qi \"content-security-policy: default-src 'none'\""
cp "$J" "$T/old-jar"
t_check "signing out: 303" test "$(code --data "csrf=$CSRF" "$U/comms/logout")" = 303
t_check "the old session replayed after signing out: 401, nothing done" \
	test "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/old-jar" \
		--data "text=Replay&action=queue&csrf=$CSRF" "$U/comms/bulletin")" = 401
for i in 1 2 3 4 5; do
	code --data "token=wrong-$i" "$U/comms/login" >/dev/null
done
t_check "after five wrong tokens in a minute sign-in closes: 429" \
	test "$(code --data-urlencode "token=$TOKEN" "$U/comms/login")" = 429
t_check "the log says sign-in closed" grep -q 'sign-in closed for a minute' "$T/run.log"
t_check "the API's token still works meanwhile" \
	test "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE \
		-H "Authorization: Bearer $TOKEN" "$U/api/bulletins/999999")" = 404
kill -TERM "$pid"
wait "$pid" || true
t_check "the database is consistent" \
	test "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok
t_done
