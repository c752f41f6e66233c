// The webhook notifier: one delivery thread and queue per URL, fed through
// one gate that deduplicates and rate-limits.
#include <algorithm>
#include <atomic>
#include <deque>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "landfall/notifier.h"
#include "lib/alerts/alert_gate.h"
#include "lib/net/http_client.h"
#include "lib/runtime/json_object.h"

namespace landfall {

Notifier::~Notifier() = default;
bool Notifier::Flush(absl::Duration) { return true; }

const char* AlertKindName(Alert::Kind kind) {
  switch (kind) {
    case Alert::Kind::kTaskDead:
      return "task_dead";
    case Alert::Kind::kFreshnessLag:
      return "freshness_lag";
    case Alert::Kind::kFreshnessDeadline:
      return "freshness_deadline";
    case Alert::Kind::kQueueWait:
      return "queue_wait";
    case Alert::Kind::kStoreUnreachable:
      return "store_unreachable";
  }
  return "unknown";  // Not reached: every kind is named above.
}

std::string WebhookNotifier::Body(const Alert& alert) {
  internal::JsonObject fields;
  for (const auto& [name, value] : alert.fields) fields.Str(name, value);
  return internal::JsonObject()
      .Str("text", alert.text)
      .Str("kind", AlertKindName(alert.kind))
      .Bool("resolved", alert.resolved)
      .Str("key", alert.key)
      .Str("table", alert.table)
      .Str("partition", alert.partition)
      .Str("pool", alert.pool)
      .Time("time", alert.time)
      .Raw("fields", fields.str())
      .str();
}

std::string WebhookNotifier::RedactUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "(a URL)";
  const size_t host_end = url.find_first_of("/?#", scheme + 3);
  std::string host = url.substr(scheme + 3, host_end == std::string::npos
                                                ? std::string::npos
                                                : host_end - scheme - 3);
  // Credentials in the authority ("user:token@host") are secrets too.
  if (const size_t at = host.rfind('@'); at != std::string::npos) {
    host = host.substr(at + 1);
  }
  return absl::StrCat(url.substr(0, scheme), "://", host, "/...");
}

class WebhookNotifier::Impl {
 public:
  explicit Impl(WebhookOptions options)
      : options_(std::move(options)),
        clock_(options_.clock != nullptr ? options_.clock
                                         : SystemClock::Default()),
        gate_(options_.per_key_interval, options_.max_per_minute) {
    for (const std::string& url : options_.urls) {
      endpoints_.push_back(std::make_unique<Endpoint>());
      endpoints_.back()->url = url;
    }
    for (auto& e : endpoints_) {
      e->thread = std::thread([this, ep = e.get()] { DeliverLoop(*ep); });
    }
  }

  ~Impl() {
    {
      absl::MutexLock lock(&mu_);
      stop_.store(true);
      changed_.SignalAll();
    }
    for (auto& e : endpoints_) e->thread.join();
  }

  void Notify(const Alert& alert) {
    absl::MutexLock lock(&mu_);
    switch (gate_.Admit(alert, clock_->Now())) {
      case internal::AlertGate::Verdict::kDuplicate:
        ++stats_.deduplicated;
        return;
      case internal::AlertGate::Verdict::kRateLimited:
        ++stats_.rate_limited;
        return;
      case internal::AlertGate::Verdict::kAccept:
        break;
    }
    ++stats_.accepted;
    Alert out = alert;
    if (const int64_t dropped = gate_.TakeRateLimited(); dropped > 0) {
      out.text = absl::StrCat(out.text, " (", dropped,
                              " earlier alerts dropped by the rate limit)");
      out.fields["rate_limited"] = absl::StrCat(dropped);
    }
    const std::string body = Body(out);
    for (auto& e : endpoints_) {
      if (static_cast<int>(e->queue.size()) >= options_.queue_capacity) {
        ++stats_.queue_full;
        continue;
      }
      e->queue.push_back(body);
    }
    changed_.SignalAll();
  }

  bool Flush(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    absl::MutexLock lock(&mu_);
    while (!Idle()) {
      if (changed_.WaitWithDeadline(&mu_, deadline)) return Idle();
    }
    return true;
  }

  WebhookStats stats() {
    absl::MutexLock lock(&mu_);
    return stats_;
  }

 private:
  struct Endpoint {
    std::string url;
    std::deque<std::string> queue;  // Bodies; the front is under way.
    bool busy = false;
    std::thread thread;
  };

