#include "landfall/replay.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/core/rfc3339.h"
#include "lib/runtime/json_object.h"

namespace landfall {
namespace {

using internal::JsonArray;
using internal::JsonObject;
using internal::JsonString;

// What the simulator gives an attempt no script line matches.
constexpr absl::Duration kSimulatorDefault = absl::Seconds(60);

bool IsDerived(const Pipeline& spec, const std::string& table) {
  std::optional<TableId> id = spec.FindTable(table);
  return id && !spec.table(*id).source;
}

std::string PoolOf(const Pipeline& spec, const std::string& table) {
  std::optional<TableId> id = spec.FindTable(table);
  if (!id || spec.table(*id).source) return "";
  return spec.pools()[spec.table(*id).pool].name;
}

Arrival ArrivalOf(const HistoryEntry& entry) {
  Arrival arrival;
  arrival.set_event_id(entry.event_id);
  arrival.set_table(entry.table);
  arrival.set_partition(entry.partition);
  const int64_t ns = absl::ToUnixNanos(entry.at);
  arrival.mutable_at()->set_seconds(ns / 1000000000);
  arrival.mutable_at()->set_nanos(static_cast<int32_t>(ns % 1000000000));
  arrival.set_origin(entry.origin);
  for (const auto& [name, value] : entry.attributes) {
    (*arrival.mutable_attributes())[name] = value;
  }
  return arrival;
}

// A script duration: to the millisecond, at least 1ms (what a script line
// takes).
std::string DurationText(absl::Duration d) {
  const int64_t ms = absl::ToInt64Milliseconds(d + absl::Microseconds(500));
  return absl::StrCat(std::max<int64_t>(ms, 1), "ms");
}

SimulatedAttempt ScriptLine(const TaskKey& task, std::optional<int64_t> n,
                            absl::Duration duration, Outcome outcome,
                            const std::string& message) {
  SimulatedAttempt line;
  line.set_table(task.table);
  line.set_partition(task.partition);
  if (n) line.set_attempt(*n);
  line.set_duration(DurationText(duration));
  line.set_outcome(outcome);
  line.set_message(message);
  return line;
}

// The lower median: a duration some attempt took.
std::optional<absl::Duration> LowerMedian(std::vector<absl::Duration> v) {
  if (v.empty()) return std::nullopt;
  const size_t mid = (v.size() - 1) / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  return v[mid];
}

// How long a task the record never attempted takes, by its pool.
class DefaultDurations {
 public:
  DefaultDurations(const RunRecord& recorded,
                   std::optional<absl::Duration> given)
      : given_(given) {
    std::map<std::string, std::vector<absl::Duration>> by_pool;
    std::vector<absl::Duration> all;
    for (const RunAttempt& a : recorded.attempts) {
      if (a.outcome != Outcome::SUCCEEDED ||
          a.finished_at == absl::InfiniteFuture()) {
        continue;
      }
      by_pool[a.pool].push_back(a.finished_at - a.claimed_at);
      all.push_back(a.finished_at - a.claimed_at);
    }
    for (auto& [pool, durations] : by_pool) {
      by_pool_[pool] = *LowerMedian(std::move(durations));
    }
    all_ = LowerMedian(std::move(all)).value_or(kSimulatorDefault);
  }

  absl::Duration For(const std::string& pool) const {
    if (given_) return *given_;
    auto it = by_pool_.find(pool);
    return it != by_pool_.end() ? it->second : all_;
  }

