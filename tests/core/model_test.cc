// Randomized model-based test of the scheduler's invariants. Each seed builds
// a small random pipeline and drives it with a random sequence of arrivals
// (some duplicated), claims, completions (some stale), heartbeats, clock
// steps, operations and deploys (a table's trigger flipped, or an edge
// added, the table adopted or rebuilt). One pipeline in three has partition
// formats and windowed edges (HOURLY_TO_DAILY, PREVIOUS, with IDENTITY
// beside), and the rules below then read every partition of each window.
// Checked after every step:
//   - a pool never holds more slots than it has when a claim is made;
//   - no task is claimed while a higher class is active in its gate scope
//     (retrying tasks of a class with gate_holds_retrying false are not
//     active), unless it was READY for its class's max_gate_wait;
//   - a claim takes a task READY for its max_gate_wait despite the gate
//     when its pool has room for it, after the higher classes' tasks;
//   - no task is claimed while it is already running, attempts only grow;
//   - a task is BLOCKED only by DESIGN.md's rule (trigger ALL: an upstream
//     task it reads is dead or blocked; trigger ANY: every upstream is, and
//     a source never is), and no READY task is blocked by it;
//   - history sequence numbers have no gaps;
// and at the end of the sequence:
//   - once the stream goes quiet and every attempt succeeds, no task whose
//     inputs are complete and newer than what it consumed is left unclaimed
//     (checked against an independent reading of the history);
//   - the state rebuilt from the history equals the live state;
//   - with a store (every other run), a scheduler reopened from its
//     snapshots and journal equals the live one, midway and at the end.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "landfall/scheduler.h"
#include "lib/testing/history.h"
#include "lib/testing/synthetic_pipeline.h"

namespace landfall::testing {
namespace {

int SeedCount() {
  const char* env = std::getenv("LANDFALL_MODEL_SEEDS");
  return env != nullptr ? std::atoi(env) : 2000;
}

constexpr char kHourlyFormat[] = "%Y-%m-%dT%H";

// Gives the partitioned tables of one spec in three formats and its edges
// mappings, drawing from its own generator so that the other specs stay as
// they were: sources hourly or daily, derived tables daily; an edge from an
// hourly table is HOURLY_TO_DAILY, one between daily tables IDENTITY,
// PREVIOUS or both. Unpartitioned tables keep IDENTITY edges.
void AddWindows(uint64_t seed, PipelineSpec* spec) {
  std::mt19937_64 rng(seed ^ 0x77696e646f7773);
  if (rng() % 3 != 0) return;
  std::map<std::string, const char*> format;
  for (TableSpec& table : *spec->mutable_table()) {
    if (table.has_partitioned() && !table.partitioned()) continue;
    format[table.name()] =
        table.source() && rng() % 2 == 0 ? kHourlyFormat : "%Y-%m-%d";
    table.set_partition_format(format[table.name()]);
  }
  for (TableSpec& table : *spec->mutable_table()) {
    if (!format.count(table.name())) continue;
    const std::vector<std::string> upstreams(table.upstream().begin(),
                                             table.upstream().end());
    table.clear_upstream();
    auto add_input = [&](const std::string& up, InputSpec::Mapping mapping) {
      InputSpec* input = table.add_input();
      input->set_table(up);
      input->set_mapping(mapping);
    };
    for (const std::string& up : upstreams) {
      auto it = format.find(up);
      if (it == format.end()) {  // An unpartitioned requirement.
        table.add_upstream(up);
      } else if (std::string(it->second) == kHourlyFormat) {
        add_input(up, InputSpec::HOURLY_TO_DAILY);
      } else {
        const int how = rng() % 3;  // IDENTITY, PREVIOUS, or both.
        if (how != 1) table.add_upstream(up);
        if (how != 0) add_input(up, InputSpec::PREVIOUS);
      }
    }
  }
}

std::shared_ptr<const Pipeline> RandomPipeline(std::mt19937_64& rng) {
  LayeredPipelineOptions options;
  options.tables = 6 + rng() % 14;
  options.width = 2 + rng() % 4;
  options.min_fan_in = 1;
  options.max_fan_in = 1 + rng() % 3;
  options.seed = rng();
  options.priority_classes = 1 + rng() % 3;
  options.pools = 1 + rng() % 2;
  options.pool_slots = 1 + rng() % 3;
  PipelineSpec spec = MakeLayeredPipelineSpec(options);
  spec.set_priority_gate(static_cast<PipelineSpec::PriorityGate>(rng() % 3));
  // Some classes relax the gate.
  for (PriorityClassSpec& cls : *spec.mutable_priority_class()) {
    if (rng() % 3 == 0) cls.set_gate_holds_retrying(false);
    if (rng() % 3 == 0) cls.set_max_gate_wait(rng() % 2 ? "5m" : "20m");
  }
  spec.mutable_defaults()->mutable_retry()->set_max_attempts(1 + rng() % 3);
  spec.mutable_defaults()->mutable_retry()->set_initial_backoff("1m");
  spec.mutable_defaults()->mutable_retry()->set_jitter(rng() % 2 == 0);
  spec.mutable_defaults()->set_lease("10m");
  for (TableSpec& table : *spec.mutable_table()) {
    if (rng() % 4 == 0) table.set_trigger(TableSpec::ANY);
    if (rng() % 5 == 0) table.set_partitioned(false);
    if (!table.source() && options.pool_slots >= 2 && rng() % 4 == 0) {
      table.set_pool_slots(2);
    }
  }
  // Unpartitioned tables may leave a partitioned one without a partitioned
  // upstream; such a spec is refused, and the plain one is used instead.
  if (!Pipeline::FromSpec(spec).ok()) {
    for (TableSpec& table : *spec.mutable_table()) table.clear_partitioned();
  }
  AddWindows(options.seed, &spec);
  auto pipeline = Pipeline::FromSpec(spec);
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  return *pipeline;
}

// Due-ness of every task, read from the history alone: an independent
// statement of DESIGN.md's readiness rule to check the scheduler against.
class ReferenceModel {
 public:
  explicit ReferenceModel(const Pipeline& pipeline) : pipeline_(pipeline) {}

