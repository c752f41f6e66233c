// The model test's random pipelines and reference model (see model.h).
#include "tests/core/model.h"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "landfall/scheduler.h"
#include "lib/testing/history.h"
#include "lib/testing/synthetic_pipeline.h"

namespace landfall::testing {
namespace {

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

}  // namespace

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

void ReferenceModel::Apply(const HistoryEntry& e) {
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

std::set<std::string> ReferenceModel::DueTasks() const {
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

void ReferenceModel::Bump(const HistoryEntry& e) {
  seq_[e.table + "/" + e.partition] = e.seq;
  int64_t& latest = latest_[e.table];
  latest = std::max(latest, e.seq);
  if (!e.partition.empty()) partitions_.insert(e.partition);
}

std::set<std::string> ReferenceModel::WindowReaders(const Table& table) const {
  std::set<std::string> readers;
  for (const Input& input : pipeline_.Inputs(table.id)) {
    const Table& up = pipeline_.table(input.table);
    for (const std::string& key : partitions_) {
      if (!MatchesPartitionFormat(up.partition_format, key)) continue;
      for (std::string& r : PartitionReaders(input.mapping, up.partition_format,
                                             key, pipeline_.time_zone())) {
        readers.insert(std::move(r));
      }
    }
  }
  return readers;
}

bool ReferenceModel::Due(const Table& table, const std::string& p) const {
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

}  // namespace landfall::testing
