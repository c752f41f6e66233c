// Deduplication and rate limiting of alerts, before they are queued.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "landfall/notifier.h"

namespace landfall::internal {

// Decides whether an alert goes out. Not thread-safe: the caller locks.
class AlertGate {
 public:
  enum class Verdict { kAccept, kDuplicate, kRateLimited };

  // An alert repeating the state (resolved or not) last accepted for its key
  // within `per_key_interval` is a duplicate; a change of state is not. At
  // most `per_minute` alerts a minute go out overall (a token bucket of that
  // size refilled evenly).
  AlertGate(absl::Duration per_key_interval, int per_minute);

  Verdict Admit(const Alert& alert, absl::Time now);
  // Alerts rate-limited since the last accepted one; reset by reading.
  int64_t TakeRateLimited();

 private:
  absl::Duration per_key_interval_;
  double capacity_;
  double tokens_;
  absl::Time refilled_ = absl::InfinitePast();
  struct Sent {
    absl::Time at;
    bool resolved = false;
  };
  std::map<std::string, Sent> last_by_key_;
  int64_t rate_limited_since_accept_ = 0;
};

}  // namespace landfall::internal
