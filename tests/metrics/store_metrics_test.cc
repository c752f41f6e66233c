// InstrumentStore on real stores (SQLite; PostgreSQL when the test server
// is there): commit times, and the catch-up on another writer's entries,
// counted in entries and in the age of the oldest, on a manual clock.
#include <filesystem>

#include "gtest/gtest.h"
#include "landfall/metrics.h"
#include "landfall/scheduler.h"
#include "landfall/state_store.h"
#include "tests/store/postgres_test_env.h"

namespace landfall {
namespace {

namespace fs = std::filesystem;

constexpr char kSpec[] = R"(
table { name: "src" source: true }
table { name: "load" upstream: "src" }
)";

// A family's one sample (null when the family or its sample is missing).
const MetricSample* Only(const std::vector<MetricFamily>& families,
                         const std::string& name) {
  for (const MetricFamily& f : families) {
    if (f.name == name && f.samples.size() == 1) return &f.samples[0];
  }
  return nullptr;
}

class StoreMetricsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    pipeline_ =
        Pipeline::FromText(kSpec, SpecFormat::kTextProto, "spec").value();
    if (GetParam() == "postgres") {
      LANDFALL_REQUIRE_POSTGRES();
      schema_ = testing::NewTestSchema();
    } else {
      dir_ = fs::temp_directory_path() /
             absl::StrCat("landfall-store-metrics-", getpid());
      fs::create_directories(dir_);
    }
  }
  void TearDown() override {
    if (!schema_.empty()) {
      EXPECT_EQ(testing::DropTestSchema(schema_), "");
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::shared_ptr<StateStore> OpenStore() {
    absl::StatusOr<std::shared_ptr<StateStore>> store;
    if (GetParam() == "postgres") {
      PostgresStoreOptions options;
      options.schema = schema_;
      store = OpenPostgresStore(testing::TestPostgres(), options);
    } else {
      store = OpenSqliteStore((dir_ / "state.db").string());
    }
    EXPECT_TRUE(store.ok()) << store.status();
    return *store;
  }

  std::unique_ptr<Scheduler> OpenScheduler(std::shared_ptr<StateStore> store) {
    SchedulerOptions options;
    options.clock = &clock_;
    auto s = Scheduler::Open(pipeline_, std::move(store), options);
    EXPECT_TRUE(s.ok()) << s.status();
    return *std::move(s);
  }

  static void Arrive(Scheduler& s, const std::string& event_id) {
    Arrival a;
    a.set_event_id(event_id);
    a.set_table("src");
    a.set_partition(event_id);
    ASSERT_TRUE(s.Ingest(a).ok());
  }

  ManualClock clock_{absl::FromUnixSeconds(1541293200)};
  std::shared_ptr<const Pipeline> pipeline_;
  fs::path dir_;
  std::string schema_;
};

TEST_P(StoreMetricsTest, CommitsAreTimedAndAnotherWritersEntriesCaughtUp) {
  MetricsOptions options;
  options.clock = &clock_;
  Metrics metrics(*pipeline_, options);
  std::unique_ptr<Scheduler> mine =
      OpenScheduler(InstrumentStore(OpenStore(), &metrics));
  std::unique_ptr<Scheduler> theirs = OpenScheduler(OpenStore());
  Arrive(*mine, "p0");
  std::vector<MetricFamily> now = metrics.Collect();
  ASSERT_NE(Only(now, "landfall_store_catchup_entries"), nullptr);
  EXPECT_EQ(Only(now, "landfall_store_catchup_entries")->value, 0);
  EXPECT_EQ(Only(now, "landfall_store_catchup_lag_seconds")->value, 0);
  // Opening (a write: the pipeline recorded) and the arrival.
  const uint64_t commits = Only(now, "landfall_store_commit_seconds")->count;
  EXPECT_GE(commits, 2u);

  // Another writer appends over 2 seconds; 5 seconds later this one
  // writes again: its oldest unseen entry is 7 seconds old.
  const int64_t before = theirs->LastSequence();
  Arrive(*theirs, "p1");
  clock_.Advance(absl::Seconds(2));
  Arrive(*theirs, "p2");
  const int64_t appended = theirs->LastSequence() - before;
  ASSERT_GE(appended, 4);  // Each arrival and the task it made ready.
  clock_.Advance(absl::Seconds(5));
  // A read that rolls back (history) counts nothing.
  ASSERT_TRUE(mine->ReadHistory(1, 1000).ok());
  EXPECT_EQ(
      Only(metrics.Collect(), "landfall_store_caught_up_entries_total")->value,
      0);
  Arrive(*mine, "p3");
  now = metrics.Collect();
  EXPECT_EQ(Only(now, "landfall_store_catchup_entries")->value, appended);
  EXPECT_EQ(Only(now, "landfall_store_catchup_lag_seconds")->value, 7);
  EXPECT_EQ(Only(now, "landfall_store_caught_up_entries_total")->value,
            appended);
  EXPECT_EQ(Only(now, "landfall_store_commit_seconds")->count, commits + 1);
  EXPECT_GT(Only(now, "landfall_store_commit_seconds")->sum, 0);

  // Caught up: the next write finds nothing new.
  Arrive(*mine, "p4");
  now = metrics.Collect();
  EXPECT_EQ(Only(now, "landfall_store_catchup_entries")->value, 0);
  EXPECT_EQ(Only(now, "landfall_store_catchup_lag_seconds")->value, 0);
  EXPECT_EQ(Only(now, "landfall_store_caught_up_entries_total")->value,
            appended);
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreMetricsTest,
                         ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace landfall
