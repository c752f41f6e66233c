// Freshness deadlines across time zones and daylight-saving changes, on the
// manual clock.
#include <string>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/alerts.h"
#include "lib/pipeline/freshness_deadline.h"
#include "tests/alerts/recording_notifier.h"
#include "tests/core/scheduler_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

absl::Time Utc(const std::string& rfc3339) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error))
      << error;
  return t;
}

FreshnessDeadline Deadline(const std::string& text, int days = 1) {
  absl::StatusOr<FreshnessDeadline> d =
      internal::ParseFreshnessDeadline(text, days);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *d : FreshnessDeadline();
}

std::optional<absl::Time> Due(const std::string& deadline,
                              const std::string& partition, int days = 1) {
  return PartitionDueTime(Deadline(deadline, days), partition);
}

TEST(PartitionDueTimeTest, DailyPartitionIsDueOnTheNextLocalDay) {
  // 2018-11-04 06:00 in Tokyo (UTC+9).
  EXPECT_EQ(Due("06:00 Asia/Tokyo", "2018-11-03"), Utc("2018-11-03T21:00:00Z"));
  EXPECT_EQ(Due("06:00 Asia/Tokyo", "2018-11-03", /*days=*/0),
            Utc("2018-11-02T21:00:00Z"));
  EXPECT_EQ(Due("06:00 Asia/Tokyo", "2018-11-03", /*days=*/2),
            Utc("2018-11-04T21:00:00Z"));
  EXPECT_EQ(Due("06:00", "2018-11-03"), Utc("2018-11-04T06:00:00Z"));
}

TEST(PartitionDueTimeTest, HourAndMonthKeysUseTheirDay) {
  EXPECT_EQ(Due("06:00 Asia/Tokyo", "2018-11-03T05"),
            Utc("2018-11-03T21:00:00Z"));
  // A month is due the day after its last day.
  EXPECT_EQ(Due("06:00 Asia/Tokyo", "2018-11"), Utc("2018-11-30T21:00:00Z"));
  EXPECT_EQ(Due("06:00 Asia/Tokyo", "eu"), std::nullopt);
  EXPECT_EQ(Due("06:00 Asia/Tokyo", "2018-02-30"), std::nullopt);
  EXPECT_EQ(Due("06:00 Asia/Tokyo", "2018-11-03-x"), std::nullopt);
}

TEST(PartitionDueTimeTest, SpringForwardDayIsTwentyThreeHoursLong) {
  // New York moves from EST (UTC-5) to EDT (UTC-4) at 2019-03-10 02:00.
  EXPECT_EQ(Due("06:00 America/New_York", "2019-03-08"),
            Utc("2019-03-09T11:00:00Z"));
  EXPECT_EQ(Due("06:00 America/New_York", "2019-03-09"),
            Utc("2019-03-10T10:00:00Z"));
  // 02:30 does not exist that night: it is the instant of the change,
  // 03:00 EDT.
  EXPECT_EQ(Due("02:30 America/New_York", "2019-03-09"),
            Utc("2019-03-10T07:00:00Z"));
}

TEST(PartitionDueTimeTest, FallBackDayIsTwentyFiveHoursLong) {
  // New York moves from EDT back to EST at 2018-11-04 02:00.
  EXPECT_EQ(Due("06:00 America/New_York", "2018-11-02"),
            Utc("2018-11-03T10:00:00Z"));
  EXPECT_EQ(Due("06:00 America/New_York", "2018-11-03"),
            Utc("2018-11-04T11:00:00Z"));
  // 01:30 happens twice that night: the first, in EDT, counts.
  EXPECT_EQ(Due("01:30 America/New_York", "2018-11-03"),
            Utc("2018-11-04T05:30:00Z"));
}

TEST(ParseFreshnessDeadlineTest, RefusesWhatIsNotADeadline) {
  for (const char* bad : {"6:00 UTC", "24:00", "06:60", "06:00 Mars/Base",
                          "06:00 UTC extra", "", "0600"}) {
    absl::StatusOr<FreshnessDeadline> d =
        internal::ParseFreshnessDeadline(bad, 1);
    EXPECT_TRUE(absl::IsInvalidArgument(d.status())) << bad;
  }
  EXPECT_THAT(
      internal::ParseFreshnessDeadline("06:00 Mars/Base", 1).status().message(),
      HasSubstr("unknown time zone \"Mars/Base\""));
  EXPECT_FALSE(internal::ParseFreshnessDeadline("06:00", 367).ok());
}