  void Apply(const HistoryEntry& e) {
    const std::string key = e.table + "/" + e.partition;
    switch (e.kind) {
      case EntryKind::kArrival:
        Bump(e);
        break;
      case EntryKind::kClaimed:
        claim_seq_[key] = e.seq;
        break;
      case EntryKind::kSucceeded:
        consumed_[key] = claim_seq_[key];
        Bump(e);
        break;
      case EntryKind::kMarkedSucceeded:
        consumed_[key] = e.seq;
        Bump(e);
        break;
      default:
        break;
    }
  }

  // Tasks whose inputs are complete with one newer than last consumed.
  std::set<std::string> DueTasks() const {
    std::set<std::string> due;
    for (TableId t = 0; t < pipeline_.table_count(); ++t) {
      const Table& table = pipeline_.table(t);
      if (table.source) continue;
      std::set<std::string> partitions = {""};
      if (table.partitioned) partitions = partitions_;
      if (table.windowed) partitions = WindowReaders(table);
      for (const std::string& p : partitions) {
        if (Due(table, p)) due.insert(table.name + "/" + p);
      }
    }
    return due;
  }

 private:
  void Bump(const HistoryEntry& e) {
    seq_[e.table + "/" + e.partition] = e.seq;
    int64_t& latest = latest_[e.table];
    latest = std::max(latest, e.seq);
    if (!e.partition.empty()) partitions_.insert(e.partition);
  }

  // The partitions of windowed `table` that some known key is in the
  // window of.
  std::set<std::string> WindowReaders(const Table& table) const {
    std::set<std::string> readers;
    for (const Input& input : pipeline_.Inputs(table.id)) {
      const Table& up = pipeline_.table(input.table);
      for (const std::string& key : partitions_) {
        if (!MatchesPartitionFormat(up.partition_format, key)) continue;
        for (std::string& r :
             PartitionReaders(input.mapping, up.partition_format, key,
                              pipeline_.time_zone())) {
          readers.insert(std::move(r));
        }
      }
    }
    return readers;
  }

