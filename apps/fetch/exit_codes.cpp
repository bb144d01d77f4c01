#include "exit_codes.hpp"

namespace httpkit::fetch_app {

int exit_code_for(const ClientError& error) {
  switch (error.kind) {
    case ErrorKind::none:
      return 0;
    case ErrorKind::invalid_request:
      return 3;  // CURLE_URL_MALFORMAT
    case ErrorKind::dns:
      return 6;  // CURLE_COULDNT_RESOLVE_HOST
    case ErrorKind::connect:
      return 7;  // CURLE_COULDNT_CONNECT
    case ErrorKind::proxy:
      return 5;  // CURLE_COULDNT_RESOLVE_PROXY (proxy failure)
    case ErrorKind::tls:
      return 35;  // CURLE_SSL_CONNECT_ERROR
    case ErrorKind::timeout:
      return 28;  // CURLE_OPERATION_TIMEDOUT
    case ErrorKind::reset:
      return 56;  // CURLE_RECV_ERROR
    case ErrorKind::protocol:
      return 8;  // CURLE_WEIRD_SERVER_REPLY
    case ErrorKind::body_too_large:
      return kFileTooLarge;
    case ErrorKind::too_many_redirects:
      return 47;  // CURLE_TOO_MANY_REDIRECTS
    case ErrorKind::overloaded:
      return 55;  // CURLE_SEND_ERROR
    case ErrorKind::cancelled:
      return 42;  // CURLE_ABORTED_BY_CALLBACK
  }
  return 1;
}

}  // namespace httpkit::fetch_app
