// The model test's random pipelines, and its reference model: which tasks
// are due, read from the history alone.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "landfall/scheduler.h"
#include "lib/testing/history.h"

namespace landfall::testing {

// A small random layered pipeline: classes, pools, triggers, retries, and
// in one pipeline of three partition formats with windowed edges.
std::shared_ptr<const Pipeline> RandomPipeline(std::mt19937_64& rng);

// Due-ness of every task, read from the history alone: an independent
// statement of DESIGN.md's readiness rule to check the scheduler against.
class ReferenceModel {
 public:
  explicit ReferenceModel(const Pipeline& pipeline) : pipeline_(pipeline) {}

  void Apply(const HistoryEntry& e);

  // Tasks whose inputs are complete with one newer than last consumed.
  std::set<std::string> DueTasks() const;

 private:
  void Bump(const HistoryEntry& e);

  // The partitions of windowed `table` that some known key is in the
  // window of.
  std::set<std::string> WindowReaders(const Table& table) const;

  bool Due(const Table& table, const std::string& p) const;

  const Pipeline& pipeline_;
  std::map<std::string, int64_t> seq_, latest_, claim_seq_, consumed_;
  std::set<std::string> partitions_;
};

}  // namespace landfall::testing