  bool Due(const Table& table, const std::string& p) const {
    auto consumed_it = consumed_.find(table.name + "/" + p);
    const int64_t consumed =
        consumed_it == consumed_.end() ? 0 : consumed_it->second;
    bool newer = false;
    // Each input edge; a windowed one reads each partition of its window.
    for (const Input& input : pipeline_.Inputs(table.id)) {
      const Table& up = pipeline_.table(input.table);
      std::vector<int64_t> seqs;
      if (up.partitioned && !table.partitioned) {
        auto it = latest_.find(up.name);
        seqs.push_back(it != latest_.end() ? it->second : 0);
      } else if (!up.partitioned) {
        auto it = seq_.find(up.name + "/");
        seqs.push_back(it != seq_.end() ? it->second : 0);
      } else {
        for (const std::string& key :
             PartitionWindow(input.mapping, table.partition_format, p,
                             pipeline_.time_zone())) {
          auto it = seq_.find(up.name + "/" + key);
          seqs.push_back(it != seq_.end() ? it->second : 0);
        }
      }
      const bool requirement = !up.partitioned && table.partitioned;
      for (int64_t seq : seqs) {
        if (seq == 0 && (requirement || table.trigger == Trigger::kAll)) {
          return false;
        }
        if (!requirement && seq > consumed) newer = true;
      }
    }
    return newer;
  }

  const Pipeline& pipeline_;
  std::map<std::string, int64_t> seq_, latest_, claim_seq_, consumed_;
  std::set<std::string> partitions_;
};

class ModelRun {
 public:
  explicit ModelRun(uint64_t seed) : rng_(seed) {
    pipeline_ = RandomPipeline(rng_);
    initial_pipeline_ = pipeline_;
    clock_.Set(absl::FromUnixSeconds(1541293200));
    options_.clock = &clock_;
    options_.seed = seed;
    options_.history_capacity = 0;
    // Every other run keeps its state in a store, snapshots often and is
    // restarted midway: the restored scheduler must carry on as if nothing
    // happened.
    if (rng_() % 2 == 0) {
      store_ = NewMemoryStore();
      options_.snapshot_every_entries = 1 + rng_() % 50;
      restart_at_ = static_cast<int>(rng_() % 150);
      auto opened = Scheduler::Open(pipeline_, store_, options_);
      EXPECT_TRUE(opened.ok()) << opened.status();
      if (opened.ok()) scheduler_ = *std::move(opened);
    } else {
      scheduler_ = *Scheduler::Create(pipeline_, options_);
    }
    for (const Pool& pool : pipeline_->pools())
      capacity_[pool.name] = pool.slots;
  }

  void Run(int steps) {
    if (scheduler_ == nullptr) return;
    for (int i = 0; i < steps && !::testing::Test::HasFatalFailure(); ++i) {
      if (i == restart_at_) Restart();
      Step(/*quiet=*/false);
    }
    // Quiet: no arrivals, no failures; resume and redrive everything.
    for (const PriorityClass& c : pipeline_->priority_classes()) {
      ASSERT_TRUE(scheduler_->ResumeClass(c.name).ok());
      paused_classes_[c.id] = false;
    }
    for (TableId t = 0; t < pipeline_->table_count(); ++t) {
      if (pipeline_->table(t).source) continue;
      ASSERT_TRUE(scheduler_->ResumeTable(pipeline_->table(t).name).ok());
      paused_tables_[t] = false;
    }
    for (const TaskStatus& dead : scheduler_->DeadLetter()) {
      ASSERT_TRUE(scheduler_->Redrive(dead.task).ok());
    }
    for (int i = 0; i < 2000; ++i) {
      if (Idle()) break;
      Step(/*quiet=*/true);
    }
    ASSERT_TRUE(Idle()) << "not idle after the stream went quiet:\n" << Busy();
    CheckNothingDueIsLeft();
    CheckReplay();
    if (store_ != nullptr) Restart();
  }

 private:
  struct Held {
    TaskKey task;
    int64_t attempt;
  };

