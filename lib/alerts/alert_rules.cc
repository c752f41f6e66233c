// The alert rules: the scheduler's state turned into alerts on change.
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "landfall/alerts.h"
#include "lib/core/rfc3339.h"

namespace landfall {
namespace {

std::string TaskText(const TaskKey& task) {
  return task.partition.empty() ? task.table
                                : absl::StrCat(task.table, "/", task.partition);
}

// The form of `alert` that says its condition ended.
Alert Recovery(Alert alert, absl::Time now) {
  alert.resolved = true;
  alert.time = now;
  alert.text = absl::StrCat("Resolved: ", alert.text);
  return alert;
}

}  // namespace

AlertRules::AlertRules(Notifier* notifier, AlertOptions options)
    : notifier_(notifier), options_(options) {}

void AlertRules::Transition(std::set<std::string>* active,
                            const std::map<std::string, Alert>& now_on,
                            const std::set<std::string>* recovered,
                            absl::Time now) {
  for (const std::string& key : *active) {
    if (now_on.count(key) > 0) continue;
    if (recovered == nullptr || recovered->count(key) > 0) {
      notifier_->Notify(Recovery(told_[key], now));
    }
    told_.erase(key);
  }
  std::set<std::string> next;
  for (const auto& [key, alert] : now_on) {
    if (active->count(key) == 0) {
      notifier_->Notify(alert);
      told_[key] = alert;
    }
    next.insert(key);
  }
  *active = std::move(next);
}

void AlertRules::OnStoreStatus(const absl::Status& status, absl::Time now) {
  absl::MutexLock lock(&mu_);
  StoreStatusLocked(status, now);
}

void AlertRules::StoreStatusLocked(const absl::Status& status, absl::Time now) {
  Alert alert;
  alert.kind = Alert::Kind::kStoreUnreachable;
  alert.key = "store";
  alert.time = now;
  if (absl::IsUnavailable(status) && !store_down_) {
    store_down_ = true;
    alert.text = absl::StrCat("landfall: the state store is unreachable: ",
                              status.message());
    alert.fields["error"] = std::string(status.message());
    notifier_->Notify(alert);
  } else if (status.ok() && store_down_) {
    store_down_ = false;
    alert.text = "landfall: the state store is reachable again";
    alert.resolved = true;
    notifier_->Notify(alert);
  }
}

void AlertRules::Check(Scheduler& scheduler, absl::Time now) {
  absl::MutexLock lock(&mu_);
  const Pipeline& pipeline = scheduler.pipeline();

  std::map<std::string, Alert> dead;
  for (const TaskStatus& t : scheduler.DeadLetter()) {
    const std::string key = absl::StrCat("dead/", t.task.table, "/",
                                         t.task.partition, "/", t.attempt);
    if (dead_.count(key) > 0) {
      dead[key] = told_[key];
      continue;
    }
    Alert& a = dead[key];
    a.kind = Alert::Kind::kTaskDead;
    a.key = key;
    a.table = t.task.table;
    a.partition = t.task.partition;
    a.time = now;
    a.text =
        absl::StrCat("landfall: task ", TaskText(t.task),
                     " is DEAD after attempt ", t.attempt, ": ", t.last_error);
    a.fields["error"] = t.last_error;
    a.fields["attempt"] = absl::StrCat(t.attempt);
    if (absl::StatusOr<Explanation> e = scheduler.Explain(t.task); e.ok()) {
      a.fields["explain"] = e->ToString();
    }
  }
  // A dead task leaving the dead letter (redriven, marked) was an
  // operator's doing: no recovery alert.
  static const std::set<std::string>* const kNone = new std::set<std::string>;
  Transition(&dead_, dead, kNone, now);

  CheckFreshness(scheduler, now);

  std::map<std::string, Alert> queue;
  if (options_.queue_wait != absl::InfiniteDuration()) {
    ListFilter ready;
    ready.state = TaskState::kReady;
    std::map<PoolId, TaskStatus> oldest;
    for (const TaskStatus& t : scheduler.List(ready).tasks) {
      const PoolId pool =
          pipeline.table(*pipeline.FindTable(t.task.table)).pool;
      auto [it, added] = oldest.emplace(pool, t);
      if (!added && t.ready_since < it->second.ready_since) it->second = t;
    }
    for (const auto& [pool, t] : oldest) {
      const absl::Duration waited = now - t.ready_since;
      if (waited <= options_.queue_wait) continue;
      const std::string& name = pipeline.pools()[pool].name;
      Alert& a = queue[absl::StrCat("queue/", name)];
      a.kind = Alert::Kind::kQueueWait;
      a.key = absl::StrCat("queue/", name);
      a.pool = name;
      a.time = now;
      a.text = absl::StrCat(
          "landfall: pool ", name, " has a task READY for ",
          absl::FormatDuration(absl::Trunc(waited, absl::Seconds(1))), " (",
          TaskText(t.task), "), over the ",
          absl::FormatDuration(options_.queue_wait), " threshold");
      a.fields["oldest_task"] = TaskText(t.task);
      a.fields["ready_since"] = internal::Rfc3339(t.ready_since);
      a.fields["threshold"] = absl::FormatDuration(options_.queue_wait);
    }
  }
  Transition(&queue_, queue, nullptr, now);
}

void AlertRules::CheckFreshness(Scheduler& scheduler, absl::Time now) {
  std::map<std::string, Alert> lag, deadline;
  std::set<std::string> met;  // Deadlines checked and not breached.
  for (const Table& t : scheduler.pipeline().tables()) {
    if (t.max_lag == absl::InfiniteDuration() && !t.deadline) continue;
    absl::StatusOr<FreshnessReport> r = JudgeFreshness(scheduler, t.name, now);
    StoreStatusLocked(r.status(), now);
    if (!r.ok()) {
      // Unknown this time: keep what was told, alert nothing new.
      for (const std::string& key : lag_) lag[key] = told_[key];
      for (const std::string& key : deadline_) deadline[key] = told_[key];
      Transition(&lag_, lag, nullptr, now);
      Transition(&deadline_, deadline, nullptr, now);
      return;
    }
    if (r->freshness.stale) {
      Alert& a = lag[absl::StrCat("lag/", t.name)];
      a.kind = Alert::Kind::kFreshnessLag;
      a.key = absl::StrCat("lag/", t.name);
      a.table = t.name;
      a.time = now;
      const std::string lag_text =
          r->lag == absl::InfiniteDuration()
              ? "never updated"
              : absl::StrCat(
                    "last updated ",
                    absl::FormatDuration(absl::Trunc(r->lag, absl::Minutes(1))),
                    " ago");
      a.text = absl::StrCat("landfall: table ", t.name, " is stale: ", lag_text,
                            " (max_lag ", absl::FormatDuration(t.max_lag), ")");
      a.fields["max_lag"] = absl::FormatDuration(t.max_lag);
      a.fields["last_update"] = internal::Rfc3339(r->freshness.last_update);
    }
    for (const DeadlineStatus& d : r->deadlines) {
      const std::string key =
          absl::StrCat("deadline/", t.name, "/", d.partition);
      if (!d.breached) {
        if (d.due <= now) met.insert(key);
        continue;
      }
      Alert& a = deadline[key];
      a.kind = Alert::Kind::kFreshnessDeadline;
      a.key = key;
      a.table = t.name;
      a.partition = d.partition;
      a.time = now;
      const std::string what =
          d.partition.empty()
              ? absl::StrCat("table ", t.name)
              : absl::StrCat("partition ", t.name, "/", d.partition);
      a.text = absl::StrCat("landfall: ", what, " missed its deadline ",
                            internal::Rfc3339(d.due), " (",
                            DeadlineText(*t.deadline), ")");
      a.fields["due"] = internal::Rfc3339(d.due);
    }
  }
  Transition(&lag_, lag, nullptr, now);
  Transition(&deadline_, deadline, &met, now);
}

}  // namespace landfall
