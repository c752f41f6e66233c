#include "landfall/simulator.h"

#include <algorithm>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "landfall/scheduler.h"
#include "lib/core/rfc3339.h"
#include "lib/pipeline/durations.h"
#include "lib/runtime/arrival_json.h"
#include "lib/runtime/arrival_order.h"
#include "lib/runtime/json_lines.h"
#include "lib/runtime/simulation_input.h"

namespace landfall {
namespace {

using internal::ArrivalOrder;
using internal::AtLine;
using internal::CheckSimulatedArrival;
using internal::JsonString;
using internal::Rfc3339;

constexpr absl::Duration kDefaultDuration = absl::Seconds(60);

absl::Time ArrivalTime(const Arrival& a) {
  return absl::FromUnixSeconds(a.at().seconds()) +
         absl::Nanoseconds(a.at().nanos());
}

// Parses line `number` of the file `path` into `message`; an arrival
// through its fast path.
absl::Status ParseLine(const std::string& path, int number,
                       absl::string_view line, Arrival* message) {
  return internal::ParseArrivalLine(path, number, line, message);
}
absl::Status ParseLine(const std::string& path, int number,
                       absl::string_view line, SimulatedAttempt* message) {
  return internal::ParseJsonLine(path, number, std::string(line), message);
}

// Appends the message of JSON line `number` of the file `path`, unless the
// line is blank; `line_numbers`, when given, gets its number.
template <typename Message>
absl::Status AddJsonLine(const std::string& path, int number,
                         absl::string_view line, std::vector<Message>* messages,
                         std::vector<int>* line_numbers) {
  if (absl::StripAsciiWhitespace(line).empty()) return absl::OkStatus();
  Message message;
  absl::Status status = ParseLine(path, number, line, &message);
  if (!status.ok()) return status;
  messages->push_back(std::move(message));
  if (line_numbers != nullptr) line_numbers->push_back(number);
  return absl::OkStatus();
}

// The messages of the JSON lines `lines` of the file `path`; `line_numbers`,
// when given, gets the line each came from.
template <typename Message>
absl::StatusOr<std::vector<Message>> ParseJsonLines(
    const std::string& path, const std::vector<std::string>& lines,
    std::vector<int>* line_numbers = nullptr) {
  std::vector<Message> messages;
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::Status status =
        AddJsonLine(path, i + 1, lines[i], &messages, line_numbers);
    if (!status.ok()) return status;
  }
  return messages;
}

// The messages of a JSON-lines file, parsed as it is read; `line_numbers`,
// when given, gets the line each came from.
template <typename Message>
absl::StatusOr<std::vector<Message>> ReadJsonLines(
    const std::string& path, std::vector<int>* line_numbers = nullptr) {
  std::vector<Message> messages;
  absl::Status status = internal::ForEachLine(
      path, [&](int number, int64_t, absl::string_view line) {
        return AddJsonLine(path, number, line, &messages, line_numbers);
      });
  if (!status.ok()) return status;
  return messages;
}

// Proto3 JSON takes any number for an enum; one naming no Outcome would
// record attempts with none.
absl::Status CheckOutcome(const SimulatedAttempt& line) {
  if (Outcome_IsValid(line.outcome())) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown outcome ", line.outcome()));
}

// How long a script line's attempts take, or why the pipeline refuses it.
absl::StatusOr<absl::Duration> ScriptLineDuration(
    const Pipeline& pipeline, const SimulatedAttempt& line) {
  if (absl::Status status = CheckOutcome(line); !status.ok()) return status;
  auto table = pipeline.FindTable(line.table());
  if (!table || pipeline.table(*table).source) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", line.table(), "\" is not a derived table of the pipeline"));
  }
  if (line.duration().empty()) return kDefaultDuration;
  absl::StatusOr<absl::Duration> parsed =
      internal::ParseSpecDuration(line.duration());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("duration: ", parsed.status().message()));
  }
  return *parsed;
}