  bool Idle() {
    TaskList list = scheduler_->List();
    return list.by_state["READY"] == 0 && list.by_state["RUNNING"] == 0 &&
           list.by_state["RETRY_WAIT"] == 0 && list.by_state["EXPIRED"] == 0;
  }

  // Each task not yet settled, explained.
  std::string Busy() {
    std::string out;
    for (const TaskStatus& s : scheduler_->List().tasks) {
      if (s.state != TaskState::kReady && s.state != TaskState::kRunning &&
          s.state != TaskState::kRetryWait && s.state != TaskState::kExpired) {
        continue;
      }
      auto why = scheduler_->Explain(s.task);
      out += (why.ok() ? why->ToString() : why.status().ToString()) + "\n";
    }
    return out;
  }

  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[rng_() % items.size()];
  }

  void Step(bool quiet) {
    const int action = quiet ? 2 + rng_() % 5 : rng_() % 15;
    switch (action) {
      case 0:
      case 1:
        Arrive();
        break;
      case 2:
      case 3:
        ClaimSome();
        break;
      case 4:
      case 5:
        CompleteOne(quiet);
        break;
      case 6:
        clock_.Advance(absl::Seconds(rng_() % 900));
        break;
      case 7:
        if (!held_.empty()) {
          const Held& h = Pick(held_);
          (void)scheduler_->Heartbeat(h.task, h.attempt);
        }
        break;
      case 8: {
        const Table& t = pipeline_->table(rng_() % pipeline_->table_count());
        const bool pause = rng_() % 2;
        const absl::Status status = pause ? scheduler_->PauseTable(t.name)
                                          : scheduler_->ResumeTable(t.name);
        // A source has no tasks to pause: refused, changing nothing.
        ASSERT_EQ(status.code(), t.source ? absl::StatusCode::kInvalidArgument
                                          : absl::StatusCode::kOk);
        if (!t.source) paused_tables_[t.id] = pause;
        break;
      }
      case 9: {
        const auto& classes = pipeline_->priority_classes();
        const ClassId c = rng_() % classes.size();
        const bool pause = rng_() % 3 == 0;
        ASSERT_TRUE((pause ? scheduler_->PauseClass(classes[c].name)
                           : scheduler_->ResumeClass(classes[c].name))
                        .ok());
        paused_classes_[c] = pause;
        break;
      }
      case 10: {
        auto dead = scheduler_->DeadLetter();
        if (!dead.empty()) {
          const TaskKey& key = Pick(dead).task;
          ASSERT_TRUE(rng_() % 2 ? scheduler_->Redrive(key).ok()
                                 : scheduler_->MarkSucceeded(key).ok());
        }
        break;
      }
      case 11: {
        const Table& t = pipeline_->table(rng_() % pipeline_->table_count());
        if (!t.source) {
          (void)scheduler_->Rerun({t.name, t.partitioned ? Partition(t) : ""},
                                  rng_() % 2 == 0);
        }
        break;
      }
      case 12: {
        const Table& t = pipeline_->table(rng_() % pipeline_->table_count());
        const auto& classes = pipeline_->priority_classes();
        const ClassId c = rng_() % classes.size();
        ASSERT_TRUE(scheduler_->SetPriorityClass(t.name, classes[c].name).ok());
        class_of_[t.id] = c;
        break;
      }
      case 13: {
        const Pool& pool =
            pipeline_->pools()[rng_() % pipeline_->pools().size()];
        if (pool.slots == kUnlimitedSlots) break;
        const int slots = 1 + rng_() % 4;
        const absl::Status status = scheduler_->SetPoolSlots(pool.name, slots);
        if (status.ok()) {
          capacity_[pool.name] = slots;
        } else {  // Fewer slots than a table's attempt holds.
          ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
        }
        break;
      }
      case 14:
        DeployAChange();
        break;
    }
    CheckHistory();
    CheckStatesAreAsOfNow();
    CheckBlockedByTheRule();
  }

  std::string Partition(const Table& t) {
    const int day = 1 + rng_() % 3;
    switch (t.partition_format) {
      case PartitionFormat::kDaily:
        return absl::StrFormat("2018-11-%02d", day);
      case PartitionFormat::kHourly:
        return absl::StrFormat("2018-11-%02dT%02d", day, rng_() % 24);
      default:
        return "p" + std::to_string(day - 1);
    }
  }