TEST(ParseFreshnessDeadlineTest, SpecErrorsNameFileAndLine) {
  auto p = Pipeline::FromText(R"(table { name: "raw" source: true }
table { name: "t" upstream: "raw"
  freshness { deadline: "06:00 Asia/Tokio" } }
)",
                              SpecFormat::kTextProto, "spec.textproto");
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("spec.textproto:3:"));
  EXPECT_THAT(p.status().message(),
              HasSubstr("table \"t\": freshness.deadline: \"06:00 Asia/Tokio\" "
                        "is not a deadline: unknown time zone"));
  auto days = Pipeline::FromText(R"(table { name: "raw" source: true }
table { name: "t" upstream: "raw" freshness { deadline_days: 2 } }
)",
                                 SpecFormat::kTextProto, "spec.textproto");
  EXPECT_THAT(days.status().message(),
              HasSubstr("freshness.deadline_days without a deadline"));
}

TEST(ParseFreshnessDeadlineTest, TablesTakeTheDefaultsDeadline) {
  auto p = Pipeline::FromText(R"(
defaults { freshness { deadline: "06:00 Asia/Tokyo" deadline_days: 2 } }
table { name: "raw" source: true }
table { name: "t" upstream: "raw" freshness { deadline_days: 0 } }
)",
                              SpecFormat::kTextProto, "spec");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE((*p)->table(0).deadline.has_value());
  EXPECT_EQ((*p)->table(0).deadline->days, 2);
  EXPECT_EQ(DeadlineText(*(*p)->table(1).deadline), "06:00 Asia/Tokyo, day +0");
}

TEST(ParseFreshnessDeadlineTest, DeadlineWithoutAZoneTakesThePipelines) {
  auto p = Pipeline::FromText(R"(
time_zone: "Asia/Tokyo"
table { name: "raw" source: true freshness { deadline: "06:00" } }
table { name: "t" upstream: "raw" freshness { deadline: "06:00 UTC" } }
)",
                              SpecFormat::kTextProto, "spec");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE((*p)->table(0).deadline.has_value());
  EXPECT_EQ(DeadlineText(*(*p)->table(0).deadline), "06:00 Asia/Tokyo, day +1");
  EXPECT_EQ(PartitionDueTime(*(*p)->table(0).deadline, "2018-11-03"),
            Utc("2018-11-03T21:00:00Z"));
  EXPECT_EQ(PartitionDueTime(*(*p)->table(1).deadline, "2018-11-03"),
            Utc("2018-11-04T06:00:00Z"));
}

class DeadlineScenarioTest : public SchedulerTest {
 protected:
  void LoadWithDeadline(const std::string& deadline) {
    Load(R"(
table { name: "raw" source: true }
table { name: "orders" upstream: "raw"
        freshness { deadline: ")" +
         deadline + R"(" } }
)");
  }
  void CheckAt(const std::string& rfc3339) {
    clock_.Set(Utc(rfc3339));
    rules_.Check(*scheduler_, clock_.Now());
  }
  void Build(const std::string& partition) {
    Arrive("raw", partition);
    for (const ClaimedTask& t : Claim()) Succeed(t);
  }

  RecordingNotifier notifier_;
  AlertRules rules_{&notifier_};
};

TEST_F(DeadlineScenarioTest, TokyoBreachAlertsOnceAndRecoversOnce) {
  LoadWithDeadline("06:00 Asia/Tokyo");
  clock_.Set(Utc("2018-11-03T10:00:00Z"));
  Arrive("raw", "2018-11-03");
  CheckAt("2018-11-03T20:59:59Z");  // 05:59:59 in Tokyo.
  EXPECT_THAT(notifier_.Keys(), IsEmpty());
  CheckAt("2018-11-03T21:00:00Z");
  CheckAt("2018-11-03T21:30:00Z");
  EXPECT_THAT(notifier_.Keys(), ElementsAre("+deadline/orders/2018-11-03"));
  const Alert breach = notifier_.alerts()[0];
  EXPECT_EQ(breach.kind, Alert::Kind::kFreshnessDeadline);
  EXPECT_THAT(breach.text,
              HasSubstr("partition orders/2018-11-03 missed its deadline "
                        "2018-11-03T21:00:00Z (06:00 Asia/Tokyo, day +1)"));
  for (const ClaimedTask& t : Claim()) Succeed(t);
  CheckAt("2018-11-03T22:00:00Z");
  CheckAt("2018-11-03T23:00:00Z");
  EXPECT_THAT(notifier_.Keys(), ElementsAre("+deadline/orders/2018-11-03",
                                            "-deadline/orders/2018-11-03"));
}