// Arrivals held in a list, ordered by an index rather than copied.
class ListedArrivals : public internal::ArrivalOrder {
 public:
  explicit ListedArrivals(const std::vector<Arrival>& arrivals)
      : arrivals_(arrivals), order_(arrivals.size()) {
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
    std::stable_sort(order_.begin(), order_.end(), [&](size_t a, size_t b) {
      return ArrivalTime(arrivals_[a]) < ArrivalTime(arrivals_[b]);
    });
  }
  size_t size() const override { return order_.size(); }
  absl::Time TimeOf(size_t i) const override {
    return ArrivalTime(arrivals_[order_[i]]);
  }
  absl::StatusOr<const Arrival*> Read(size_t i) override {
    return &arrivals_[order_[i]];
  }

 private:
  const std::vector<Arrival>& arrivals_;
  std::vector<size_t> order_;
};

// An attempt the simulated workers are running.
struct Running {
  TaskKey task;
  int64_t attempt = 0;
  int64_t order = 0;  // Claim order, which orders finishes at one instant.
  absl::Time claimed_at;
  absl::Time finish;    // InfiniteFuture for a worker that dies silently.
  absl::Time deadline;  // The lease's end.
  absl::Duration lease;
  Outcome outcome = Outcome::SUCCEEDED;
  std::string message;

  bool hangs() const { return outcome == Outcome::LEASE_EXPIRED; }
  // A worker outliving its lease heartbeats once, halfway through it, for
  // the whole attempt: simulated workers hold their lease by definition,
  // and one heartbeat per half lease would cost time in proportion to the
  // attempt's length.
  absl::Time next_heartbeat() const {
    if (hangs() || finish < deadline) return absl::InfiniteFuture();
    return deadline - lease / 2;
  }
};

class Simulation {
 public:
  Simulation(std::shared_ptr<const Pipeline> pipeline,
             const std::vector<SimulatedAttempt>& script,
             const SimulationOptions& options, std::ostream& out)
      : pipeline_(std::move(pipeline)),
        script_(script),
        options_(options),
        out_(out) {}

  // Checks the script, before anything runs.
  absl::Status CheckScript();
  // REQUIRES: CheckScript() was OK.
  absl::Status Run(ArrivalOrder& arrivals);

 private:
  const SimulatedAttempt* Match(const ClaimedTask& task) const;
  void Finish(const Running& r, absl::Time at, Outcome outcome);
  void PrintSummary(absl::Time start);

  std::shared_ptr<const Pipeline> pipeline_;
  const std::vector<SimulatedAttempt>& script_;
  std::vector<absl::Duration> durations_;
  // The script's lines by table and partition, and by table for lines
  // without a partition, each in script order: a claim looks at its own
  // (a replay's script has a line per recorded attempt).
  absl::flat_hash_map<std::pair<std::string, std::string>, std::vector<size_t>>
      lines_of_task_;
  absl::flat_hash_map<std::string, std::vector<size_t>> lines_of_table_;
  SimulationOptions options_;
  std::ostream& out_;
  ManualClock clock_;
  std::unique_ptr<Scheduler> scheduler_;
  std::vector<Running> running_;
  int64_t attempts_ = 0;
  int64_t succeeded_ = 0;
  absl::Time last_finish_ = absl::InfinitePast();
};

const SimulatedAttempt* Simulation::Match(const ClaimedTask& task) const {
  static const std::vector<size_t> kNone;
  auto task_lines = lines_of_task_.find({task.task.table, task.task.partition});
  auto table_lines = lines_of_table_.find(task.task.table);
  const std::vector<size_t>& a =
      task_lines == lines_of_task_.end() ? kNone : task_lines->second;
  const std::vector<size_t>& b =
      table_lines == lines_of_table_.end() ? kNone : table_lines->second;
  // The first line in script order of either list that fits the attempt.
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    const size_t next =
        j == b.size() || (i < a.size() && a[i] < b[j]) ? a[i++] : b[j++];
    const SimulatedAttempt& line = script_[next];
    if (!line.has_attempt() || line.attempt() == task.attempt) return &line;
  }
  return nullptr;
}

