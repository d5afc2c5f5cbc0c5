#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkup keys --provider and config check against identity providers
# started here (tests/idp/mockop.mjs over http and https): relying-party
# keys generated with mode 0600, a rotation that keeps the old key (what
# was signed or encrypted with it still works: tests/cli_keys), a JWKS
# without private parts; and config check saying in one line what is wrong
# with each provider: a good one, a mismatched issuer, an unreachable one,
# a TLS failure, a missing endpoint.
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/cli_common.sh"
. "$top_srcdir/tests/idp/idp.sh"
d=$(mktemp -d "${TMPDIR:-/tmp}/ck-cli-oidc.XXXXXX") || exit 99
trap 'idp_stop_all; rm -rf "$d"' EXIT
trap 'exit 1' INT TERM
mkdir "$d/store" || exit 99
store="lmdb:$d/store"

idp_dir || exit 99
CK_MOCKOP_SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export CK_MOCKOP_SECRET
port=$(idp_start mockop mockop.mjs) || exit 99
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$d/tls.key" -out "$d/tls.crt" 2>/dev/null || exit 99
tls_port=$(idp_start mockop-tls mockop.mjs "$d/tls.crt" "$d/tls.key") || exit 99
url="http://127.0.0.1:$port"
tls_url="https://127.0.0.1:$tls_port"
# A port nothing listens on: one the kernel just gave and took back.
dead_port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})') || exit 99
# A discovery document without a token endpoint, served by a static file server.
mkdir -p "$d/www/.well-known" || exit 99
node -e '
const http = require("http"), fs = require("fs");
const s = http.createServer((req, res) => {
  const iss = `http://127.0.0.1:${s.address().port}`;
  res.writeHead(req.url === "/.well-known/openid-configuration" ? 200 : 404,
                { "content-type": "application/json" });
  res.end(req.url === "/.well-known/openid-configuration"
    ? JSON.stringify({ issuer: iss, authorization_endpoint: `${iss}/authorize`, jwks_uri: `${iss}/jwks` })
    : "{}");
});
s.listen(0, "127.0.0.1", () => fs.writeFileSync(process.argv[1], `${s.address().port}\n`));
process.on("SIGTERM", () => process.exit(0));
' "$d/static.port" > "$d/static.log" 2>&1 &
echo $! > "$CK_IDP_TMP/static.pid"
i=0
while [ ! -s "$d/static.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
static_port=$(cat "$d/static.port") || exit 99

# provider NAME ISSUER [EXTRA LINES...]: a [provider] section on stdout.
provider() {
    name=$1 iss=$2
    shift 2
    printf '[provider %s]\nissuer = %s\nclient_id = mock-client\nclient_secret = %s\n' \
        "$name" "$iss" "$CK_MOCKOP_SECRET"
    printf 'redirect_uri = https://app.example.test/callback\nhttp_timeout = 5\n'
    for line in "$@"; do echo "$line"; done
}

keys_section() {
    echo "signing_key = $d/keys/sig.pem"
    echo "signing_key_old = $d/keys/sig-old.pem"
    echo "encryption_key = $d/keys/enc.pem"
    echo "encryption_key_old = $d/keys/enc-old.pem"
}

# ---- keys --provider --------------------------------------------------------

mkdir "$d/keys" && chmod 700 "$d/keys" || exit 99
conf=$(mkconf keys)
{
    provider corp "$url" "client_auth = private_key_jwt"
    keys_section
    provider plain "$url"
} >> "$conf"

expect 1 "keys jwks before any key" "$ck" -c "$conf" keys jwks --provider corp
has err "sig.pem" "the missing key file is named"
expect 1 "keys rotate before any key" "$ck" -c "$conf" keys rotate --provider corp
has err "keys generate --provider corp" "rotate says how to make the keys"
expect 1 "keys generate for an unknown provider" "$ck" -c "$conf" keys generate --provider nope
has err "no [provider nope] in $conf" "the unknown provider is named"
expect 1 "keys generate for a provider without key files" "$ck" -c "$conf" keys generate \
    --provider plain
has err "[provider plain] names no signing_key or encryption_key" "the missing keys are named"
expect 2 "keys generate --use x" "$ck" -c "$conf" keys generate --provider corp --use x
expect 2 "keys rotate --keep with --provider" "$ck" -c "$conf" keys rotate --provider corp \
    --keep 1
expect 2 "keys generate --use without --provider" "$ck" -c "$conf" keys generate --use sig
expect 2 "keys jwks --use" "$ck" -c "$conf" keys jwks --use sig
expect 1 "keys jwks of an unknown provider" "$ck" -c "$conf" keys jwks --provider nope
has err "no [provider nope]" "jwks names the unknown provider"

expect 0 "keys generate --provider" "$ck" -c "$conf" keys generate --provider corp
for f in sig sig-old enc enc-old; do
    mode=$(stat -c %a "$d/keys/$f.pem" 2>/dev/null)
    if [ "$mode" = 600 ]; then ok "$f.pem mode 0600"; else not_ok "$f.pem mode '$mode'"; fi
done
expect 1 "keys generate again" "$ck" -c "$conf" keys generate --provider corp
has err "exists" "generate never replaces a key"
expect 0 "keys jwks --provider" "$ck" -c "$conf" keys jwks --provider corp
cp "$d/out" "$d/jwks1"
if [ "$(grep -c '"kid"' "$d/jwks1")" = 4 ] && [ "$(grep -c '"use": "sig"' "$d/jwks1")" = 2 ] &&
    [ "$(grep -c '"use": "enc"' "$d/jwks1")" = 2 ]; then ok "the JWKS has 2 sig and 2 enc keys"
else not_ok "the JWKS has 2 sig and 2 enc keys"; show "$d/jwks1"; fi
hasnt jwks1 '"d"' "the JWKS has no private part"
if node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$d/jwks1"; then
    ok "the JWKS is JSON"; else not_ok "the JWKS is JSON"; fi
expect 0 "keys jwks (every provider)" "$ck" -c "$conf" keys jwks
if cmp -s "$d/out" "$d/jwks1"; then ok "the union is the one provider's set"
else not_ok "the union is the one provider's set"; show "$d/out"; fi

cp "$d/keys/sig.pem" "$d/keys/sig.before" && cp "$d/keys/enc.pem" "$d/keys/enc.before" || exit 99
expect 0 "keys rotate --provider" "$ck" -c "$conf" keys rotate --provider corp
has out "the previous key" "rotate names the key it keeps"
if cmp -s "$d/keys/sig.before" "$d/keys/sig-old.pem" && cmp -s "$d/keys/enc.before" \
    "$d/keys/enc-old.pem"; then ok "rotation keeps the old keys as *_old"
else not_ok "rotation keeps the old keys as *_old"; fi
if ! cmp -s "$d/keys/sig.before" "$d/keys/sig.pem" && ! cmp -s "$d/keys/enc.before" \
    "$d/keys/enc.pem"; then ok "rotation puts new keys in place"
else not_ok "rotation puts new keys in place"; fi
for f in sig sig-old enc enc-old; do
    mode=$(stat -c %a "$d/keys/$f.pem")
    if [ "$mode" = 600 ]; then ok "$f.pem mode 0600 after rotate"
    else not_ok "$f.pem mode $mode after rotate"; fi
done
[ -e "$d/keys/sig.pem.new" ] && not_ok "no temporary key left" || ok "no temporary key left"
expect 0 "keys jwks after rotate" "$ck" -c "$conf" keys jwks --provider corp
hasnt out '"d"' "the JWKS after rotation has no private part"
old_kids=$(grep -o '"kid": "[^"]*"' "$d/jwks1" | sed -n 1p)
has out "$old_kids" "the old signing key is still published"
if CK_KEYS_DIR="$d/keys" "$top_builddir/tests/cli_keys" > "$d/units" 2>&1; then
    ok "what the old keys made still verifies and decrypts"
else not_ok "what the old keys made still verifies and decrypts"; fi
show "$d/units"
expect 0 "keys rotate --use enc" "$ck" -c "$conf" keys rotate --provider corp --use enc
has out "new encryption key" "--use enc rotates the encryption key"
hasnt out "new signing key" "--use enc leaves the signing key"
# A section without *_old cannot rotate without losing the key at once.
conf2=$(mkconf noold)
{
    provider one "$url" "client_auth = private_key_jwt" "signing_key = $d/keys/one.pem"
} >> "$conf2"
expect 0 "keys generate of a signing key only" "$ck" -c "$conf2" keys generate --provider one
expect 1 "keys rotate without signing_key_old" "$ck" -c "$conf2" keys rotate --provider one
has err "has no signing_key_old" "the missing key name is given"
expect 1 "keys generate --use enc without encryption_key" "$ck" -c "$conf2" keys generate \
    --provider one --use enc
has err "has no encryption_key" "the missing encryption_key is named"

# ---- config check -----------------------------------------------------------

conf=$(mkconf good)
provider good "$url" >> "$conf"
provider tls "$tls_url" "ca_file = $d/tls.crt" >> "$conf"
expect 0 "config check with reachable providers" "$ck" -c "$conf" config check
has out "ok       provider good: $url: discovery and JWKS fetched, 1 signing key" \
    "the good provider is checked"
has out "ok       provider tls: $tls_url" "the https provider with its CA is checked"
has out "configuration is usable" "config check concludes"

curl -fsS -X POST "$url/ctl?disc_issuer=http://127.0.0.1:1/other" > /dev/null || exit 99
expect 1 "config check with a mismatched issuer" "$ck" -c "$conf" config check
has out "FAIL     provider good: issuer mismatch: the discovery document of $url names another issuer" \
    "the mismatch is said in one line"
has out "ok       provider tls" "the other provider is still checked"
curl -fsS -X POST "$url/ctl?disc_issuer=" > /dev/null || exit 99

conf=$(mkconf bad)
{
    provider down "http://127.0.0.1:$dead_port"
    provider untrusted "$tls_url"
    provider partial "http://127.0.0.1:$static_port"
    provider broken "$url" "client_auth = private_key_jwt"
    provider fine "$url"
} >> "$conf"
expect 1 "config check with bad providers" "$ck" -c "$conf" config check
has out "FAIL     provider down: unreachable: discovery: http://127.0.0.1:$dead_port/.well-known/openid-configuration" \
    "an unreachable provider is named"
has out "FAIL     provider untrusted: TLS failure: discovery: $tls_url/.well-known/openid-configuration" \
    "a TLS failure is named"
has out "FAIL     provider partial: missing endpoint: discovery: token_endpoint missing" \
    "a missing endpoint is named"
has out "FAIL     provider broken: $conf" "a bad section is named with its file"
has out "signing_key (private_key_jwt) is required" "what the bad section lacks is said"
has out "ok       provider fine" "a good provider among bad ones is ok"
if [ "$(grep -c '^FAIL     provider' "$d/out")" = 4 ]; then ok "one line per bad provider"
else not_ok "one line per bad provider"; show "$d/out"; fi
hasnt out "$CK_MOCKOP_SECRET" "no client secret in the output"
hasnt err "$CK_MOCKOP_SECRET" "no client secret in the errors"

printf '[provider x]\nfrobnicate = 1\n' >> "$conf"
expect 1 "an unknown provider key" "$ck" -c "$conf" config check
has err "[provider x] frobnicate: unknown key" "the unknown key is named"

echo "1..$n"
echo "# cli oidc: $((n - fails)) of $n checks passed"
[ "$fails" = 0 ]
