#!/usr/bin/env bash
# Runs the README's shell examples, in the README's order, against a fresh
# server on the embedded database, as a newcomer pasting them into one
# terminal would. Every ```sh block from "## API by example" on is run,
# except blocks that start programs (go run, go test, npm) or need MongoDB.
# An example fails the run if curl fails or the answer holds GraphQL errors.
#
# Usage: scripts/readme-examples.sh        (CI runs it after the tests)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# The examples, one script; the server's address stands in for localhost:8080.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 18080)
awk '
	/^## / { on = on || ($0 == "## API by example") }
	/^```sh$/ && on { inblock = 1; block = ""; next }
	/^```$/ && inblock {
		inblock = 0
		if (block !~ /go run|go test|npm |MONGODB_URI=/) { n++; printf "echo \"--- README example %d\" >&2\n%s\n", n, block }
		next
	}
	inblock { block = block $0 "\n" }
' "$root/README.md" | sed "s#localhost:8080#127.0.0.1:$port#g" > "$work/examples.sh"
count=$(grep -c '^echo "--- README example' "$work/examples.sh" || true)
if [ "$count" -eq 0 ]; then echo "readme-examples: no examples found" >&2; exit 1; fi

(cd "$root" && go build -o "$work/regulars" ./server)
mkdir "$work/data"
cd "$work" # the examples read data/service-api-key from where the server keeps its data
env -u MONGODB_URI -u SERVICE_API_KEYS APP_ENV=development HTTP_ADDR="127.0.0.1:$port" DATA_DIR="$work/data" LOG_LEVEL=warn \
	"$work/regulars" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do
	if curl -sf "http://127.0.0.1:$port/readyz" > /dev/null; then break; fi
	sleep 0.2
done
curl -sf "http://127.0.0.1:$port/readyz" > /dev/null || { echo "readme-examples: the server never became ready" >&2; cat "$work/server.log" >&2; exit 1; }

# curl as in the examples, failing on an HTTP error or a GraphQL error.
cat > "$work/preamble.sh" <<'PRE'
set -euo pipefail
curl() {
	local out
	out=$(command curl --fail-with-body "$@") || { echo "readme-examples: curl $* failed: $out" >&2; return 1; }
	if printf '%s' "$out" | grep -q '"errors"'; then echo "readme-examples: the answer holds errors: $out" >&2; return 1; fi
	printf '%s\n' "$out"
}
PRE
if bash -c "source '$work/preamble.sh'; source '$work/examples.sh'" > "$work/out.log"; then
	echo "readme-examples: $count examples ran, none failed"
else
	echo "readme-examples: an example failed (see above); its output:" >&2
	tail -n 20 "$work/out.log" >&2
	echo "server log:" >&2
	tail -n 20 "$work/server.log" >&2
	exit 1
fi