void Simulation::Finish(const Running& r, absl::Time at, Outcome outcome) {
  ++attempts_;
  if (outcome == Outcome::SUCCEEDED) ++succeeded_;
  last_finish_ = std::max(last_finish_, at);
  // One write a line: a stream's per-item cost adds up over millions.
  const std::string line =
      absl::StrCat("{\"table\":", JsonString(r.task.table),
                   ",\"partition\":", JsonString(r.task.partition),
                   ",\"attempt\":", r.attempt,
                   ",\"claimed_at\":", JsonString(Rfc3339(r.claimed_at)),
                   ",\"finished_at\":", JsonString(Rfc3339(at)),
                   ",\"outcome\":", JsonString(Outcome_Name(outcome)), "}\n");
  out_.write(line.data(), static_cast<std::streamsize>(line.size()));
}

absl::Status Simulation::CheckScript() {
  for (size_t i = 0; i < script_.size(); ++i) {
    absl::StatusOr<absl::Duration> d =
        ScriptLineDuration(*pipeline_, script_[i]);
    if (!d.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("script line ", i + 1, ": ", d.status().message()));
    }
    durations_.push_back(*d);
    const SimulatedAttempt& line = script_[i];
    if (line.has_partition()) {
      lines_of_task_[{line.table(), line.partition()}].push_back(i);
    } else {
      lines_of_table_[line.table()].push_back(i);
    }
  }
  return absl::OkStatus();
}

absl::Status Simulation::Run(ArrivalOrder& arrivals) {
  const absl::Time start =
      arrivals.size() == 0 ? absl::UnixEpoch() : arrivals.TimeOf(0);
  clock_.Set(start);
  SchedulerOptions options;
  options.clock = &clock_;
  options.history_capacity = 1;
  options.dedup_retention = options_.dedup_retention;
  absl::StatusOr<std::unique_ptr<Scheduler>> scheduler =
      options_.store != nullptr
          ? Scheduler::Open(pipeline_, options_.store, options)
          : Scheduler::Create(pipeline_, options);
  if (!scheduler.ok()) return scheduler.status();
  if ((*scheduler)->LastSequence() > 0) {
    return absl::InvalidArgumentError(
        "the store already holds history: a simulation starts from nothing, "
        "so keep it in a new one");
  }
  scheduler_ = std::move(*scheduler);

  size_t next_arrival = 0;
  int64_t claims = 0;
  while (true) {
    // The next instant anything happens.
    absl::Time t = absl::InfiniteFuture();
    if (next_arrival < arrivals.size()) t = arrivals.TimeOf(next_arrival);
    for (const Running& r : running_) {
      t = std::min({t, r.finish, r.next_heartbeat()});
    }
    if (auto wakeup = scheduler_->NextWakeup()) t = std::min(t, *wakeup);
    if (t == absl::InfiniteFuture()) break;
    if (options_.until && t > *options_.until) break;
    clock_.Set(t);

    // Heartbeats keep the leases of live workers.
    for (Running& r : running_) {
      if (r.next_heartbeat() != t) continue;
      // Past the finish by a lease, so it never ends while the worker runs.
      const absl::Duration extend = r.finish - t + r.lease;
      absl::Status status = scheduler_->Heartbeat(r.task, r.attempt, extend);
      if (!status.ok()) return status;
      r.deadline = t + extend;
    }
    // 1. Attempts finishing, in claim order.
    std::vector<Running> finishing;
    for (auto it = running_.begin(); it != running_.end();) {
      if (it->finish == t) {
        finishing.push_back(std::move(*it));
        it = running_.erase(it);
      } else {
        ++it;
      }
    }
    std::sort(
        finishing.begin(), finishing.end(),
        [](const Running& a, const Running& b) { return a.order < b.order; });
    for (const Running& r : finishing) {
      absl::Status status =
          scheduler_->Complete(r.task, r.attempt, r.outcome, r.message);
      if (!status.ok()) return status;
      Finish(r, t, r.outcome);
    }
    // 2. Arrivals, in list order.
    while (next_arrival < arrivals.size() &&
           arrivals.TimeOf(next_arrival) == t) {
      absl::StatusOr<const Arrival*> read = arrivals.Read(next_arrival++);
      if (!read.ok()) return read.status();
      const Arrival& arrival = **read;
      absl::StatusOr<IngestResult> result = scheduler_->Ingest(arrival);
      if (!result.ok()) return result.status();
      if (result->duplicate) {
        out_ << "{\"duplicate\":" << JsonString(arrival.event_id()) << "}\n";
      }
    }
    // 3. Retry wake-ups, and the leases of silent workers running out.
    for (auto it = running_.begin(); it != running_.end();) {
      if (it->hangs() && it->deadline <= t) {
        Finish(*it, it->deadline, Outcome::LEASE_EXPIRED);
        it = running_.erase(it);
      } else {
        ++it;
      }
    }
    if (absl::Status status = scheduler_->Poll(); !status.ok()) return status;
    // 4. Claims until nothing more may start.
    int room = std::numeric_limits<int>::max();
    if (options_.workers > 0) {
      room = options_.workers - static_cast<int>(running_.size());
    }
    if (room <= 0) continue;
    absl::StatusOr<std::vector<ClaimedTask>> claimed =
        scheduler_->Claim("simulator", room);
    if (!claimed.ok()) return claimed.status();
    for (ClaimedTask& task : *claimed) {
      const SimulatedAttempt* line = Match(task);
      Running r;
      r.task = std::move(task.task);
      r.attempt = task.attempt;
      r.order = claims++;
      r.claimed_at = t;
      r.deadline = task.lease_deadline;
      r.lease = task.lease_deadline - t;
      absl::Duration duration = kDefaultDuration;
      if (line != nullptr) {
        duration = durations_[line - script_.data()];
        r.outcome = line->outcome();
        r.message = line->message();
      }
      r.finish = r.hangs() ? absl::InfiniteFuture() : t + duration;
      running_.push_back(std::move(r));
    }
  }
  PrintSummary(start);
  return absl::OkStatus();
}