  bool Idle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const auto& e : endpoints_) {
      if (e->busy || !e->queue.empty()) return false;
    }
    return true;
  }

  void DeliverLoop(Endpoint& e) {
    internal::HttpClient client;
    client.set_abort(&stop_);
    while (true) {
      std::string body;
      {
        absl::MutexLock lock(&mu_);
        while (!stop_.load() && e.queue.empty()) changed_.Wait(&mu_);
        if (stop_.load()) return;
        body = e.queue.front();
        e.busy = true;
      }
      const bool delivered = Deliver(client, e.url, body);
      absl::MutexLock lock(&mu_);
      if (stop_.load()) return;
      ++(delivered ? stats_.delivered : stats_.given_up);
      e.queue.pop_front();
      e.busy = false;
      changed_.SignalAll();
    }
  }

  // Posts `body` to `url`, trying again with backoff; whether a 2xx came.
  bool Deliver(internal::HttpClient& client, const std::string& url,
               const std::string& body) {
    const std::string redacted = RedactUrl(url);
    for (int attempt = 1;; ++attempt) {
      {
        absl::MutexLock lock(&mu_);
        ++stats_.requests;
      }
      absl::StatusOr<internal::HttpResponse> response = client.Post(
          url, {{"Content-Type", "application/json"}}, body, options_.timeout);
      if (stop_.load()) return false;
      bool retryable = true;
      absl::Status problem;
      if (!response.ok()) {
        // The client's message names the whole URL: keep only its host.
        problem = absl::UnavailableError(absl::StrReplaceAll(
            response.status().message(), {{url, redacted}}));
      } else if (response->status >= 200 && response->status < 300) {
        return true;
      } else {
        retryable = response->status == 429 || response->status >= 500;
        problem = absl::UnavailableError(
            absl::StrCat("POST ", redacted, ": HTTP ", response->status));
      }
      const bool last = !retryable || attempt >= options_.max_attempts;
      Report(absl::Status(
          problem.code(),
          absl::StrCat("webhook alert: ", problem.message(),
                       last ? absl::StrCat(" (given up after ", attempt,
                                           attempt == 1 ? " try)" : " tries)")
                            : " (trying again)")));
      if (last) return false;
      const absl::Duration wait =
          std::min(options_.max_backoff,
                   options_.initial_backoff * (1 << std::min(attempt - 1, 20)));
      absl::MutexLock lock(&mu_);
      const absl::Time until = absl::Now() + wait;
      while (!stop_.load() && !changed_.WaitWithDeadline(&mu_, until)) {
      }
      if (stop_.load()) return false;
    }
  }

  void Report(const absl::Status& problem) {
    if (options_.on_error) options_.on_error(problem);
  }

  const WebhookOptions options_;
  const Clock* clock_;
  absl::Mutex mu_;
  absl::CondVar changed_;
  std::atomic<bool> stop_{false};
  internal::AlertGate gate_ ABSL_GUARDED_BY(mu_);
  WebhookStats stats_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Endpoint>> endpoints_;  // Fixed after start.
};

absl::StatusOr<std::unique_ptr<WebhookNotifier>> WebhookNotifier::Create(
    WebhookOptions options) {
  auto bad = [](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("webhook notifier: ", why));
  };
  if (options.urls.empty()) return bad("no URL");
  for (const std::string& url : options.urls) {
    if (!absl::StartsWithIgnoreCase(url, "http://") &&
        !absl::StartsWithIgnoreCase(url, "https://")) {
      return bad(
          absl::StrCat("URL ", RedactUrl(url), " is not http:// or https://"));
    }
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return bad("timeout must be positive");
  }
  if (options.max_attempts < 1) return bad("max_attempts must be >= 1");
  if (options.queue_capacity < 1) return bad("queue_capacity must be >= 1");
  if (options.max_per_minute < 1) return bad("max_per_minute must be >= 1");
  if (options.initial_backoff < absl::ZeroDuration() ||
      options.max_backoff < options.initial_backoff) {
    return bad("backoff must be 0 <= initial_backoff <= max_backoff");
  }
  return std::unique_ptr<WebhookNotifier>(
      new WebhookNotifier(std::make_unique<Impl>(std::move(options))));
}

WebhookNotifier::WebhookNotifier(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
WebhookNotifier::~WebhookNotifier() = default;
void WebhookNotifier::Notify(const Alert& alert) { impl_->Notify(alert); }
bool WebhookNotifier::Flush(absl::Duration timeout) {
  return impl_->Flush(timeout);
}
WebhookStats WebhookNotifier::stats() const { return impl_->stats(); }

}  // namespace landfall