  // A whole day of an hourly table at once, as a batch.
  void ArriveDay(const Table& t) {
    std::vector<Arrival> day(24);
    const std::string date = Partition(t).substr(0, 10);
    for (int h = 0; h < 24; ++h) {
      day[h].set_event_id("e" + std::to_string(events_++));
      day[h].set_table(t.name);
      day[h].set_partition(absl::StrFormat("%sT%02d", date, h));
    }
    ASSERT_TRUE(scheduler_->IngestBatch(day).ok());
  }

  // Deploys the pipeline with one derived table's trigger flipped, or with
  // an upstream added to it from a table before it in topological order,
  // adopting or rebuilding the table.
  void DeployAChange() {
    const TableId t = rng_() % pipeline_->table_count();
    const Table& table = pipeline_->table(t);
    if (table.source) return;
    PipelineSpec spec = pipeline_->spec();
    TableSpec& changed = *spec.mutable_table(t);
    if (rng_() % 2 == 0) {
      changed.set_trigger(table.trigger == Trigger::kAll ? TableSpec::ANY
                                                         : TableSpec::ALL);
    } else {
      const absl::Span<const TableId> order = pipeline_->TopologicalOrder();
      const auto at = std::find(order.begin(), order.end(), t);
      if (at == order.begin()) return;
      const TableId up = order[rng_() % (at - order.begin())];
      const absl::Span<const TableId> ups = pipeline_->Upstreams(t);
      if (std::find(ups.begin(), ups.end(), up) != ups.end()) return;
      changed.add_upstream(pipeline_->table(up).name);
    }
    auto next = Pipeline::FromSpec(spec);
    if (!next.ok()) return;  // Say, a partitioning the change does not fit.
    DeployOptions options;
    if (rng_() % 2 == 0) {
      options.adopt = {table.name};
      adopted_.insert(table.name);  // Its due tasks differ from the model's.
    } else {
      options.rebuild = {table.name};
    }
    auto plan = scheduler_->Deploy(*next, options);
    ASSERT_TRUE(plan.ok()) << plan.status();
    pipeline_ = *next;
  }

  void Arrive() {
    const Table& t = pipeline_->table(rng_() % pipeline_->table_count());
    if (t.partition_format == PartitionFormat::kHourly && rng_() % 3 == 0) {
      ArriveDay(t);
      return;
    }
    Arrival a;
    // One arrival in five repeats an earlier event id.
    if (events_ > 0 && rng_() % 5 == 0) {
      a.set_event_id("e" + std::to_string(rng_() % events_));
    } else {
      a.set_event_id("e" + std::to_string(events_++));
    }
    a.set_table(t.name);
    if (t.partitioned) a.set_partition(Partition(t));
    auto result = scheduler_->Ingest(a);
    ASSERT_TRUE(result.ok()) << result.status();
  }

