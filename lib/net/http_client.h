// A small HTTP client over libcurl: one connection kept alive between
// requests. Not thread-safe: one per thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace landfall::internal {

struct HttpResponse {
  long status = 0;  // The HTTP status code.
  std::string body;
  // Header names lowercased.
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header named `name` (lowercase), or "".
  std::string Header(const std::string& name) const;
};

class HttpClient {
 public:
  // The default of set_max_body.
  static constexpr size_t kDefaultMaxBody = size_t{4} << 20;  // 4 MiB.

  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // A request under way when `*abort` turns true ends soon (within about
  // a second) as Cancelled. `abort` must outlive the client.
  void set_abort(const std::atomic<bool>* abort) { abort_ = abort; }
  // A response body longer than `bytes` is not read on: the request fails
  // ResourceExhausted, naming the URL and the limit, whether the server
  // announced the length or not. Default kDefaultMaxBody.
  void set_max_body(size_t bytes) { max_body_ = bytes; }

  // POSTs `body` to `url`. Unavailable for a transport failure (no
  // connection, a timeout), naming the URL; ResourceExhausted for a
  // response body past set_max_body; any HTTP status is a response.
  absl::StatusOr<HttpResponse> Post(
      const std::string& url,
      const std::vector<std::pair<std::string, std::string>>& headers,
      const std::string& body, absl::Duration timeout);

  // GETs `url`; errors as Post.
  absl::StatusOr<HttpResponse> Get(
      const std::string& url,
      const std::vector<std::pair<std::string, std::string>>& headers,
      absl::Duration timeout);

 private:
  // POST when `body` is set, else GET.
  absl::StatusOr<HttpResponse> Perform(
      const std::string& url,
      const std::vector<std::pair<std::string, std::string>>& headers,
      const std::string* body, absl::Duration timeout);

  void* curl_;  // CURL*, kept for its connection cache.
  const std::atomic<bool>* abort_ = nullptr;
  size_t max_body_ = kDefaultMaxBody;
};

}  // namespace landfall::internal
