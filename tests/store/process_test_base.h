// The parent's side of the process tests: a store (a SQLite file, or a
// schema on the PostgreSQL test server) that children open, the children,
// their reports, and the checks every run passes.
//
// To repeat a failing run, set LANDFALL_PROCESS_TEST_SEED to the seed it
// printed: the children draw the same choices, though timing still varies.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "landfall/scheduler.h"
#include "tests/store/child_process.h"
#include "tests/store/history_checks.h"
#include "tests/store/process_workloads.h"
#include "tests/store/store_test_base.h"

namespace landfall::testing {

inline uint64_t TestSeed() {
  uint64_t seed = 20181104;
  if (const char* text = std::getenv("LANDFALL_PROCESS_TEST_SEED")) {
    EXPECT_TRUE(absl::SimpleAtoi(text, &seed)) << text;
  }
  return seed;
}

// A PostgreSQL URI for the store in `schema`, its connections named after
// the schema (pg_stat_activity's application_name).
inline std::string SchemaAddress(const std::string& server,
                                 const std::string& schema) {
  return absl::StrCat(server, server.find('?') == std::string::npos ? "?" : "&",
                      "schema=", schema, "&application_name=", schema);
}

class ProcessTest : public ::testing::Test {
 protected:
  ProcessTest(const char* mode, StoreKind kind) : mode_(mode), kind_(kind) {}

  void SetUp() override {
    if (kind_ == StoreKind::kPostgres) {
      LANDFALL_REQUIRE_POSTGRES();
      schema_ = NewTestSchema();
      address_ = SchemaAddress(Server(), schema_);
    } else {
      address_ = TempPath("state.db");
    }
    auto pipeline = PipelineOf(mode_);
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    pipeline_ = *pipeline;
    // The store exists, with its spec, before any child opens it.
    auto scheduler = Scheduler::Open(pipeline_, OpenStore());
    ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  }

  void TearDown() override {
    if (kind_ == StoreKind::kPostgres) {
      if (!schema_.empty() && Server() == TestPostgres()) {
        EXPECT_EQ(DropTestSchema(schema_), "");
      }
      return;
    }
    for (const char* suffix : {"", "-wal", "-shm", "-queue"}) {
      unlink((address_ + suffix).c_str());
    }
  }

  // The PostgreSQL server's conninfo: the shared test server's.
  virtual std::string Server() { return TestPostgres(); }

  std::shared_ptr<StateStore> OpenStore() {
    auto store = OpenStoreAt(address_, nullptr);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *store : nullptr;
  }

  std::unique_ptr<ChildProcess> Spawn(const std::string& worker,
                                      uint64_t seed) {
    return std::make_unique<ChildProcess>(
        ChildArgs{mode_, address_, worker, seed});
  }

  // Drops the children's "ready" and "unavailable" lines, fails the test
  // for their errors, and keeps the facts.
  static std::vector<std::string> Facts(const std::vector<std::string>& lines) {
    std::vector<std::string> facts;
    for (const std::string& line : lines) {
      if (line == kReady || absl::StartsWith(line, kUnavailableReport)) {
        continue;
      }
      if (absl::StartsWith(line, kErrorReport)) {
        ADD_FAILURE() << line;
        continue;
      }
      facts.push_back(line);
    }
    return facts;
  }

  static int CountFacts(const std::vector<std::string>& facts,
                        absl::string_view prefix,
                        absl::string_view suffix = "") {
    return static_cast<int>(
        std::count_if(facts.begin(), facts.end(), [&](const std::string& f) {
          return absl::StartsWith(f, prefix) && absl::EndsWith(f, suffix);
        }));
  }

  // The checks every run passes: the history is whole, holds what was
  // acknowledged, hands out each attempt once within the pools' limits, and
  // opens to the state it folds to. Returns the peak of workers running
  // attempts in limited pools at once.
  int CheckHistory(const std::vector<std::string>& facts,
                   std::vector<HistoryEntry>* history) {
    std::shared_ptr<StateStore> store = OpenStore();
    if (store == nullptr) return 0;
    *history = ReadWholeHistory(*store);
    ExpectGapFree(*history);
    ExpectReportsInHistory(facts, *history);
    ExpectNoAttemptReportedTwice(facts);
    ExpectAttemptsClaimedOnceInOrder(*history);
    const int peak_workers = ExpectPoolsWithinLimits(*pipeline_, *history);
    ExpectOpenedStateEqualsReplay(pipeline_, store, *history);
    return peak_workers;
  }

  const std::string mode_;
  const StoreKind kind_;
  const uint64_t seed_ = TestSeed();
  std::string address_;  // A SQLite path or a PostgreSQL URI.
  std::string schema_;   // PostgreSQL's.
  std::shared_ptr<const Pipeline> pipeline_;
};

}  // namespace landfall::testing
