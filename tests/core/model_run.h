// One run of the model test: a random pipeline driven by a random sequence
// of steps, with the scheduler's invariants checked after each.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "landfall/scheduler.h"
#include "lib/testing/history.h"

namespace landfall::testing {

class ModelRun {
 public:
  explicit ModelRun(uint64_t seed);

  void Run(int steps);

 private:
  struct Held {
    TaskKey task;
    int64_t attempt;
  };

  // The random sequence (model_run.cc).
  bool Idle();

  // Each task not yet settled, explained.
  std::string Busy();

  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[rng_() % items.size()];
  }

  void Step(bool quiet);

  std::string Partition(const Table& t);

  // A whole day of an hourly table at once, as a batch.
  void ArriveDay(const Table& t);

  // Deploys the pipeline with one derived table's trigger flipped, or with
  // an upstream added to it from a table before it in topological order,
  // adopting or rebuilding the table.
  void DeployAChange();

  void Arrive();

  void CompleteOne(bool quiet);

  // The checks (model_checks.cc).
  void ClaimSome();

  // Whether READY task `s` has been READY for its class's max_gate_wait.
  bool WaitedEnough(const TaskStatus& s);

  // A task of a higher class active in the gate scope of `task`, in the
  // listed `states`, if any: READY, RUNNING, or waiting to retry (unpaused)
  // in a class whose retrying tasks hold lower classes back.
  const TaskStatus* GateHolder(const TaskStatus& task, const TaskList& states);

  ClassId ClassOf(const Table& table);

  // Paused tables hold back nothing but their running attempts.
  bool Paused(const Table& table);

  void CheckHistory();

  // Queries change nothing, yet show each task as of now: a lease or a
  // backoff that has ended is never shown as still holding.
  void CheckStatesAreAsOfNow();

  // DESIGN.md's BLOCKED rule, read from the listed states alone. A task
  // that runs or backs off shows no BLOCKED state: whether it is blocked
  // (so that it blocks its readers) is read from the rule, upstreams first.
  void CheckBlockedByTheRule();

  void CheckNothingDueIsLeft();

  // The history entries about `table` and its upstreams, for failures.
  std::string HistoryOf(const std::string& table);

  // Opens a new scheduler on the store, as after a crash: it must hold the
  // state of the one it replaces, which is then dropped.
  void Restart();

  void CheckReplay();

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

}  // namespace landfall::testing
