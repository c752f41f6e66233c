// A Notifier that keeps every alert, for tests.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "landfall/notifier.h"

namespace landfall::testing {

class RecordingNotifier : public Notifier {
 public:
  void Notify(const Alert& alert) override {
    absl::MutexLock lock(&mu_);
    alerts_.push_back(alert);
  }
  bool Flush(absl::Duration timeout) override {
    absl::MutexLock lock(&mu_);
    flushed_for_.push_back(timeout);
    return true;
  }
  std::vector<absl::Duration> flushed_for() {
    absl::MutexLock lock(&mu_);
    return flushed_for_;
  }
  std::vector<Alert> alerts() {
    absl::MutexLock lock(&mu_);
    return alerts_;
  }
  // "+key" for each alert, "-key" for each recovery, in order.
  std::vector<std::string> Keys() {
    std::vector<std::string> keys;
    for (const Alert& a : alerts()) {
      keys.push_back(absl::StrCat(a.resolved ? "-" : "+", a.key));
    }
    return keys;
  }

 private:
  absl::Mutex mu_;
  std::vector<Alert> alerts_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> flushed_for_ ABSL_GUARDED_BY(mu_);
};

}  // namespace landfall::testing
