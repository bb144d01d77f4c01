// An OpenSSL BIO over an io::Stream without its layer: the TLS layer's
// ciphertext moves through the loop's backend like any other bytes. Reads
// take exactly what OpenSSL asks for (a record header, then its body: no
// read-ahead), so nothing behind the handshake is swallowed.
#pragma once

#include <openssl/bio.h>

#include "io/stream.hpp"

namespace httpkit::tls {

// A new BIO moving bytes through `*below`, or null. The stream is looked
// up on every read and write: set_stream_bio_target() may point it
// elsewhere (a layer that gets its stream per call).
BIO* new_stream_bio(io::Stream* below);
void set_stream_bio_target(BIO* bio, io::Stream* below);

}  // namespace httpkit::tls
