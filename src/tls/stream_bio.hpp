// An OpenSSL BIO over an io::Stream without its layer: the TLS layer's
// ciphertext moves through the loop's backend like any other bytes.
//
// Reads take exactly what OpenSSL asks for (a record header, then its body:
// two recv calls per record), unless the caller lends a ReadAhead: then one
// recv takes what the socket has (up to its capacity) and OpenSSL's reads
// are served from it. OpenSSL itself never reads ahead, so after a call the
// ReadAhead holds exactly the bytes OpenSSL did not ask for (e.g. a request
// behind the client's Finished): the caller keeps them (they are the
// connection's) and lends them back before the next call.
#pragma once

#include <openssl/bio.h>

#include <cstddef>

#include "io/stream.hpp"

namespace httpkit::tls {

// A new BIO moving bytes through `*below`, or null. The stream is looked
// up on every read and write: set_stream_bio_target() may point it
// elsewhere (a layer that gets its stream per call).
BIO* new_stream_bio(io::Stream* below);

// Bytes read from the socket before OpenSSL asked for them.
struct ReadAhead {
  char* data = nullptr;
  std::size_t capacity = 0;
  std::size_t begin = 0;  // data[begin, end) wait to be read
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
};
// Points the BIO at `below` and, if given, reads through `ahead` (null: exact reads).
void set_stream_bio_target(BIO* bio, io::Stream* below, ReadAhead* ahead = nullptr);

}  // namespace httpkit::tls