TEST_F(DeadlineScenarioTest, DayThatNeverArrivedIsBreached) {
  LoadWithDeadline("06:00 Asia/Tokyo");
  clock_.Set(Utc("2018-11-03T10:00:00Z"));
  Build("2018-11-03");
  // 2018-11-04 never lands; it is due 2018-11-05 06:00 in Tokyo.
  CheckAt("2018-11-04T20:59:00Z");
  EXPECT_THAT(notifier_.Keys(), IsEmpty());
  CheckAt("2018-11-04T21:00:00Z");
  EXPECT_THAT(notifier_.Keys(), ElementsAre("+deadline/orders/2018-11-04"));
  auto report = JudgeFreshness(*scheduler_, "orders", clock_.Now());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->breached);
  ASSERT_EQ(report->deadlines.size(), 2u);
  EXPECT_FALSE(report->deadlines[0].breached);
  EXPECT_EQ(report->deadlines[1].partition, "2018-11-04");
  EXPECT_TRUE(report->deadlines[1].breached);
}

TEST_F(DeadlineScenarioTest, NewYorkDeadlineFollowsSpringForward) {
  LoadWithDeadline("06:00 America/New_York");
  clock_.Set(Utc("2019-03-08T12:00:00Z"));
  Build("2019-03-08");
  Arrive("raw", "2019-03-09");
  // 2019-03-09 is due 2019-03-10 06:00 EDT (10:00Z), an hour earlier in
  // UTC than the day before's 06:00 EST (11:00Z).
  CheckAt("2019-03-10T09:59:00Z");
  EXPECT_THAT(notifier_.Keys(), IsEmpty());
  CheckAt("2019-03-10T10:00:00Z");
  EXPECT_THAT(notifier_.Keys(), ElementsAre("+deadline/orders/2019-03-09"));
}

TEST_F(DeadlineScenarioTest, NewYorkDeadlineFollowsFallBack) {
  LoadWithDeadline("06:00 America/New_York");
  clock_.Set(Utc("2018-11-02T12:00:00Z"));
  Build("2018-11-02");
  Arrive("raw", "2018-11-03");
  // 2018-11-03 is due 2018-11-04 06:00 EST (11:00Z): at 10:00Z it is
  // 05:00 there, not yet due.
  CheckAt("2018-11-04T10:00:00Z");
  EXPECT_THAT(notifier_.Keys(), IsEmpty());
  CheckAt("2018-11-04T11:00:00Z");
  EXPECT_THAT(notifier_.Keys(), ElementsAre("+deadline/orders/2018-11-03"));
}

TEST_F(DeadlineScenarioTest, UnpartitionedTableMustUpdateDaily) {
  Load(R"(
table { name: "raw" source: true partitioned: false
        freshness { deadline: "06:00" } }
)");
  clock_.Set(Utc("2018-11-03T05:00:00Z"));
  Arrive("raw", "");
  CheckAt("2018-11-04T05:59:00Z");  // Updated since 2018-11-03 06:00? No,
  // but that deadline's window began 2018-11-02 06:00: met.
  EXPECT_THAT(notifier_.Keys(), IsEmpty());
  CheckAt("2018-11-04T06:00:00Z");  // No update since 2018-11-03 06:00.
  EXPECT_THAT(notifier_.Keys(), ElementsAre("+deadline/raw/"));
  clock_.Set(Utc("2018-11-04T07:00:00Z"));
  Arrive("raw", "");
  CheckAt("2018-11-04T07:00:00Z");
  EXPECT_THAT(notifier_.Keys(),
              ElementsAre("+deadline/raw/", "-deadline/raw/"));
}

}  // namespace
}  // namespace landfall::testing