  void ClaimSome() {
    // Poll first so that the snapshot is what Claim sees (Claim polls too).
    ASSERT_TRUE(scheduler_->Poll().ok());
    const TaskList before = scheduler_->List();
    std::map<std::string, const TaskStatus*> state;
    for (const TaskStatus& s : before.tasks) {
      state[s.task.table + "/" + s.task.partition] = &s;
    }
    const int asked = 1 + rng_() % 3;
    auto claimed_or = scheduler_->Claim("w", asked);
    ASSERT_TRUE(claimed_or.ok()) << claimed_or.status();
    const std::vector<ClaimedTask>& claimed = *claimed_or;
    std::set<std::string> taken;
    for (const ClaimedTask& c : claimed) {
      const std::string key = c.task.table + "/" + c.task.partition;
      const TaskStatus* was = state[key];
      ASSERT_NE(was, nullptr) << key;
      ASSERT_EQ(was->state, TaskState::kReady) << key << " claimed twice?";
      ASSERT_GT(c.attempt, was->attempt) << key;
      // No higher class active in the scope just before the claim, unless
      // the task was READY for its class's max_gate_wait.
      if (!WaitedEnough(*was)) {
        const TaskStatus* holder = GateHolder(*was, before);
        ASSERT_EQ(holder, nullptr)
            << key << " claimed while " << holder->task.table << "/"
            << holder->task.partition << " of a higher class is "
            << TaskStateName(holder->state);
      }
      taken.insert(key);
      held_.push_back(Held{c.task, c.attempt});
    }
    // Pools hold no more slots than they have (a shrunk pool may be over
    // until attempts finish, but claims never add to it then).
    std::map<PoolId, int> used;
    for (const TaskStatus& s : scheduler_->List().tasks) {
      if (s.state != TaskState::kRunning) continue;
      const Table& t = pipeline_->table(*pipeline_->FindTable(s.task.table));
      used[t.pool] += t.pool_slots;
    }
    for (const ClaimedTask& c : claimed) {
      const PoolId pool = *pipeline_->FindPool(std::string(c.pool));
      ASSERT_LE(used[pool], capacity_[std::string(c.pool)]) << "pool " << pool;
    }
    // A claim that took fewer than it asked for left no READY task that the
    // gate (or its max_gate_wait) let pass and its pool had room for.
    if (static_cast<int>(claimed.size()) == asked) return;
    for (const TaskStatus& s : before.tasks) {
      const std::string key = s.task.table + "/" + s.task.partition;
      if (s.state != TaskState::kReady || taken.count(key)) continue;
      const Table& t = pipeline_->table(*pipeline_->FindTable(s.task.table));
      const Pool& pool = pipeline_->pools()[t.pool];
      const bool room = capacity_[pool.name] - used[t.pool] >= t.pool_slots;
      const bool passes = WaitedEnough(s) || GateHolder(s, before) == nullptr;
      ASSERT_FALSE(room && passes) << key << " was left READY by a claim of "
                                   << claimed.size() << " of " << asked << ":\n"
                                   << scheduler_->Explain(s.task)->ToString();
    }
  }

  // Whether READY task `s` has been READY for its class's max_gate_wait.
  bool WaitedEnough(const TaskStatus& s) {
    const Table& t = pipeline_->table(*pipeline_->FindTable(s.task.table));
    return s.ready_since +
               pipeline_->priority_classes()[ClassOf(t)].max_gate_wait <=
           clock_.Now();
  }

  // A task of a higher class active in the gate scope of `task`, in the
  // listed `states`, if any: READY, RUNNING, or waiting to retry (unpaused)
  // in a class whose retrying tasks hold lower classes back.
  const TaskStatus* GateHolder(const TaskStatus& task, const TaskList& states) {
    const PriorityGate gate = pipeline_->priority_gate();
    if (gate == PriorityGate::kOff) return nullptr;
    const Table& mine =
        pipeline_->table(*pipeline_->FindTable(task.task.table));
    for (const TaskStatus& s : states.tasks) {
      const Table& other =
          pipeline_->table(*pipeline_->FindTable(s.task.table));
      const bool holds_retrying =
          pipeline_->priority_classes()[ClassOf(other)].gate_holds_retrying;
      const bool active = s.state == TaskState::kRunning ||
                          s.state == TaskState::kReady ||
                          (s.state == TaskState::kRetryWait && !Paused(other) &&
                           holds_retrying);
      const bool same_scope =
          gate == PriorityGate::kPipeline || other.pool == mine.pool;
      if (active && same_scope && ClassOf(other) < ClassOf(mine)) return &s;
    }
    return nullptr;
  }

  ClassId ClassOf(const Table& table) {
    auto it = class_of_.find(table.id);
    return it == class_of_.end() ? table.priority_class : it->second;
  }

  // Paused tables hold back nothing but their running attempts.
  bool Paused(const Table& table) {
    return paused_tables_[table.id] || paused_classes_[ClassOf(table)];
  }

