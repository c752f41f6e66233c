#include "examples/cli/gantt/gantt_chart.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace landfall::cli {
namespace {

// A task as the history's `ready` entries name their cause: "T/P", or "T"
// for an unpartitioned table.
std::string TaskKeyOf(const HistoryEntry& e) {
  return e.partition.empty() ? e.table
                             : absl::StrCat(e.table, "/", e.partition);
}

// The task a `ready` entry names as its cause ("upstream T/P reached version
// N"); empty for one made due otherwise (a rerun).
absl::string_view CauseOf(absl::string_view detail) {
  constexpr absl::string_view kPrefix = "upstream ";
  constexpr absl::string_view kVersion = " reached version ";
  const size_t version = detail.rfind(kVersion);
  if (!absl::StartsWith(detail, kPrefix) ||
      version == absl::string_view::npos || version < kPrefix.size()) {
    return {};
  }
  return detail.substr(kPrefix.size(), version - kPrefix.size());
}

// What the critical path steps back to from an attempt.
struct Predecessor {
  std::optional<size_t> attempt;
  std::optional<size_t> arrival;
};

// Reads the history once, keeping per task what the critical path needs.
class ChartBuilder {
 public:
  explicit ChartBuilder(const GanttRun& run) : run_(run) {
    chart_.title = run.title;
    const Pipeline& p = *run.pipeline;
    for (const Pool& pool : p.pools()) {
      lane_of_pool_[pool.name] = chart_.lanes.size();
      chart_.lanes.push_back({pool.name, pool.slots, 0});
    }
    for (const PriorityClass& c : p.priority_classes()) {
      chart_.classes.push_back(c.name);
    }
  }

  GanttChart Build() && {
    for (const HistoryEntry& e : run_.history) Add(e);
    for (const auto& [task, index] : open_) {
      chart_.attempts[index].end = chart_.end;
    }
    AssignRows();
    MarkCriticalPath();
    return std::move(chart_);
  }

 private:
  void Add(const HistoryEntry& e) {
    chart_.begin = std::min(chart_.begin, e.at);
    chart_.end = std::max(chart_.end, e.at);
    switch (e.kind) {
      case EntryKind::kArrival:
        last_arrival_[TaskKeyOf(e)] = chart_.arrivals.size();
        chart_.arrivals.push_back({e.table, e.partition, e.at, false});
        break;
      case EntryKind::kReady: {
        const auto cause = std::string(CauseOf(e.detail));
        Predecessor& p = released_by_[TaskKeyOf(e)];
        p = Predecessor();
        if (cause.empty()) break;
        if (auto it = last_succeeded_.find(cause);
            it != last_succeeded_.end()) {
          p.attempt = it->second;
        } else if (auto a = last_arrival_.find(cause);
                   a != last_arrival_.end()) {
          p.arrival = a->second;
        }
        break;
      }
      case EntryKind::kRetryDue: {
        Predecessor& p = released_by_[TaskKeyOf(e)];
        p = Predecessor();
        if (auto it = last_attempt_.find(TaskKeyOf(e));
            it != last_attempt_.end()) {
          p.attempt = it->second;
        }
        break;
      }
      case EntryKind::kRedriven:
      case EntryKind::kRerunRequested:
        released_by_[TaskKeyOf(e)] = Predecessor();
        break;
      case EntryKind::kClaimed:
        Claim(e);
        break;
      case EntryKind::kSucceeded:
      case EntryKind::kRetryScheduled:
      case EntryKind::kDead:
        Finish(e);
        break;
      case EntryKind::kClassChanged:
        class_of_table_[e.table] = e.priority_class;
        break;
      case EntryKind::kPoolResized:
        if (auto it = lane_of_pool_.find(e.pool); it != lane_of_pool_.end()) {
          GanttLane& lane = chart_.lanes[it->second];
          if (lane.slots != kUnlimitedSlots) {
            lane.slots = std::max(lane.slots, e.slots);
          }
        }
        break;
      default:
        break;
    }
  }

