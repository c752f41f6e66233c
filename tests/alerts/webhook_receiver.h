// A webhook endpoint on 127.0.0.1 for tests: records each POST body and
// answers as told (fail the first N, or hang until released).
#pragma once

#include <httplib.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace landfall::testing {

class WebhookReceiver {
 public:
  // Answers 500 to the first `failures` requests, then 200.
  explicit WebhookReceiver(int failures = 0) : failures_(failures) {
    server_.Post("/hooks/T000/SECRET", [this](const httplib::Request& req,
                                              httplib::Response& res) {
      bool hang;
      int status;
      {
        absl::MutexLock lock(&mu_);
        bodies_.push_back(req.body);
        hang = hang_;
        status = static_cast<int>(bodies_.size()) <= failures_ ? 500 : 200;
      }
      if (hang) {
        // Bounded: a test that forgets to release ends in 30 seconds.
        absl::MutexLock lock(&mu_);
        mu_.AwaitWithTimeout(absl::Condition(&released_), absl::Seconds(30));
      }
      res.status = status;
      res.set_content("ok", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    // The socket listens once bound: early requests wait in its backlog.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~WebhookReceiver() {
    Release();
    server_.stop();
    thread_.join();
  }

  // Requests from now on are held without an answer until Release.
  void Hang() {
    absl::MutexLock lock(&mu_);
    hang_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }

  // The URL with a secret in its path, as a Slack webhook has.
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/T000/SECRET";
  }
  std::vector<std::string> bodies() {
    absl::MutexLock lock(&mu_);
    return bodies_;
  }
  // Waits up to `timeout` for `n` requests; whether they came.
  bool WaitForRequests(size_t n, absl::Duration timeout) {
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return bodies_.size() >= n;
    };
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<std::string> bodies_ ABSL_GUARDED_BY(mu_);
  int failures_;
  bool hang_ ABSL_GUARDED_BY(mu_) = false;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace landfall::testing
