# Test certificates made with the openssl CLI (sourced, not run). Used by the
# TLS peer tests (tests/peers/tls) and the TLS benchmarks.
#
#   make_test_certs DIR
#       makes (once; a later call with the same DIR does nothing while the
#       set is complete and valid for another day) in DIR:
#         ca.pem ca.key              a test CA (ECDSA P-256), "httpkit test CA"
#         localhost-ec.pem/.key      ECDSA P-256 leaf, CN=localhost,
#                                    SAN DNS:localhost, IP:127.0.0.1, IP:::1
#         localhost-rsa.pem/.key     RSA-2048 leaf, same names
#         sni.pem/.key               ECDSA leaf for DNS:sni.test   (CN=sni.test)
#         other.pem/.key             ECDSA leaf for DNS:other.test (CN=other.test)
#         client.pem/.key            client certificate (CN=httpkit test client,
#                                    extendedKeyUsage clientAuth), for mTLS
#         expired.pem/.key           leaf for localhost whose validity ended in 2020
#         untrusted-ca.pem/.key      a CA nobody trusts, and
#         untrusted.pem/.key         a localhost leaf signed by it
#       Leaves are signed by ca.pem (valid 30 days), carry no chain; the keys
#       are unencrypted PEM (PKCS#8).
#   make_test_leaf DIR NAME CN SANS [ec|rsa]
#       one more leaf signed by DIR's CA into DIR/NAME.pem and NAME.key, always
#       made anew (e.g. a replacement certificate for a reload test). SANS as
#       in subjectAltName: "DNS:localhost,IP:127.0.0.1".
#   cert_subject FILE / cert_fingerprint FILE
#       the subject line ("CN = localhost") / SHA-256 fingerprint of a PEM cert.
#   cert_spki_sha256_base64 FILE
#       base64 SHA-256 of the certificate's SubjectPublicKeyInfo (what
#       Chromium's --ignore-certificate-errors-spki-list takes).
#
# Everything goes into DIR; nothing else is touched. Needs only openssl(1).

_certs_key() {  # _certs_key FILE ec|rsa
  if [ "$2" = rsa ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
  else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  fi
}

# _certs_sign DIR NAME CN EXTENSIONS KEYTYPE CA [DAYS]: a leaf NAME signed by CA.
_certs_sign() {
  local dir=$1 name=$2 cn=$3 ext=$4 type=$5 ca=$6 days=${7:-30}
  _certs_key "$dir/$name.key" "$type" || return 1
  openssl req -new -key "$dir/$name.key" -subj "/CN=$cn" -out "$dir/$name.csr" 2>/dev/null || return 1
  printf '%s\n' "$ext" >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha256 \
    -extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null || return 1
  rm -f "$dir/$name.csr" "$dir/$name.ext"
}

_certs_server_ext() {  # _certs_server_ext SANS
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid' "$1"
}

_certs_ca() {  # _certs_ca DIR NAME CN
  local dir=$1 name=$2 cn=$3
  _certs_key "$dir/$name.key" ec || return 1
  openssl req -x509 -new -key "$dir/$name.key" -subj "/CN=$cn" -days 30 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$dir/$name.pem" 2>/dev/null
}

make_test_leaf() {
  local dir=$1 name=$2 cn=$3 sans=$4 type=${5:-ec}
  _certs_sign "$dir" "$name" "$cn" "$(_certs_server_ext "$sans")" "$type" ca
}

# An expired leaf: openssl x509 cannot back-date, openssl ca can.
_certs_expired() {
  local dir=$1 db="$1/.ca-db"
  rm -rf "$db"
  mkdir -p "$db"
  : >"$db/index.txt"
  cat >"$db/ca.cnf" <<EOF
[ ca ]
default_ca = test
[ test ]
database = $db/index.txt
new_certs_dir = $db
serial = $db/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
EOF
  openssl rand -hex 16 >"$db/serial"
  _certs_key "$dir/expired.key" ec || return 1
  openssl req -new -key "$dir/expired.key" -subj "/CN=localhost" -out "$db/expired.csr" 2>/dev/null || return 1
  openssl ca -batch -config "$db/ca.cnf" -cert "$dir/ca.pem" -keyfile "$dir/ca.key" \
    -startdate 20200101000000Z -enddate 20200102000000Z -extensions ext \
    -in "$db/expired.csr" -out "$dir/expired.pem" -notext >/dev/null 2>&1 || return 1
  rm -rf "$db"
}

make_test_certs() {
  local dir=$1 f ok=1
  mkdir -p "$dir" || return 1
  for f in ca localhost-ec localhost-rsa sni other client expired untrusted-ca untrusted; do
    [ -s "$dir/$f.pem" ] && [ -s "$dir/$f.key" ] || { ok=0; break; }
  done
  # Done already, and the CA is good for another day: nothing to do.
  if ((ok)) && openssl x509 -checkend 86400 -noout -in "$dir/ca.pem" >/dev/null 2>&1 &&
     openssl x509 -checkend 86400 -noout -in "$dir/localhost-ec.pem" >/dev/null 2>&1; then
    return 0
  fi
  local sans="DNS:localhost,IP:127.0.0.1,IP:::1"
  _certs_ca "$dir" ca "httpkit test CA" &&
  make_test_leaf "$dir" localhost-ec localhost "$sans" ec &&
  make_test_leaf "$dir" localhost-rsa localhost "$sans" rsa &&
  make_test_leaf "$dir" sni sni.test "DNS:sni.test" ec &&
  make_test_leaf "$dir" other other.test "DNS:other.test" ec &&
  _certs_sign "$dir" client "httpkit test client" \
    "$(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid')" \
    ec ca &&
  _certs_expired "$dir" &&
  _certs_ca "$dir" untrusted-ca "untrusted test CA" &&
  _certs_sign "$dir" untrusted localhost "$(_certs_server_ext "$sans")" ec untrusted-ca || {
    echo "make_test_certs: openssl failed in $dir" >&2
    return 1
  }
  rm -f "$dir"/*.srl
}

cert_subject() {
  openssl x509 -noout -subject -nameopt oneline -in "$1" | sed 's/^subject=//; s/^ *//'
}

cert_fingerprint() {
  openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/^.*=//'
}

cert_spki_sha256_base64() {
  openssl x509 -noout -pubkey -in "$1" | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -binary | openssl base64 -A
}
