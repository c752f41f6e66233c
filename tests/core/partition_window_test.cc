// Partition windows: formats, mappings, and the readiness, blocking and
// explanations of tasks that read a window of upstream partitions.
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "tests/core/scheduler_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kDaily[] = R"(
table { name: "lake.clicks" source: true partition_format: "%Y-%m-%dT%H" }
table { name: "mart.daily_clicks" partition_format: "%Y-%m-%d"
        input { table: "lake.clicks" mapping: HOURLY_TO_DAILY } }
)";

// The hour keys "DAYThh" for each hour in `hours`.
std::vector<std::string> Hours(const std::string& day,
                               const std::vector<int>& hours) {
  std::vector<std::string> keys;
  for (int h : hours) keys.push_back(absl::StrFormat("%sT%02d", day, h));
  return keys;
}

std::vector<int> Range(int from, int to) {  // [from, to)
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

class PartitionWindowTest : public SchedulerTest {
 protected:
  // Arrivals for each key; the tasks they made ready, as "table/partition".
  std::vector<std::string> ArriveAll(const std::string& table,
                                     const std::vector<std::string>& keys) {
    std::vector<std::string> ready;
    for (const std::string& key : keys) {
      for (const TaskKey& t : Arrive(table, key).made_ready) {
        ready.push_back(t.table + "/" + t.partition);
      }
    }
    return ready;
  }

  std::string Why(const std::string& table, const std::string& partition) {
    auto x = scheduler_->Explain({table, partition});
    EXPECT_TRUE(x.ok()) << x.status();
    return x.ok() ? x->ToString() : "";
  }
};

TEST_F(PartitionWindowTest, HourlyToDailyWaitsForEveryHourThenRunsOnce) {
  Load(kDaily);
  EXPECT_THAT(ArriveAll("lake.clicks", Hours("2018-11-03", Range(0, 23))),
              IsEmpty());
  EXPECT_THAT(Claim(), IsEmpty());
  EXPECT_THAT(ArriveAll("lake.clicks", Hours("2018-11-03", {23})),
              ElementsAre("mart.daily_clicks/2018-11-03"));
  auto claimed = Claim();
  ASSERT_THAT(Names(claimed), ElementsAre("mart.daily_clicks/2018-11-03"));
  // The attempt reads all 24 hours, in order.
  ASSERT_THAT(claimed[0].inputs, SizeIs(24));
  EXPECT_EQ(claimed[0].inputs[0].partition, "2018-11-03T00");
  EXPECT_EQ(claimed[0].inputs[23].partition, "2018-11-03T23");
  EXPECT_FALSE(claimed[0].inputs[0].origins_complete);
  Succeed(claimed[0]);
  EXPECT_THAT(Claim(), IsEmpty());
  // An hour of the next day starts that day's window only.
  EXPECT_THAT(ArriveAll("lake.clicks", Hours("2018-11-04", {0})), IsEmpty());
  EXPECT_EQ(StateOf("mart.daily_clicks", "2018-11-03"), TaskState::kSucceeded);
}

TEST_F(PartitionWindowTest, LateRerunOfOneHourRetriggersTheDay) {
  Load(kDaily);
  ArriveAll("lake.clicks", Hours("2018-11-03", Range(0, 24)));
  Succeed(Claim()[0]);
  EXPECT_THAT(ArriveAll("lake.clicks", Hours("2018-11-03", {5})),
              ElementsAre("mart.daily_clicks/2018-11-03"));
  auto claimed = Claim();
  ASSERT_THAT(Names(claimed), ElementsAre("mart.daily_clicks/2018-11-03"));
  EXPECT_EQ(claimed[0].inputs[5].version, 2);
  // A second late hour while it runs: one coalesced rerun after it.
  ArriveAll("lake.clicks", Hours("2018-11-03", {6, 7}));
  Succeed(claimed[0]);
  EXPECT_THAT(Names(Claim()), ElementsAre("mart.daily_clicks/2018-11-03"));
}

TEST_F(PartitionWindowTest, SpringForwardDayInNewYorkHas23Hours) {
  Load(std::string("time_zone: \"America/New_York\"\n") + kDaily);
  // 02:00 does not exist on 2018-03-11: the day is whole without it.
  std::vector<int> hours = Range(0, 24);
  hours.erase(hours.begin() + 2);
  EXPECT_THAT(ArriveAll("lake.clicks", Hours("2018-03-11", hours)),
              ElementsAre("mart.daily_clicks/2018-03-11"));
  ASSERT_THAT(Claim()[0].inputs, SizeIs(23));
  // The key of the missing hour matches the format, and reads into no day.
  EXPECT_THAT(ArriveAll("lake.clicks", Hours("2018-03-11", {2})), IsEmpty());
  EXPECT_THAT(Claim(), IsEmpty());
}

TEST_F(PartitionWindowTest, FallBackDayInNewYorkHas24KeysFor25Hours) {
  Load(std::string("time_zone: \"America/New_York\"\n") + kDaily);
  // 01:00 comes twice on 2018-11-04; its key is one partition.
  EXPECT_THAT(ArriveAll("lake.clicks", Hours("2018-11-04", Range(0, 23))),
              IsEmpty());
  EXPECT_THAT(ArriveAll("lake.clicks", Hours("2018-11-04", {23})),
              ElementsAre("mart.daily_clicks/2018-11-04"));
  ASSERT_THAT(Claim()[0].inputs, SizeIs(24));
}

TEST_F(PartitionWindowTest, TokyoPipelineRunsTheIssueExample) {
  Load(R"(
time_zone: "Asia/Tokyo"
table { name: "lake.clicks" source: true partition_format: "%Y-%m-%dT%H" }
table { name: "mart.daily_clicks" partition_format: "%Y-%m-%d"
        input { table: "lake.clicks" mapping: HOURLY_TO_DAILY } }
table { name: "mart.monthly" partition_format: "%Y-%m"
        input { table: "mart.daily_clicks" mapping: DAILY_TO_MONTHLY } }
table { name: "mart.day_over_day" partition_format: "%Y-%m-%d"
        upstream: "mart.daily_clicks"
        input { table: "mart.daily_clicks" mapping: PREVIOUS } }
)");
  EXPECT_EQ(pipeline_->time_zone().name(), "Asia/Tokyo");
  ArriveAll("lake.clicks", Hours("2018-11-02", Range(0, 24)));
  ArriveAll("lake.clicks", Hours("2018-11-03", Range(0, 24)));
  auto days = Claim();
  ASSERT_THAT(Names(days), ElementsAre("mart.daily_clicks/2018-11-02",
                                       "mart.daily_clicks/2018-11-03"));
  for (const ClaimedTask& t : days) Succeed(t);
  // 11-03 has its day before; 11-02 waits for 11-01, 11-04 for itself.
  EXPECT_THAT(Names(Claim()), ElementsAre("mart.day_over_day/2018-11-03"));
  EXPECT_THAT(Why("mart.day_over_day", "2018-11-02"),
              HasSubstr("waiting for upstreams: mart.daily_clicks/2018-11-01"));
  EXPECT_THAT(Why("mart.monthly", "2018-11"),
              HasSubstr("DAILY_TO_MONTHLY: 28 of 30 partitions missing"));
}

TEST_F(PartitionWindowTest, DailyToMonthlyFollowsMonthLengths) {
  Load(R"(
table { name: "daily" source: true partition_format: "%Y-%m-%d" }
table { name: "monthly" partition_format: "%Y-%m"
        input { table: "daily" mapping: DAILY_TO_MONTHLY } }
)");
  auto days = [](const std::string& month, int n) {
    std::vector<std::string> keys;
    for (int d = 1; d <= n; ++d) {
      keys.push_back(absl::StrFormat("%s-%02d", month, d));
    }
    return keys;
  };
  // A leap February has 29 days, another 28, December 31.
  EXPECT_THAT(ArriveAll("daily", days("2024-02", 28)), IsEmpty());
  EXPECT_THAT(ArriveAll("daily", {"2024-02-29"}),
              ElementsAre("monthly/2024-02"));
  EXPECT_THAT(ArriveAll("daily", days("2023-02", 28)),
              ElementsAre("monthly/2023-02"));
  EXPECT_THAT(ArriveAll("daily", days("2023-12", 30)), IsEmpty());
  EXPECT_THAT(ArriveAll("daily", {"2023-12-31"}),
              ElementsAre("monthly/2023-12"));
}

TEST_F(PartitionWindowTest, PreviousReadsTheDayHourAndMonthBefore) {
  Load(R"(
table { name: "d" source: true partition_format: "%Y-%m-%d" }
table { name: "h" source: true partition_format: "%Y-%m-%dT%H" }
table { name: "m" source: true partition_format: "%Y-%m" }
table { name: "d_prev" partition_format: "%Y-%m-%d"
        input { table: "d" mapping: PREVIOUS } }
table { name: "h_prev" partition_format: "%Y-%m-%dT%H"
        input { table: "h" mapping: PREVIOUS } }
table { name: "m_prev" partition_format: "%Y-%m"
        input { table: "m" mapping: PREVIOUS } }
)");
  // A new version of Q triggers the step after Q.
  EXPECT_THAT(ArriveAll("d", {"2018-12-31"}), ElementsAre("d_prev/2019-01-01"));
  EXPECT_THAT(ArriveAll("h", {"2018-12-31T23"}),
              ElementsAre("h_prev/2019-01-01T00"));
  EXPECT_THAT(ArriveAll("m", {"2018-12"}), ElementsAre("m_prev/2019-01"));
}

TEST_F(PartitionWindowTest, TwoEdgesFromOneUpstreamNeedBothWindows) {
  Load(R"(
table { name: "daily" source: true partition_format: "%Y-%m-%d" }
table { name: "dod" partition_format: "%Y-%m-%d" upstream: "daily"
        input { table: "daily" mapping: PREVIOUS } }
)");
  EXPECT_THAT(ArriveAll("daily", {"2018-11-03"}), IsEmpty());
  EXPECT_THAT(Why("dod", "2018-11-03"),
              HasSubstr("waiting for upstreams: daily/2018-11-02"));
  EXPECT_THAT(ArriveAll("daily", {"2018-11-02"}),
              ElementsAre("dod/2018-11-03"));
  auto claimed = Claim();
  ASSERT_THAT(Names(claimed), ElementsAre("dod/2018-11-03"));
  ASSERT_THAT(claimed[0].inputs, SizeIs(2));
  EXPECT_EQ(claimed[0].inputs[0].partition, "2018-11-03");
  EXPECT_EQ(claimed[0].inputs[1].partition, "2018-11-02");
  Succeed(claimed[0]);
  // The day before changing reruns the day after it.
  EXPECT_THAT(ArriveAll("daily", {"2018-11-02"}),
              ElementsAre("dod/2018-11-03"));
}

TEST_F(PartitionWindowTest, AnyTriggerRunsOnAnyHourOfTheWindow) {
  Load(R"(
table { name: "lake.clicks" source: true partition_format: "%Y-%m-%dT%H" }
table { name: "mart.daily_clicks" partition_format: "%Y-%m-%d" trigger: ANY
        input { table: "lake.clicks" mapping: HOURLY_TO_DAILY } }
)");
  EXPECT_THAT(ArriveAll("lake.clicks", Hours("2018-11-03", {7})),
              ElementsAre("mart.daily_clicks/2018-11-03"));
  auto claimed = Claim();
  ASSERT_THAT(claimed, SizeIs(1));
  EXPECT_THAT(claimed[0].inputs, SizeIs(1));  // The hours there are.
}

TEST_F(PartitionWindowTest, ExplainListsTheWindowOfADayNotSeenYet) {
  Load(R"(
table { name: "lake.clicks" source: true partition_format: "%Y-%m-%dT%H" }
table { name: "mart.daily_clicks" partition_format: "%Y-%m-%d"
        input { table: "lake.clicks" mapping: HOURLY_TO_DAILY } }
)");
  // No key of that day was ever seen: the window is still every hour.
  EXPECT_THAT(Why("mart.daily_clicks", "2018-11-05"),
              HasSubstr("24 of 24 partitions missing: 2018-11-05T00, "));
}

TEST_F(PartitionWindowTest, DeadHourBlocksItsDayUntilRedriven) {
  Load(R"(
table { name: "raw" source: true partition_format: "%Y-%m-%dT%H" }
table { name: "hourly" partition_format: "%Y-%m-%dT%H" upstream: "raw" }
table { name: "daily" partition_format: "%Y-%m-%d"
        input { table: "hourly" mapping: HOURLY_TO_DAILY } }
)");
  ArriveAll("raw", Hours("2018-11-03", Range(0, 24)));
  const std::vector<ClaimedTask> hours = Claim();
  ASSERT_THAT(hours, SizeIs(24));
  ASSERT_EQ(hours[5].task.partition, "2018-11-03T05");
  ASSERT_TRUE(scheduler_
                  ->Complete(hours[5].task, hours[5].attempt, Outcome::FATAL,
                             "bad file")
                  .ok());
  EXPECT_EQ(StateOf("daily", "2018-11-03"), TaskState::kBlocked);
  EXPECT_THAT(Why("daily", "2018-11-03"),
              HasSubstr("blocked: needs hourly/2018-11-03T05 (dead)"));
  for (size_t i = 0; i < hours.size(); ++i) {
    if (i != 5) Succeed(hours[i]);
  }
  EXPECT_THAT(Claim(), IsEmpty());
  EXPECT_EQ(StateOf("daily", "2018-11-03"), TaskState::kBlocked);
  ASSERT_TRUE(scheduler_->Redrive({"hourly", "2018-11-03T05"}).ok());
  auto again = Claim();
  ASSERT_THAT(Names(again), ElementsAre("hourly/2018-11-03T05"));
  EXPECT_EQ(StateOf("daily", "2018-11-03"), TaskState::kWaiting);
  Succeed(again[0]);
  EXPECT_THAT(Names(Claim()), ElementsAre("daily/2018-11-03"));
}

TEST_F(PartitionWindowTest, ExplainListsTheMissingHours) {
  Load(kDaily);
  std::vector<int> hours = Range(0, 24);
  hours.erase(hours.begin() + 13);
  hours.erase(hours.begin() + 4);
  ArriveAll("lake.clicks", Hours("2018-11-03", hours));
  EXPECT_THAT(Why("mart.daily_clicks", "2018-11-03"),
              HasSubstr("waiting for upstreams: lake.clicks (HOURLY_TO_DAILY: "
                        "2 of 24 partitions missing: 2018-11-03T04, "
                        "2018-11-03T13)"));
}

TEST_F(PartitionWindowTest, KeyNotMatchingTheFormatIsRefused) {
  Load(kDaily);
  for (const std::string key :
       {"2018-11-03", "2018-11-03T24", "2018-11-3T01", "2018-02-29T00", ""}) {
    Arrival a;
    a.set_event_id("bad");
    a.set_table("lake.clicks");
    a.set_partition(key);
    auto result = scheduler_->Ingest(a);
    ASSERT_FALSE(result.ok()) << key;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    if (!key.empty()) {
      EXPECT_THAT(result.status().message(),
                  HasSubstr("partition \"" + key +
                            "\" of table \"lake.clicks\" does not match its "
                            "partition_format \"%Y-%m-%dT%H\""));
    }
  }
  EXPECT_EQ(scheduler_->LastSequence(), 0);  // Nothing was recorded.
}

TEST_F(PartitionWindowTest, DerivedTableArrivalIsCheckedToo) {
  Load(kDaily);
  EXPECT_EQ(TryArrive("mart.daily_clicks", "2018-11").status().code(),
            absl::StatusCode::kInvalidArgument);
  // A key that matches is an external build: its readers are triggered.
  EXPECT_THAT(ArriveAll("mart.daily_clicks", {"2018-11-03"}), IsEmpty());
  EXPECT_EQ(StateOf("mart.daily_clicks", "2018-11-03"), TaskState::kSucceeded);
}

}  // namespace
}  // namespace landfall::testing