  void CompleteOne(bool quiet) {
    if (held_.empty()) return;
    const size_t i = rng_() % held_.size();
    const Held h = held_[i];
    held_.erase(held_.begin() + i);
    Outcome outcome = Outcome::SUCCEEDED;
    if (!quiet) {
      const int r = rng_() % 10;
      outcome = r < 6   ? Outcome::SUCCEEDED
                : r < 9 ? Outcome::RETRYABLE
                        : Outcome::FATAL;
    }
    // Some completions are stale (the lease may have run out meanwhile):
    // they must be refused, never crash or double-apply.
    // An older attempt is always stale, since attempt numbers only grow.
    const int64_t attempt =
        (!quiet && rng_() % 8 == 0) ? h.attempt - 1 : h.attempt;
    const int64_t before = scheduler_->LastSequence();
    absl::Status status =
        scheduler_->Complete(h.task, attempt, outcome, "model");
    if (!status.ok()) {
      ASSERT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
      if (attempt != h.attempt) {
        ASSERT_EQ(scheduler_->LastSequence(), before);
        held_.push_back(h);
      }
    }
  }

  void CheckHistory() {
    const int64_t last = scheduler_->LastSequence();
    auto tail =
        ::landfall::testing::History(*scheduler_, checked_seq_ + 1, SIZE_MAX);
    for (const HistoryEntry& e : tail) {
      ASSERT_EQ(e.seq, ++checked_seq_);
    }
    ASSERT_EQ(checked_seq_, last);
  }

  // Queries change nothing, yet show each task as of now: a lease or a
  // backoff that has ended is never shown as still holding.
  void CheckStatesAreAsOfNow() {
    const absl::Time now = clock_.Now();
    for (const TaskStatus& s : scheduler_->List().tasks) {
      const std::string key = s.task.table + "/" + s.task.partition;
      switch (s.state) {
        case TaskState::kRunning:
        case TaskState::kRetryWait:
          ASSERT_GT(s.deadline, now) << key << " " << TaskStateName(s.state);
          break;
        case TaskState::kExpired:
          ASSERT_LE(s.deadline, now) << key;
          break;
        case TaskState::kSucceeded:
          ASSERT_GT(s.version, 0) << key;
          break;
        case TaskState::kWaiting:
          ASSERT_EQ(s.version, 0) << key << " was built: not WAITING";
          break;
        default:
          break;
      }
    }
  }

  // DESIGN.md's BLOCKED rule, read from the listed states alone. A task
  // that runs or backs off shows no BLOCKED state: whether it is blocked
  // (so that it blocks its readers) is read from the rule, upstreams first.
  void CheckBlockedByTheRule() {
    const TaskList list = scheduler_->List();
    std::map<std::string, std::vector<const TaskStatus*>> by_table;
    for (const TaskStatus& s : list.tasks) {
      by_table[s.task.table].push_back(&s);
    }
    std::set<std::string> unhealthy;  // "table/partition", dead or blocked
    std::set<std::string> unhealthy_tables;
    auto input_unhealthy = [&](const Table& up, const Table& table,
                               const std::string& p) {
      if (up.source) return false;
      if (up.partitioned && !table.partitioned) {
        return unhealthy_tables.count(up.name) > 0;
      }
      if (!up.partitioned) return unhealthy.count(up.name + "/") > 0;
      // Any task in any of its windows of `up`.
      for (const Input& input : pipeline_->Inputs(table.id)) {
        if (input.table != up.id) continue;
        for (const std::string& key :
             PartitionWindow(input.mapping, table.partition_format, p,
                             pipeline_->time_zone())) {
          if (unhealthy.count(up.name + "/" + key) > 0) return true;
        }
      }
      return false;
    };
    for (TableId t : pipeline_->TopologicalOrder()) {
      const Table& table = pipeline_->table(t);
      const auto upstreams = pipeline_->Upstreams(t);
      for (const TaskStatus* s : by_table[table.name]) {
        int count = 0;
        for (TableId up : upstreams) {
          count +=
              input_unhealthy(pipeline_->table(up), table, s->task.partition);
        }
        const bool blocked = table.trigger == Trigger::kAny
                                 ? count == static_cast<int>(upstreams.size())
                                 : count > 0;
        const std::string key = s->task.table + "/" + s->task.partition;
        if (s->state == TaskState::kBlocked || s->state == TaskState::kReady) {
          ASSERT_EQ(s->state == TaskState::kBlocked, blocked)
              << key << " is " << TaskStateName(s->state) << " with " << count
              << " of " << upstreams.size() << " upstreams dead or blocked\n"
              << HistoryOf(s->task.table);
        }
        const bool hides_blocked = s->state == TaskState::kRunning ||
                                   s->state == TaskState::kExpired ||
                                   s->state == TaskState::kRetryWait;
        if (s->state == TaskState::kDead || s->state == TaskState::kBlocked ||
            (hides_blocked && blocked)) {
          unhealthy.insert(key);
          unhealthy_tables.insert(table.name);
        }
      }
    }
  }

