#include "ws_echo_channel.hpp"

#include <memory>
#include <string>

#include "httpkit/channel.hpp"

namespace httpkit::test {

Response echo_channel(const Request& req) {
  static const auto handlers = [] {
    auto h = std::make_shared<ChannelHandlers>();
    h->on_receive = [](const ChannelPtr& ch, std::string_view msg, bool binary) {
      if (msg == "bye") {
        ch->close(4001, "as asked");
        return;
      }
      if (binary) {
        ch->send_binary(std::string(msg));
      } else {
        ch->send(std::string(msg));
      }
    };
    return std::shared_ptr<const ChannelHandlers>(h);
  }();
  return as_channel(req, handlers);
}

}  // namespace httpkit::test
