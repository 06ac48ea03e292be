#!/usr/bin/env bash
# it_http.sh - the daemon's HTTP side (issue 6): status JSON and Prometheus
# metrics that parse; the bulletin API's answers (401 without a token, 400
# for a malformed or refused body, 413 over the limit, 404 elsewhere, 409
# for what cannot be withdrawn); a bulletin POSTed shows up queued and
# airs (real espeak-ng, a real Icecast, as-run checked); every write is in
# the audit table with who sent it; `pulse-radio status` prints the same
# for a person.
set -euo pipefail
: "${PULSE_RADIO:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"
P=$PULSE_RADIO

DB=$T/pulse.db
media_station "$P" "$T" "$DB" 3
ice_start
printf '%s\n' "$ICE_PASS" >"$T/pass"
TOKEN=tok$RANDOM$RANDOM$RANDOM$RANDOM$RANDOM
printf '# name token\nnewsdesk %s\n' "$TOKEN" >"$T/tokens"
chmod 600 "$T/pass" "$T/tokens"
HPORT=$(free_port)
cat >"$T/pulse.conf" <<EOF
[station]
name = Pulse HTTP Test
database = $DB
[output main]
url = icecast://source@127.0.0.1:$ICE_PORT/radio.ogg
password_file = $T/pass
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
t_check "the API answers within 10 s" wait_until 10 up
on_air() {
	curl -s "$U/api/status" | python3 -c '
import json, sys; s = json.load(sys.stdin); sys.exit(0 if s["on_air"] else 1)'
}
t_check "status shows what is on air" wait_until 10 on_air

# GET /api/status: JSON with what an operator needs.
curl -s "$U/api/status" >"$T/status.json"
cat "$T/status.json"
t_check "status is JSON with the station, on air, outputs, counters" python3 -c "
import json, sys
s = json.load(open('$T/status.json'))
assert s['station'] == 'Pulse HTTP Test'
assert s['on_air']['title'].startswith('Tone ')
assert s['outputs'] and s['outputs'][0]['connected'] is True
assert 'password' not in json.dumps(s) and '$ICE_PASS' not in json.dumps(s)
assert s['counters']['items'] >= 1 and s['audio_s'] > 0
assert isinstance(s['bulletins'], list)
assert 'listeners' in s['outputs'][0]
n = s['next']
assert len(n) == 5, n
assert all(x['kind'] == 'music' and x['title'].startswith('Tone ') for x in n), n
assert all(a['at'] < b['at'] for a, b in zip(n, n[1:])), n
assert n[0]['at'] > s['on_air']['started'], n"

# GET /metrics: Prometheus text format.
curl -s -D "$T/metrics.h" "$U/metrics" >"$T/metrics"
t_check "metrics: Prometheus text format, every sample parses" python3 -c "
import re, sys
samples = {}
types = {}
for line in open('$T/metrics'):
    line = line.rstrip('\n')
    if line.startswith('# TYPE '):
        _, _, name, kind = line.split(' ', 3)
        assert kind in ('counter', 'gauge'), line
        types[name] = kind
        continue
    if line.startswith('# HELP ') or not line:
        continue
    m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\})? (-?[0-9.e+]+)', line)
    assert m, 'bad sample line: ' + line
    assert m.group(1) in types, 'no TYPE for ' + line
    samples[m.group(1)] = float(m.group(4))
for k in ('pulse_audio_seconds_total', 'pulse_items_total', 'pulse_dead_air_total',
          'pulse_bulletins_aired_total', 'pulse_reconnects_total', 'pulse_cpu_seconds_total',
          'pulse_underruns_total', 'pulse_output_connected'):
    assert k in samples, k
assert samples['pulse_audio_seconds_total'] > 0
assert samples['pulse_output_connected'] == 1"
t_check "metrics: served as text/plain version 0.0.4" \
	grep -qi 'content-type: text/plain; version=0.0.4' "$T/metrics.h"

# The bulletin API's refusals.
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
form=(-H 'Content-Type: application/x-www-form-urlencoded')
auth=(-H "Authorization: Bearer $TOKEN")
t_check "POST without a token: 401" \
	test "$(code -X POST "${form[@]}" --data 'text=Hello' "$U/api/bulletins")" = 401
t_check "POST with a wrong token: 401" \
	test "$(code -X POST "${form[@]}" -H 'Authorization: Bearer nottherightone1234' \
		--data 'text=Hello' "$U/api/bulletins")" = 401
t_check "POST a body without text: 400" \
	test "$(code -X POST "${form[@]}" "${auth[@]}" --data 'lang=en' "$U/api/bulletins")" = 400
t_check "POST a malformed escape: 400" \
	test "$(code -X POST "${form[@]}" "${auth[@]}" --data 'text=%zz' "$U/api/bulletins")" = 400
t_check "POST JSON instead of a form: 400" \
	test "$(code -X POST -H 'Content-Type: application/json' "${auth[@]}" \
		--data '{"text": "x"}' "$U/api/bulletins")" = 400