  void CheckNothingDueIsLeft() {
    ReferenceModel model(*pipeline_);
    for (const HistoryEntry& e :
         ::landfall::testing::History(*scheduler_, 1, SIZE_MAX)) {
      model.Apply(e);
    }
    TaskList list = scheduler_->List();
    std::map<std::string, TaskState> states;
    for (const TaskStatus& s : list.tasks) {
      states[s.task.table + "/" + s.task.partition] = s.state;
    }
    for (const std::string& task : model.DueTasks()) {
      if (adopted_.count(task.substr(0, task.find('/')))) continue;
      auto it = states.find(task);
      const TaskState state =
          it == states.end() ? TaskState::kWaiting : it->second;
      if (state == TaskState::kBlocked || state == TaskState::kDead) continue;
      ASSERT_NE(state, TaskState::kSucceeded)
          << task << " is due: it is not up to date";
      const size_t slash = task.find('/');
      auto why =
          scheduler_->Explain({task.substr(0, slash), task.substr(slash + 1)});
      ADD_FAILURE() << task << " is due but " << TaskStateName(state) << ": "
                    << (why.ok() ? why->ToString() : why.status().ToString())
                    << "\n"
                    << HistoryOf(task.substr(0, slash));
    }
  }

  // The history entries about `table` and its upstreams, for failures.
  std::string HistoryOf(const std::string& table) {
    std::set<std::string> names = {table};
    for (TableId up : pipeline_->Upstreams(*pipeline_->FindTable(table))) {
      names.insert(pipeline_->table(up).name);
    }
    std::string out;
    for (const HistoryEntry& e :
         ::landfall::testing::History(*scheduler_, 1, SIZE_MAX)) {
      if (names.count(e.table)) out += e.ToString() + "\n";
    }
    return out;
  }

  // Opens a new scheduler on the store, as after a crash: it must hold the
  // state of the one it replaces, which is then dropped.
  void Restart() {
    if (store_ == nullptr) return;
    auto reopened = Scheduler::Open(pipeline_, store_, options_);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    ASSERT_EQ((*reopened)->DebugState(), scheduler_->DebugState());
    scheduler_ = *std::move(reopened);
  }

  void CheckReplay() {
    auto replayed = Scheduler::Replay(
        initial_pipeline_,
        ::landfall::testing::History(*scheduler_, 1, SIZE_MAX),
        SchedulerOptions());
    ASSERT_TRUE(replayed.ok()) << replayed.status();
    ASSERT_EQ((*replayed)->DebugState(), scheduler_->DebugState());
  }

  std::mt19937_64 rng_;
  std::shared_ptr<const Pipeline> pipeline_;  // As last deployed.
  std::shared_ptr<const Pipeline> initial_pipeline_;
  std::set<std::string> adopted_;  // Tables a deploy adopted.
  ManualClock clock_;
  SchedulerOptions options_;
  std::shared_ptr<StateStore> store_;
  int restart_at_ = -1;
  std::unique_ptr<Scheduler> scheduler_;
  std::map<std::string, int> capacity_;
  std::map<TableId, ClassId> class_of_;
  std::map<TableId, bool> paused_tables_;
  std::map<ClassId, bool> paused_classes_;
  std::vector<Held> held_;
  int events_ = 0;
  int64_t checked_seq_ = 0;
};

TEST(ModelTest, InvariantsHoldOverRandomSequences) {
  const int seeds = SeedCount();
  for (int seed = 1; seed <= seeds; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    ModelRun(seed).Run(150);
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace landfall::testing
