#!/bin/bash
# Regenerates mit-gss-tokens.json: RFC 4121 tokens made by MIT krb5's GSSAPI (python3-gssapi) for each
# AES enctype, with the context key, and psrp-made tokens that MIT accepted. Lab tool, not CI.
#   Needs (Debian 12): krb5-kdc krb5-admin-server krb5-user python3-gssapi, and the project's node_modules.
#   usage: bash test/vectors/auth/kerberos/mit-gss-generate.sh        (from the repository root)
# Everything lives in a temporary directory with its own krb5.conf; the KDC listens on 127.0.0.1 only
# and is stopped (by its recorded PID) on exit.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
TMP=$(mktemp -d /tmp/psrp-mit-gss.XXXXXX)
PORT=${KDC_PORT:-61188}
REALM=PSRP.TEST
cleanup() {
  [ "${KEEP_LOG:-}" = 1 ] && tail -5 "$TMP/kdc.log" >&2
  if [ -f "$TMP/kdc.pid" ]; then kill "$(cat "$TMP/kdc.pid")" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
write_conf() { # $1 = permitted enctypes, $2 = file
cat > "$2" <<CONF
[libdefaults]
    default_realm = $REALM
    dns_lookup_realm = false
    dns_lookup_kdc = false
    rdns = false
    dns_canonicalize_hostname = false
    udp_preference_limit = 0
    permitted_enctypes = $1
[realms]
    $REALM = {
        kdc = 127.0.0.1:$PORT
    }
[domain_realm]
    localhost = $REALM
CONF
}
ALL="aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128"
# The KDC gets its own copy: MIT reloads a changed krb5.conf, and the client one changes per enctype.
write_conf "$ALL" "$TMP/kdc-krb5.conf"
write_conf "$ALL" "$TMP/krb5.conf"
cat > "$TMP/kdc.conf" <<CONF
[kdcdefaults]
    kdc_listen = 127.0.0.1:$PORT
    kdc_tcp_listen = 127.0.0.1:$PORT
[realms]
    $REALM = {
        database_name = $TMP/principal
        key_stash_file = $TMP/stash
        master_key_type = aes256-cts-hmac-sha1-96
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal aes256-cts-hmac-sha384-192:normal aes128-cts-hmac-sha256-128:normal
    }
[logging]
    kdc = FILE:$TMP/kdc.log
CONF
export KRB5_CONFIG=$TMP/krb5.conf KRB5_KDC_PROFILE=$TMP/kdc.conf KRB5CCNAME=FILE:$TMP/cc KRB5_KTNAME=FILE:$TMP/svc.keytab
kdb5_util create -s -r $REALM -P masterpw123 >/dev/null
kadmin.local -q "addprinc -pw Passw0rd! alice@$REALM" >/dev/null 2>&1
# One service per enctype, each with a single key, so the session key (and acceptor subkey) has that enctype.
for e in aes128-cts-hmac-sha1-96:17 aes256-cts-hmac-sha1-96:18 aes128-cts-hmac-sha256-128:19 aes256-cts-hmac-sha384-192:20; do
  name=${e%%:*} num=${e##*:}
  kadmin.local -q "addprinc -randkey -e $name:normal HTTP/e$num.localhost@$REALM" >/dev/null 2>&1
  kadmin.local -q "ktadd -k $TMP/svc.keytab -e $name:normal HTTP/e$num.localhost@$REALM" >/dev/null
done
KRB5_CONFIG=$TMP/kdc-krb5.conf krb5kdc -n -P "$TMP/kdc.pid" >"$TMP/kdc.stdout" 2>&1 &
sleep 0.5
cd "$ROOT"
# One run per enctype: with only that enctype permitted, the TGT, the service ticket's session key and
# the acceptor subkey (chosen by RFC 4537 enctype negotiation) all have it.
for e in aes128-cts-hmac-sha1-96:17 aes256-cts-hmac-sha1-96:18 aes128-cts-hmac-sha256-128:19 aes256-cts-hmac-sha384-192:20; do
  write_conf "${e%%:*}" "$TMP/krb5.conf"
  echo 'Passw0rd!' | kinit alice@$REALM >/dev/null
  /usr/bin/python3 "$HERE/mit-gss-generate.py" "${e##*:}" "$TMP/ctx-${e##*:}.json"
done
/usr/bin/python3 "$HERE/mit-gss-generate.py" merge "$HERE/mit-gss-tokens.json" "$TMP"/ctx-{17,18,19,20}.json
