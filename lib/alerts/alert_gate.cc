#include "lib/alerts/alert_gate.h"

#include <algorithm>

namespace landfall::internal {

AlertGate::AlertGate(absl::Duration per_key_interval, int per_minute)
    : per_key_interval_(per_key_interval),
      capacity_(per_minute),
      tokens_(per_minute) {}

AlertGate::Verdict AlertGate::Admit(const Alert& alert, absl::Time now) {
  // Only a repeat of the state last sent for the key is a duplicate: a
  // condition that comes back after its recovery is news.
  auto it = last_by_key_.find(alert.key);
  if (it != last_by_key_.end() && it->second.resolved == alert.resolved &&
      now - it->second.at < per_key_interval_) {
    return Verdict::kDuplicate;
  }
  if (refilled_ != absl::InfinitePast()) {
    const double minutes = absl::ToDoubleMinutes(now - refilled_);
    tokens_ = std::min(capacity_, tokens_ + std::max(0.0, minutes) * capacity_);
  }
  refilled_ = now;
  if (tokens_ < 1) {
    ++rate_limited_since_accept_;
    return Verdict::kRateLimited;
  }
  tokens_ -= 1;
  last_by_key_[alert.key] = Sent{now, alert.resolved};
  // Keys past their interval are forgotten, so that the map stays small.
  for (auto k = last_by_key_.begin(); k != last_by_key_.end();) {
    k = now - k->second.at >= per_key_interval_ ? last_by_key_.erase(k)
                                                : std::next(k);
  }
  return Verdict::kAccept;
}

int64_t AlertGate::TakeRateLimited() {
  return std::exchange(rate_limited_since_accept_, 0);
}

}  // namespace landfall::internal