void Simulation::PrintSummary(absl::Time start) {
  auto tasks = [&](TaskState state) {
    ListFilter filter;
    filter.state = state;
    std::vector<std::string> items;
    for (const TaskStatus& s : scheduler_->List(filter).tasks) {
      items.push_back(
          absl::StrCat("{\"table\":", JsonString(s.task.table),
                       ",\"partition\":", JsonString(s.task.partition), "}"));
    }
    return absl::StrCat("[", absl::StrJoin(items, ","), "]");
  };
  const absl::Duration makespan = last_finish_ == absl::InfinitePast()
                                      ? absl::ZeroDuration()
                                      : last_finish_ - start;
  out_ << "{\"summary\":{\"attempts\":" << attempts_
       << ",\"succeeded\":" << succeeded_
       << ",\"dead\":" << tasks(TaskState::kDead)
       << ",\"blocked\":" << tasks(TaskState::kBlocked)
       << ",\"makespan\":" << JsonString(absl::FormatDuration(makespan))
       << "}}\n";
}

}  // namespace

absl::StatusOr<std::vector<Arrival>> ReadArrivals(const std::string& path) {
  return ReadJsonLines<Arrival>(path);
}

absl::StatusOr<std::vector<SimulatedAttempt>> ReadScript(
    const std::string& path) {
  std::vector<int> lines;
  absl::StatusOr<std::vector<SimulatedAttempt>> script =
      ReadJsonLines<SimulatedAttempt>(path, &lines);
  if (!script.ok()) return script.status();
  for (size_t i = 0; i < script->size(); ++i) {
    absl::Status status = CheckOutcome((*script)[i]);
    if (!status.ok()) return AtLine(path, lines[i], status);
  }
  return script;
}

namespace internal {

absl::Status CheckSimulatedArrival(const Arrival& arrival) {
  if (arrival.has_at()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "event \"", arrival.event_id(), "\": a simulated arrival needs \"at\""));
}

absl::Status AtLine(const std::string& path, int line,
                    const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat(path, ":", line, ": ", status.message()));
}

absl::Status SimulateInOrder(
    std::shared_ptr<const Pipeline> pipeline, ArrivalOrder& arrivals,
    const std::vector<SimulatedAttempt>& script,
    const SimulationOptions& options, std::ostream& out,
    const std::function<absl::Status()>& check_arrivals) {
  Simulation simulation(std::move(pipeline), script, options, out);
  if (absl::Status status = simulation.CheckScript(); !status.ok()) {
    return status;
  }
  if (check_arrivals) {
    if (absl::Status status = check_arrivals(); !status.ok()) return status;
  }
  return simulation.Run(arrivals);
}

