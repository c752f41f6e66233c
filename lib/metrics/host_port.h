// "HOST:PORT" as the exporters take their addresses.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace landfall::internal {

struct HostPort {
  std::string host;  // Without the brackets of "[::1]".
  std::string port;
};

// `address` split at its last colon; InvalidArgument naming `what` and the
// address unless the port is a number from `min_port` to 65535.
inline absl::StatusOr<HostPort> SplitHostPort(const std::string& what,
                                              const std::string& address,
                                              int min_port) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < min_port ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " address \"", address, "\": expected HOST:PORT"));
  }
  HostPort out{address.substr(0, colon), address.substr(colon + 1)};
  if (out.host.size() > 2 && out.host.front() == '[' &&
      out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  return out;
}

}  // namespace landfall::internal
