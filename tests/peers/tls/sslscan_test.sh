#!/usr/bin/env bash
# An audit of httpkit-server's TLS with sslscan (Debian), with the ECDSA and
# with the RSA certificate: no SSLv2/3, TLS 1.0 or 1.1; TLS 1.2 and 1.3 on;
# only ciphers of Mozilla's "intermediate" profile (ECDHE/DHE with AES-GCM or
# ChaCha20-Poly1305: no CBC, CCM, ARIA, Camellia, static RSA, nothing under
# 128 bits); key exchange groups X25519, P-256, P-384 only; no client-initiated
# renegotiation (so none insecure); TLS_FALLBACK_SCSV honoured; not
# vulnerable to Heartbleed; the certificate valid and as made.
# (Compression: Debian's sslscan is built without zlib and cannot test it;
# s_client_test checks "Compression: NONE".)
source "$(dirname "$0")/tls_lib.sh"
command -v sslscan >/dev/null || { log "FAIL - sslscan is not installed (scripts/setup.sh installs it)"; exit 2; }

audit() {  # audit KIND(ecdsa|rsa)
  local kind=$1 xml="$PEER_TMP/scan-$1.xml" txt="$PEER_TMP/scan-$1.txt"
  timeout $((90 * SCALE)) sslscan --no-colour --sni-name=localhost --xml="$xml" "127.0.0.1:$TLS_PORT" \
    >"$txt" 2>&1 || true
  check "[$kind] sslscan produced its XML report" test -s "$xml"
  check "[$kind] TLS_FALLBACK_SCSV honoured" grep -q '^Server supports TLS Fallback SCSV' "$txt"
  # One line per finding from the XML: "ok - what" or "FAIL - what: detail".
  local line
  while IFS= read -r line; do
    PEER_CHECKS=$((PEER_CHECKS + 1))
    log "${line/#ok/ok  }"
    case "$line" in FAIL*) PEER_FAILURES=$((PEER_FAILURES + 1)) ;; esac
  done < <(/usr/bin/python3 - "$xml" "$kind" <<'PYEOF'
import sys
import xml.etree.ElementTree as ET

path, kind = sys.argv[1], sys.argv[2]
try:
    test = ET.parse(path).getroot().find("ssltest")
except (ET.ParseError, OSError) as e:
    print(f"FAIL - [{kind}] the report parses: {e}")
    sys.exit(0)

def out(what, ok, detail=""):
    print(("ok - " if ok else "FAIL - ") + f"[{kind}] {what}" + (f": {detail}" if detail else ""))

protocols = {(p.get("type"), p.get("version")): p.get("enabled") for p in test.findall("protocol")}
for version in (("ssl", "2"), ("ssl", "3"), ("tls", "1.0"), ("tls", "1.1")):
    out(f"{version[0].upper()}v{version[1]} disabled", protocols.get(version) == "0", protocols.get(version))
for version in (("tls", "1.2"), ("tls", "1.3")):
    out(f"TLSv{version[1]} enabled", protocols.get(version) == "1", protocols.get(version))

INTERMEDIATE_12 = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
}
INTERMEDIATE_13 = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
ciphers = [(c.get("sslversion"), c.get("cipher"), int(c.get("bits", "0")), c.get("strength"))
           for c in test.findall("cipher")]
c12 = {c for v, c, _, _ in ciphers if v == "TLSv1.2"}
c13 = {c for v, c, _, _ in ciphers if v == "TLSv1.3"}
out("TLS 1.2 ciphers accepted (" + " ".join(sorted(c12)) + ") are all Mozilla intermediate ones",
    c12 and c12 <= INTERMEDIATE_12, " ".join(sorted(c12 - INTERMEDIATE_12)) if c12 else "none accepted")
out("TLS 1.3 suites accepted are the profile's", c13 == INTERMEDIATE_13, " ".join(sorted(c13)))
key = "ECDSA" if kind == "ecdsa" else "RSA"
out(f"TLS 1.2 ciphers authenticate with the {key} certificate",
    all(f"-{key}-" in c for c in c12), " ".join(sorted(c12)))
weak = [f"{v} {c} {b} bits {s}" for v, c, b, s in ciphers
        if b < 128 or s not in ("strong", "acceptable") or "CBC" in c or c.endswith("-SHA")
        or "NULL" in c or "RC4" in c or "3DES" in c or "EXPORT" in c or "anon" in c.lower()]
out("no weak cipher (under 128 bits, NULL, RC4, 3DES, export, anonymous, CBC)", not weak, "; ".join(weak))
pref12 = [c.get("cipher") for c in test.findall("cipher")
          if c.get("sslversion") == "TLSv1.2" and c.get("status") == "preferred"]
out("the server's preferred TLS 1.2 cipher is AEAD with ECDHE", all("ECDHE" in c and ("GCM" in c or "CHACHA" in c)
    for c in pref12) and pref12, " ".join(pref12))

groups = {g.get("name") for g in test.findall("group")}
allowed = {"x25519", "secp256r1 (NIST P-256)", "secp384r1 (NIST P-384)"}
out("key exchange groups: X25519, P-256, P-384 only", groups and groups <= allowed,
    ", ".join(sorted(groups)))

reneg = test.find("renegotiation")
if reneg is None:
    out("renegotiation reported", False, "no <renegotiation> element")
else:
    supported, secure = reneg.get("supported"), reneg.get("secure")
    out("no insecure renegotiation", not (supported == "1" and secure != "1"),
        f"supported={supported} secure={secure}")
    out("no client-initiated renegotiation at all (as nginx)", supported == "0",
        f"supported={supported} secure={secure}")
out("TLS compression not offered", test.find("compression") is None
    or test.find("compression").get("supported") == "0")
hb = [h.get("sslversion") for h in test.findall("heartbleed") if h.get("vulnerable") != "0"]
out("not vulnerable to Heartbleed", not hb, " ".join(hb))

cert = test.find("certificates/certificate")
if cert is None:
    out("certificate reported", False)
else:
    out("certificate not expired", cert.findtext("expired") == "false", cert.findtext("expired"))
    out("certificate subject localhost, issuer the test CA",
        cert.findtext("subject") == "localhost" and cert.findtext("issuer") == "httpkit test CA",
        f"{cert.findtext('subject')} / {cert.findtext('issuer')}")
    pk = cert.find("pk")
    want = ("EC", "ecdsa-with-SHA256") if kind == "ecdsa" else ("RSA", "ecdsa-with-SHA256")
    out(f"certificate key {want[0]}", pk is not None and pk.get("type") == want[0],
        pk.get("type") if pk is not None else "none")
PYEOF
  )
}

start_tls_server --threads 2
audit ecdsa
check "server alive after the ECDSA audit" tls_alive
stop_server
check_eq "SIGTERM: exit 0" 0 "$SERVER_EXIT"

start_tls_server --threads 2 --tls-cert "$CERTS/localhost-rsa.pem" --tls-key "$CERTS/localhost-rsa.key"
audit rsa
check "server alive after the RSA audit" tls_alive
stop_server
check_eq "SIGTERM: exit 0 (RSA)" 0 "$SERVER_EXIT"
finish sslscan_test
