// The public face: Client, RequestHandle, the futures and the blocking call.
#include "httpkit/client.hpp"

#include <mutex>

#include "client/client_core.hpp"

namespace httpkit {

using client::ClientCore;
using client::Exchange;

Client::Client(ClientConfig config)
    : core_(std::make_shared<ClientCore>(std::move(config), nullptr)) {
  core_->start();
}

Client::~Client() {
  core_->shutdown();
}

RequestHandle Client::request(RequestOptions opts, ResponseCallback callback) {
  auto ex =
      std::make_shared<Exchange>(core_->next_exchange_id(), std::move(opts), std::move(callback));
  // URL, query and body are worked out here, off the loop (multipart files
  // are read from disk).
  ex->prepare_error = ex->prepare();
  RequestHandle handle(core_, ex);
  core_->submit(std::move(ex));
  return handle;
}

std::future<ClientResponse> Client::request(RequestOptions opts) {
  auto promise = std::make_shared<std::promise<ClientResponse>>();
  auto future = promise->get_future();
  request(std::move(opts), [promise](ClientResponse r) { promise->set_value(std::move(r)); });
  return future;
}

ClientResponse Client::fetch(RequestOptions opts) {
  if (core_->on_loop_thread()) {
    ClientResponse r;
    r.url = opts.url;
    r.error = {ErrorKind::invalid_request, TimeoutKind::none, 0,
               "fetch() called on the client's own loop thread (it would wait forever)"};
    r.opts = std::move(opts);
    return r;
  }
  return request(std::move(opts)).get();
}

ClientStats Client::stats() const {
  return core_->stats();
}

void RequestHandle::cancel() const {
  if (auto core = core_.lock()) core->cancel(exchange_);
}

void RequestHandle::pause() const {
  if (auto core = core_.lock()) core->pause(exchange_);
}

void RequestHandle::resume() const {
  if (auto core = core_.lock()) core->resume(exchange_);
}

Client& default_client() {
  // Never destroyed: a static destructor would join the loop thread after
  // other statics it may use are gone.
  static Client* client = new Client();
  return *client;
}

ClientResponse fetch(RequestOptions opts) {
  return default_client().fetch(std::move(opts));
}

}  // namespace httpkit