t_check "POST a refused bulletin (bad language): 400 with why" \
	bash -c "[ \"\$(curl -s -o '$T/why' -w '%{http_code}' -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
		-H 'Authorization: Bearer $TOKEN' --data 'text=Hello&lang=fr' '$U/api/bulletins')\" = 400 ] &&
		grep -q error '$T/why'"
head -c 100000 /dev/zero | tr '\0' 'a' | sed 's/^/text=/' >"$T/big"
t_check "POST a body over the limit: 413" \
	test "$(code -X POST "${form[@]}" "${auth[@]}" --data-binary "@$T/big" "$U/api/bulletins")" = 413
t_check "a path outside the API: 404" test "$(code "$U/admin")" = 404
t_check "GET on the bulletin API: 405" \
	test "$(code "${auth[@]}" "$U/api/bulletins")" = 405

# A bulletin that airs: breaking, so at once.
TEXT='Water will be off in Soweto from 09:00 to 14:00 tomorrow.'
t_check "POST a breaking bulletin: 201" \
	test "$(code -X POST "${form[@]}" "${auth[@]}" --data-urlencode "text=$TEXT" \
		--data 'lang=en&priority=breaking&expires=%2B1h' "$U/api/bulletins")" = 201
ID=$(python3 -c "import json; print(json.load(open('$T/body'))['id'])")
echo "bulletin $ID"
t_check "it shows up in the queue" \
	bash -c "curl -s '$U/api/status' | python3 -c '
import json, sys; s = json.load(sys.stdin)
sys.exit(0 if any(b[\"id\"] == $ID and b[\"by\"] == \"newsdesk\" for b in s[\"bulletins\"]) else 1)'"
aired() { test "$(sqlite3 "$DB" "SELECT count(*) FROM asrun WHERE bulletin_id = $ID")" = 1; }
t_check "and airs within 60 s (as-run row)" wait_until 60 aired
t_check "marked aired" test "$(sqlite3 "$DB" "SELECT state FROM bulletin WHERE id = $ID")" = aired
t_check "metrics count it" bash -c "curl -s '$U/metrics' | grep -q '^pulse_bulletins_aired_total [1-9]'"

# Withdraw: one for later; then again (409); one that is not there (404).
code -X POST "${form[@]}" "${auth[@]}" --data 'text=Later&not_before=%2B2h' "$U/api/bulletins" >/dev/null
LATER=$(python3 -c "import json; print(json.load(open('$T/body'))['id'])")
t_check "DELETE without a token: 401" test "$(code -X DELETE "$U/api/bulletins/$LATER")" = 401
t_check "DELETE a queued bulletin: 200" \
	test "$(code -X DELETE "${auth[@]}" "$U/api/bulletins/$LATER")" = 200
t_check "it is withdrawn" \
	test "$(sqlite3 "$DB" "SELECT state FROM bulletin WHERE id = $LATER")" = withdrawn
t_check "DELETE an aired one: 409" \
	test "$(code -X DELETE "${auth[@]}" "$U/api/bulletins/$ID")" = 409
t_check "DELETE one that is not there: 404" \
	test "$(code -X DELETE "${auth[@]}" "$U/api/bulletins/999999")" = 404
sqlite3 "$DB" "SELECT who, action, target, status FROM audit ORDER BY id" | tee "$T/audit"
t_check "every write past the token check is audited, with who" \
	bash -c "[ \$(grep -c '^newsdesk|' '$T/audit') -ge 10 ] &&
		grep -q '^newsdesk|bulletin.add|$ID|201' '$T/audit' &&
		grep -q '^newsdesk|bulletin.withdraw|$LATER|200' '$T/audit' &&
		grep -q '|413$\\||400$' '$T/audit'"

# What the status says comes next is what comes next.
title_now() {
	curl -s "$U/api/status" | python3 -c '
import json, sys; print(json.load(sys.stdin)["on_air"]["title"])'
}
curl -s "$U/api/status" >"$T/status.json"
NOW=$(python3 -c "import json; print(json.load(open('$T/status.json'))['on_air']['title'])")
NEXT=$(python3 -c "import json; print(json.load(open('$T/status.json'))['next'][0]['title'])")
echo "on air: $NOW, next: $NEXT"
changed() { test "$(title_now)" != "$NOW"; }
t_check "the item on air changes within 40 s" wait_until 40 changed
t_check "to the one the status said came next" test "$(title_now)" = "$NEXT"

# pulse-radio status: the same, for a person.
"$P" status --config "$T/pulse.conf" >"$T/status.txt"
cat "$T/status.txt"
t_check "status prints what is on air and the outputs" \
	bash -c "grep -q '^on air: Band [0-9] - Tone [0-9]' '$T/status.txt' &&
		grep -q '^output: icecast://127.0.0.1:$ICE_PORT/radio.ogg connected' '$T/status.txt'"
t_check "status --json is the API's JSON" \
	bash -c "'$P' status --bind 127.0.0.1:$HPORT --json | python3 -m json.tool >/dev/null"
kill -TERM "$pid"
wait "$pid" || true
t_check "status with no daemon: one line, exit 1" \
	bash -c "! '$P' status --bind 127.0.0.1:$HPORT 2>&1 | grep -v 'no daemon answers' | grep -q ."
t_done
