// Alert rules: what landfall alerts on, and freshness judged against each
// table's policy (max_lag, deadline).
//
// AlertRules is pure logic: each Check reads the scheduler's queries at a
// given time and tells a Notifier of what changed since the last Check, so
// it runs on a ManualClock in tests. It does no I/O of its own; a Runner
// (RunnerOptions::notifier) calls it from a thread of its own.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "landfall/export.h"
#include "landfall/notifier.h"
#include "landfall/pipeline.h"
#include "landfall/scheduler.h"

namespace landfall {

// Deadlines older than this are not checked (and a breach that ages out
// of it is forgotten without a recovery alert).
inline constexpr absl::Duration kDeadlineLookback = absl::Hours(24 * 7);

// The instant the partition `partition` is due by `deadline`: HH:MM local
// time in the deadline's zone on day D + days, where D is the key's date
// (a key beginning "YYYY-MM-DD"; a monthly key "YYYY-MM" counts as the last
// day of its month). nullopt for a key that holds no date. Thread-safe.
LANDFALL_EXPORT std::optional<absl::Time> PartitionDueTime(
    const FreshnessDeadline& deadline, std::string_view partition);

// "06:00 Asia/Tokyo, day +1": the deadline as the spec says it, with its
// deadline_days.
LANDFALL_EXPORT std::string DeadlineText(const FreshnessDeadline& deadline);

// A partition judged against its deadline.
struct DeadlineStatus {
  std::string partition;
  absl::Time due;
  bool breached = false;  // Due by now and not built (no version) yet.
};

// A table's freshness judged at one instant.
struct FreshnessReport {
  Freshness freshness;  // As Scheduler::GetFreshness (stale is max_lag's).
  // now - last update; infinite when the table never had one.
  absl::Duration lag = absl::InfiniteDuration();
  std::optional<FreshnessDeadline> deadline;
  // With a deadline: the partitions checked, by key. A partitioned table's
  // are its partitions due within kDeadlineLookback before now, plus, for
  // daily keys ("YYYY-MM-DD"), every day from its earliest partition (one
  // with a task or a version) whose deadline passed within the lookback:
  // a day that never arrived is breached too. An unpartitioned table has
  // one, partition "": due at the latest HH:MM at or before now, breached
  // when the table had no update since the HH:MM one day before that.
  std::vector<DeadlineStatus> deadlines;
  bool breached = false;  // Some deadline breached.
};

// Judges `table`'s freshness on `scheduler` at `now`. NotFound for an
// unknown table; the store's error when it cannot be read.
LANDFALL_EXPORT absl::StatusOr<FreshnessReport> JudgeFreshness(
    Scheduler& scheduler, const std::string& table, absl::Time now);

struct AlertOptions {
  // A pool whose oldest READY task has waited longer than this (since its
  // ready time) alerts, and recovers once none has. Default: never.
  absl::Duration queue_wait = absl::InfiniteDuration();
  // How often a Runner checks. Default 30 seconds.
  absl::Duration check_interval = absl::Seconds(30);
};

// Turns the scheduler's state into alerts, each condition once when it
// starts and (except dead tasks) once when it ends:
//   - a task in the dead letter: kTaskDead with its error and explain text,
//     once per dead attempt (retries before it alert nothing; a redriven
//     task that dies again alerts again);
//   - a table stale by its max_lag: kFreshnessLag, and its recovery;
//   - a partition past its deadline and not built: kFreshnessDeadline, and
//     its recovery once built;
//   - a pool past AlertOptions::queue_wait: kQueueWait, and its recovery;
//   - the store Unavailable: kStoreUnreachable once per outage, and its
//     recovery.
// What it has told is held in memory: a new AlertRules (a restart) tells
// the conditions that hold again. Thread-safe.
class LANDFALL_EXPORT AlertRules {
 public:
  // `notifier` is not owned and must outlive the rules.
  AlertRules(Notifier* notifier, AlertOptions options = AlertOptions());
  AlertRules(const AlertRules&) = delete;
  AlertRules& operator=(const AlertRules&) = delete;

  // Reads `scheduler` as of `now` and alerts on what changed.
  void Check(Scheduler& scheduler, absl::Time now);
  // Told of a store call's result: Unavailable starts an outage, OK ends
  // one; other errors change nothing.
  void OnStoreStatus(const absl::Status& status, absl::Time now);

 private:
  // Alerts for the conditions in `now_on` not in `*active`, and keeps
  // `now_on` as the active set. Of the conditions gone, those in
  // `recovered` (all of them when it is null) get a recovery alert; the
  // rest are forgotten.
  void Transition(std::set<std::string>* active,
                  const std::map<std::string, Alert>& now_on,
                  const std::set<std::string>* recovered, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StoreStatusLocked(const absl::Status& status, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CheckFreshness(Scheduler& scheduler, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Notifier* const notifier_;
  const AlertOptions options_;
  absl::Mutex mu_;
  std::set<std::string> dead_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> lag_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> deadline_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> queue_ ABSL_GUARDED_BY(mu_);
  bool store_down_ ABSL_GUARDED_BY(mu_) = false;
  // Recovery alerts need what the alert said; kept by key.
  std::map<std::string, Alert> told_ ABSL_GUARDED_BY(mu_);
};

}  // namespace landfall