 private:
  std::optional<absl::Duration> given_;
  std::map<std::string, absl::Duration> by_pool_;
  absl::Duration all_;
};

// The script of the rules in replay.h: per task its recorded attempts by
// ordinal, then its last duration; per table of the spec, its default.
std::vector<SimulatedAttempt> ScriptOf(const Pipeline& spec,
                                       const RunRecord& recorded,
                                       const DefaultDurations& defaults,
                                       absl::Time history_end) {
  // Tasks in the order of their first recorded claim.
  std::vector<TaskKey> order;
  std::map<TaskKey, std::vector<const RunAttempt*>> by_task;
  for (const RunAttempt& a : recorded.attempts) {
    std::vector<const RunAttempt*>& attempts = by_task[a.task];
    if (attempts.empty()) order.push_back(a.task);
    attempts.push_back(&a);
  }
  std::vector<SimulatedAttempt> script;
  for (const TaskKey& task : order) {
    absl::Duration last;
    int64_t n = 0;
    for (const RunAttempt* a : by_task[task]) {
      if (a->finished_at == absl::InfiniteFuture()) {
        last = std::max(history_end - a->claimed_at, defaults.For(a->pool));
        script.push_back(
            ScriptLine(task, ++n, last, Outcome::SUCCEEDED, a->message));
      } else {
        last = a->finished_at - a->claimed_at;
        script.push_back(ScriptLine(task, ++n, last, a->outcome, a->message));
      }
    }
    script.push_back(
        ScriptLine(task, std::nullopt, last, Outcome::SUCCEEDED, ""));
  }
  for (const Table& table : spec.tables()) {
    if (table.source) continue;
    SimulatedAttempt line;
    line.set_table(table.name);
    line.set_duration(DurationText(defaults.For(PoolOf(spec, table.name))));
    script.push_back(std::move(line));
  }
  return script;
}

std::string WindowText(absl::Time since, absl::Time until) {
  return absl::StrCat(
      "[", internal::Rfc3339(since), ", ",
      until == absl::InfiniteFuture() ? "end" : internal::Rfc3339(until), ")");
}

// Why a window holds nothing to replay, saying what the history holds.
absl::Status NoArrivals(const std::vector<HistoryEntry>& history,
                        absl::Time since, absl::Time until) {
  int64_t arrivals = 0;
  absl::Time first = absl::InfiniteFuture(), last = absl::InfinitePast();
  for (const HistoryEntry& e : history) {
    if (e.kind != EntryKind::kArrival) continue;
    ++arrivals;
    first = std::min(first, e.at);
    last = std::max(last, e.at);
  }
  if (history.empty()) {
    return absl::InvalidArgumentError(
        "the history is empty: there is no recorded day to replay");
  }
  if (arrivals == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the history (", history.size(),
                     " entries) holds no arrival to replay"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("no arrival in the window ", WindowText(since, until),
                   ": the history's ", arrivals, " arrivals are from ",
                   internal::Rfc3339(first), " to ", internal::Rfc3339(last)));
}

absl::Duration Makespan(const RunRecord& run, absl::Time start) {
  return run.last_finish == absl::InfinitePast() ? absl::ZeroDuration()
                                                 : run.last_finish - start;
}

JsonObject RunJson(const RunRecord& run, absl::Time start) {
  int64_t succeeded = 0;
  for (const RunAttempt& a : run.attempts) {
    if (a.outcome == Outcome::SUCCEEDED &&
        a.finished_at != absl::InfiniteFuture()) {
      ++succeeded;
    }
  }
  JsonObject json;
  json.Int("attempts", static_cast<int64_t>(run.attempts.size()))
      .Int("succeeded", succeeded)
      .Str("makespan", absl::FormatDuration(Makespan(run, start)));
  return json;
}

std::string FreshnessJson(const std::map<std::string, TableFreshness>& runs,
                          const std::string& table, absl::Time start) {
  auto it = runs.find(table);
  if (it == runs.end()) return "null";
  return JsonObject()
      .Str("partition", it->second.partition)
      .Time("built_at", it->second.built_at)
      .Str("after", absl::FormatDuration(it->second.built_at - start))
      .str();
}

}  // namespace

RunRecord RecordOfHistory(const Pipeline& spec,
                          const std::vector<HistoryEntry>& history,
                          absl::Time from, absl::Time before) {
  RunRecord run;
  std::map<std::tuple<std::string, std::string, int64_t>, size_t> open;
  for (const HistoryEntry& e : history) {
    auto key = std::make_tuple(e.table, e.partition, e.attempt);
    switch (e.kind) {
      case EntryKind::kClaimed: {
        if (e.at < from || e.at >= before || !IsDerived(spec, e.table)) break;
        RunAttempt a;
        a.task = TaskKey{e.table, e.partition};
        a.attempt = e.attempt;
        a.pool = PoolOf(spec, e.table);
        a.claimed_at = e.at;
        open[key] = run.attempts.size();
        run.attempts.push_back(std::move(a));
        break;
      }
      case EntryKind::kSucceeded:
      case EntryKind::kRetryScheduled:
      case EntryKind::kDead: {
        auto it = open.find(key);
        if (it == open.end()) break;
        RunAttempt& a = run.attempts[it->second];
        a.finished_at = e.at;
        a.outcome =
            e.kind == EntryKind::kSucceeded ? Outcome::SUCCEEDED : e.outcome;
        a.message = e.detail;
        run.last_finish = std::max(run.last_finish, e.at);
        open.erase(it);
        break;
      }
      default:
        break;
    }
  }
  return run;
}

std::map<std::string, TableFreshness> FreshnessOf(const RunRecord& run) {
  std::map<std::string, TableFreshness> tables;
  for (const RunAttempt& a : run.attempts) {
    if (a.outcome != Outcome::SUCCEEDED ||
        a.finished_at == absl::InfiniteFuture()) {
      continue;
    }
    auto [it, added] = tables.try_emplace(a.task.table);
    TableFreshness& f = it->second;
    if (added || a.task.partition > f.partition) {
      f = TableFreshness{a.task.partition, a.finished_at};
    } else if (a.task.partition == f.partition) {
      f.built_at = std::max(f.built_at, a.finished_at);
    }
  }
  return tables;
}

absl::StatusOr<ReplayInput> ExtractReplay(
    const Pipeline& spec2, const std::vector<HistoryEntry>& history,
    const ReplayOptions& options) {
  ReplayInput replay;
  replay.until = options.until.value_or(absl::InfiniteFuture());
  if (options.since && options.until && *options.since >= *options.until) {
    return absl::InvalidArgumentError(
        absl::StrCat("the window ", WindowText(*options.since, replay.until),
                     " is empty: since must be before until"));
  }
  replay.since = absl::InfinitePast();
  if (options.since) replay.since = *options.since;
  std::set<std::string> dropped;
  // The window's first arrival, of a table SPEC2 keeps or not.
  std::optional<absl::Time> first_arrival;
  for (const HistoryEntry& e : history) {
    if (e.kind != EntryKind::kArrival || e.at < replay.since) continue;
    if (e.at >= replay.until) {
      replay.horizon = e.at;
      break;
    }
    if (!first_arrival) first_arrival = e.at;
    if (!spec2.FindTable(e.table)) {
      dropped.insert(e.table);
      continue;
    }
    replay.input.arrivals.push_back(ArrivalOf(e));
  }
  if (replay.input.arrivals.empty()) {
    return NoArrivals(history, replay.since, replay.until);
  }
  replay.start = *first_arrival;
  if (!options.since) replay.since = replay.start;
  replay.recorded =
      RecordOfHistory(spec2, history, replay.since, replay.horizon);
  for (const HistoryEntry& e : history) {
    if (e.kind == EntryKind::kClaimed && e.at >= replay.since &&
        e.at < replay.horizon && !IsDerived(spec2, e.table)) {
      dropped.insert(e.table);
    }
  }
  replay.dropped_tables.assign(dropped.begin(), dropped.end());
  const DefaultDurations defaults(replay.recorded, options.default_duration);
  replay.input.script =
      ScriptOf(spec2, replay.recorded, defaults, history.back().at);
  return replay;
}

absl::StatusOr<std::vector<HistoryEntry>> ReadWholeHistory(
    Scheduler& scheduler) {
  constexpr size_t kBatch = 4096;
  std::vector<HistoryEntry> entries;
  int64_t next = 1;
  while (true) {
    absl::StatusOr<std::vector<HistoryEntry>> batch =
        scheduler.ReadHistory(next, kBatch);
    if (!batch.ok()) return batch.status();
    for (HistoryEntry& e : *batch) {
      next = e.seq + 1;
      entries.push_back(std::move(e));
    }
    if (batch->size() < kBatch) return entries;
  }
}

absl::StatusOr<ReplayResult> SimulateReplay(
    std::shared_ptr<const Pipeline> spec2,
    const std::vector<HistoryEntry>& history, const ReplayOptions& options) {
  absl::StatusOr<ReplayInput> window = ExtractReplay(*spec2, history, options);
  if (!window.ok()) return window.status();
  SimulationOptions simulation;
  simulation.workers = options.workers;
  simulation.dedup_retention = options.dedup_retention;
  simulation.store =
      options.store != nullptr ? options.store : NewMemoryStore();
  // The replayed run is read back from its history, as the record is.
  std::ostream discard(nullptr);
  absl::Status status = Simulate(spec2, window->input.arrivals,
                                 window->input.script, simulation, discard);
  if (!status.ok()) return status;
  absl::StatusOr<std::unique_ptr<Scheduler>> replayed =
      Scheduler::Open(spec2, simulation.store);
  if (!replayed.ok()) return replayed.status();
  absl::StatusOr<std::vector<HistoryEntry>> entries =
      ReadWholeHistory(**replayed);
  if (!entries.ok()) return entries.status();
  ReplayResult result;
  result.replayed = RecordOfHistory(*spec2, *entries, absl::InfinitePast(),
                                    absl::InfiniteFuture());
  result.window = *std::move(window);
  return result;
}

void PrintReplay(const Pipeline& spec2, const ReplayResult& result,
                 std::ostream& out) {
  const ReplayInput& w = result.window;
  const std::map<std::string, TableFreshness> recorded =
      FreshnessOf(w.recorded);
  const std::map<std::string, TableFreshness> replayed =
      FreshnessOf(result.replayed);
  for (const Table& table : spec2.tables()) {
    if (table.source) continue;
    auto r = recorded.find(table.name);
    auto p = replayed.find(table.name);
    if (r == recorded.end() && p == replayed.end()) continue;
    std::string change = "null";
    if (r != recorded.end() && p != replayed.end() &&
        r->second.partition == p->second.partition) {
      change = JsonString(
          absl::FormatDuration(p->second.built_at - r->second.built_at));
    }
    out << JsonObject()
               .Str("table", table.name)
               .Raw("recorded", FreshnessJson(recorded, table.name, w.start))
               .Raw("replayed", FreshnessJson(replayed, table.name, w.start))
               .Raw("change", change)
               .str()
        << "\n";
  }
  std::vector<std::string> dropped;
  for (const std::string& t : w.dropped_tables)
    dropped.push_back(JsonString(t));
  JsonObject summary;
  summary.Time("since", w.since)
      .Raw("until", w.until == absl::InfiniteFuture()
                        ? "null"
                        : JsonString(internal::Rfc3339(w.until)))
      .Int("arrivals", static_cast<int64_t>(w.input.arrivals.size()))
      .Raw("dropped_tables", JsonArray(dropped))
      .Raw("recorded", RunJson(w.recorded, w.start).str())
      .Raw("replayed", RunJson(result.replayed, w.start).str())
      .Str("makespan_change",
           absl::FormatDuration(Makespan(result.replayed, w.start) -
                                Makespan(w.recorded, w.start)));
  out << JsonObject().Raw("replay", summary.str()).str() << "\n";
}

}  // namespace landfall
