// A scheduler on a manual clock with short helpers, for scenario tests.
// Every test's scheduler is rebuilt from its history at the end and must
// equal the live one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/scheduler.h"
#include "lib/testing/history.h"

namespace landfall::testing {

class SchedulerTest : public ::testing::Test {
 protected:
  absl::Time T0() const { return absl::FromUnixSeconds(1541293200); }

  void Load(const std::string& spec, SchedulerOptions options = {}) {
    auto pipeline = Pipeline::FromText(spec, SpecFormat::kTextProto, "spec");
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    pipeline_ = *pipeline;
    clock_.Set(T0());
    options.clock = &clock_;
    options.history_capacity = 0;
    options_ = options;
    auto scheduler = Scheduler::Create(pipeline_, options);
    ASSERT_TRUE(scheduler.ok()) << scheduler.status();
    scheduler_ = std::move(*scheduler);
  }

  void TearDown() override {
    if (scheduler_ == nullptr) return;
    auto history = ::landfall::testing::History(*scheduler_, 1, SIZE_MAX);
    for (size_t i = 0; i < history.size(); ++i) {
      ASSERT_EQ(history[i].seq, static_cast<int64_t>(i + 1));
    }
    auto replayed = Scheduler::Replay(pipeline_, history, options_);
    ASSERT_TRUE(replayed.ok()) << replayed.status();
    EXPECT_EQ((*replayed)->DebugState(), scheduler_->DebugState());
    // The entries a replay appends say what the original ones said.
    auto again = ::landfall::testing::History(**replayed, 1, SIZE_MAX);
    ASSERT_EQ(again.size(), history.size());
    for (size_t i = 0; i < history.size(); ++i) {
      EXPECT_EQ(again[i].ToString(), history[i].ToString());
    }
  }

  // Ingests an arrival on (table, partition), under a fresh event id when
  // `event_id` is empty; whether the scheduler takes it is for the caller.
  absl::StatusOr<IngestResult> TryArrive(const std::string& table,
                                         const std::string& partition,
                                         const std::string& event_id = "") {
    Arrival a;
    a.set_event_id(event_id.empty() ? "e" + std::to_string(++events_)
                                    : event_id);
    a.set_table(table);
    a.set_partition(partition);
    return scheduler_->Ingest(a);
  }
  // As TryArrive, expecting the scheduler to take it.
  IngestResult Arrive(const std::string& table, const std::string& partition,
                      const std::string& event_id = "") {
    auto result = TryArrive(table, partition, event_id);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : IngestResult{};
  }

  std::vector<ClaimedTask> Claim(int max = 100, ClaimFilter filter = {}) {
    auto claimed = scheduler_->Claim("w", max, filter);
    EXPECT_TRUE(claimed.ok()) << claimed.status();
    return claimed.ok() ? *std::move(claimed) : std::vector<ClaimedTask>{};
  }

  // "table/partition" of each claimed task, in claim order.
  static std::vector<std::string> Names(const std::vector<ClaimedTask>& c) {
    std::vector<std::string> names;
    for (const ClaimedTask& t : c) {
      names.push_back(t.task.table + "/" + t.task.partition);
    }
    return names;
  }

  void Succeed(const ClaimedTask& task) {
    EXPECT_TRUE(
        scheduler_->Complete(task.task, task.attempt, Outcome::SUCCEEDED).ok());
  }

  TaskState StateOf(const std::string& table, const std::string& partition) {
    ListFilter filter;
    filter.table = table;
    for (const TaskStatus& s : scheduler_->List(filter).tasks) {
      if (s.task.partition == partition) return s.state;
    }
    return TaskState::kWaiting;
  }

  ManualClock clock_;
  SchedulerOptions options_;
  std::shared_ptr<const Pipeline> pipeline_;
  std::unique_ptr<Scheduler> scheduler_;
  int events_ = 0;
};

}  // namespace landfall::testing