  void Claim(const HistoryEntry& e) {
    const std::string key = TaskKeyOf(e);
    GanttAttempt a;
    a.table = e.table;
    a.partition = e.partition;
    a.attempt = e.attempt;
    a.start = e.at;
    a.end = e.at;
    const Pipeline& p = *run_.pipeline;
    if (std::optional<TableId> id = p.FindTable(e.table)) {
      const Table& t = p.table(*id);
      if (t.pool >= 0) a.pool = p.pools()[t.pool].name;
      a.priority_class = p.priority_classes()[t.priority_class].name;
    }
    if (auto it = class_of_table_.find(e.table); it != class_of_table_.end()) {
      a.priority_class = it->second;
    }
    if (auto it = open_.find(key); it != open_.end()) {
      // Not ended in the history, yet claimed again: its lease ran out.
      chart_.attempts[it->second].end = e.at;
      chart_.attempts[it->second].ended = AttemptEnd::kExpired;
    }
    const size_t index = chart_.attempts.size();
    chart_.attempts.push_back(std::move(a));
    predecessor_.push_back(released_by_[key]);
    open_[key] = index;
    last_attempt_[key] = index;
  }

  void Finish(const HistoryEntry& e) {
    const std::string key = TaskKeyOf(e);
    auto it = open_.find(key);
    if (it == open_.end()) return;  // Claimed before the entries given.
    GanttAttempt& a = chart_.attempts[it->second];
    a.end = e.at;
    if (e.kind == EntryKind::kSucceeded) {
      a.ended = AttemptEnd::kSucceeded;
      last_succeeded_[key] = it->second;
    } else {
      a.ended = e.outcome == Outcome::LEASE_EXPIRED ? AttemptEnd::kExpired
                : e.kind == EntryKind::kDead        ? AttemptEnd::kDead
                                                    : AttemptEnd::kRetried;
      a.dead = e.kind == EntryKind::kDead;
      a.detail = e.detail;
    }
    open_.erase(it);
  }

  void AssignRows() {
    // Per lane, when each row becomes free.
    std::vector<std::vector<absl::Time>> free_at(chart_.lanes.size());
    for (GanttAttempt& a : chart_.attempts) {
      auto lane = lane_of_pool_.find(a.pool);
      if (lane == lane_of_pool_.end()) continue;
      std::vector<absl::Time>& rows = free_at[lane->second];
      size_t row = 0;
      while (row < rows.size() && rows[row] > a.start) ++row;
      if (row == rows.size()) rows.push_back(a.end);
      rows[row] = a.end;
      a.row = static_cast<int>(row);
    }
    for (size_t i = 0; i < chart_.lanes.size(); ++i) {
      chart_.lanes[i].rows = static_cast<int>(free_at[i].size());
    }
  }

  void MarkCriticalPath() {
    std::optional<size_t> last;
    for (size_t i = 0; i < chart_.attempts.size(); ++i) {
      const GanttAttempt& a = chart_.attempts[i];
      const bool succeeded = a.ended == AttemptEnd::kSucceeded;
      if (!last) {
        last = i;
        continue;
      }
      const GanttAttempt& best = chart_.attempts[*last];
      const bool best_succeeded = best.ended == AttemptEnd::kSucceeded;
      if (succeeded != best_succeeded ? succeeded : a.end >= best.end) {
        last = i;
      }
    }
    std::vector<size_t> path;
    for (std::optional<size_t> at = last; at;) {
      path.push_back(*at);
      chart_.attempts[*at].critical = true;
      const Predecessor& p = predecessor_[*at];
      if (p.arrival) {
        chart_.critical_arrival = p.arrival;
        chart_.arrivals[*p.arrival].critical = true;
      }
      at = p.attempt;
    }
    chart_.critical_path.assign(path.rbegin(), path.rend());
  }

  const GanttRun& run_;
  GanttChart chart_;
  std::map<std::string, size_t> lane_of_pool_;
  absl::flat_hash_map<std::string, std::string> class_of_table_;
  // Per task ("T/P"): its attempt not yet ended, its latest attempt, its
  // latest succeeded attempt, its latest arrival and what made it due last.
  absl::flat_hash_map<std::string, size_t> open_, last_attempt_,
      last_succeeded_, last_arrival_;
  absl::flat_hash_map<std::string, Predecessor> released_by_;
  std::vector<Predecessor> predecessor_;  // Per attempt.
};

}  // namespace

GanttChart BuildGanttChart(const GanttRun& run) {
  return ChartBuilder(run).Build();
}

}  // namespace landfall::cli