absl::StatusOr<std::vector<Arrival>> ParseSimulatedArrivals(
    std::shared_ptr<const Pipeline> pipeline, const std::string& path,
    const std::vector<std::string>& lines) {
  std::vector<int> line_numbers;
  absl::StatusOr<std::vector<Arrival>> arrivals =
      ParseJsonLines<Arrival>(path, lines, &line_numbers);
  if (!arrivals.ok()) return arrivals.status();
  // A scratch scheduler in memory refuses what the simulation's would, so
  // the rules (unknown table, event id, partition, time) are the core's.
  SchedulerOptions options;
  options.history_capacity = 1;
  absl::StatusOr<std::unique_ptr<Scheduler>> scratch =
      Scheduler::Create(std::move(pipeline), options);
  if (!scratch.ok()) return scratch.status();
  for (size_t i = 0; i < arrivals->size(); ++i) {
    absl::Status status = CheckSimulatedArrival((*arrivals)[i]);
    if (status.ok()) status = (*scratch)->Ingest((*arrivals)[i]).status();
    if (!status.ok()) return AtLine(path, line_numbers[i], status);
  }
  return arrivals;
}

absl::StatusOr<std::vector<SimulatedAttempt>> ParseSimulatedScript(
    const Pipeline& pipeline, const std::string& path,
    const std::vector<std::string>& lines) {
  std::vector<int> line_numbers;
  absl::StatusOr<std::vector<SimulatedAttempt>> script =
      ParseJsonLines<SimulatedAttempt>(path, lines, &line_numbers);
  if (!script.ok()) return script.status();
  for (size_t i = 0; i < script->size(); ++i) {
    absl::StatusOr<absl::Duration> d =
        ScriptLineDuration(pipeline, (*script)[i]);
    if (!d.ok()) return AtLine(path, line_numbers[i], d.status());
  }
  return script;
}

}  // namespace internal

absl::StatusOr<SimulationInput> ReadSimulationInput(
    std::shared_ptr<const Pipeline> pipeline, const std::string& events_path,
    const std::string& script_path) {
  SimulationInput input;
  absl::StatusOr<std::vector<std::string>> lines =
      internal::ReadLines(events_path);
  if (!lines.ok()) return lines.status();
  absl::StatusOr<std::vector<Arrival>> arrivals =
      internal::ParseSimulatedArrivals(pipeline, events_path, *lines);
  if (!arrivals.ok()) return arrivals.status();
  input.arrivals = *std::move(arrivals);
  if (script_path.empty()) return input;
  absl::StatusOr<std::vector<SimulatedAttempt>> script =
      ReadSimulationScript(*pipeline, script_path);
  if (!script.ok()) return script.status();
  input.script = *std::move(script);
  return input;
}

absl::StatusOr<std::vector<SimulatedAttempt>> ReadSimulationScript(
    const Pipeline& pipeline, const std::string& path) {
  absl::StatusOr<std::vector<std::string>> lines = internal::ReadLines(path);
  if (!lines.ok()) return lines.status();
  return internal::ParseSimulatedScript(pipeline, path, *lines);
}

absl::Status Simulate(std::shared_ptr<const Pipeline> pipeline,
                      const std::vector<Arrival>& arrivals,
                      const std::vector<SimulatedAttempt>& script,
                      const SimulationOptions& options, std::ostream& out) {
  ListedArrivals ordered(arrivals);
  return internal::SimulateInOrder(
      std::move(pipeline), ordered, script, options, out, [&] {
        for (size_t i = 0; i < arrivals.size(); ++i) {
          absl::Status status = internal::CheckSimulatedArrival(arrivals[i]);
          if (!status.ok()) {
            return absl::InvalidArgumentError(
                absl::StrCat("arrival #", i + 1, ": ", status.message()));
          }
        }
        return absl::OkStatus();
      });
}

}  // namespace landfall
