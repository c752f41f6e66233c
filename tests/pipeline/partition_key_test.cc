// Partition keys under each format, the windows each mapping reads, and the
// spec rules for formats, mappings and the time zone.
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/partition_window.h"
#include "landfall/pipeline.h"
#include "tests/pipeline/spec_problems.h"

namespace landfall {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

TEST(PartitionKeyTest, KeysMatchOnlyRealDatesInTheExactForm) {
  EXPECT_TRUE(MatchesPartitionFormat(PartitionFormat::kDaily, "2024-02-29"));
  EXPECT_TRUE(
      MatchesPartitionFormat(PartitionFormat::kHourly, "0000-01-01T00"));
  EXPECT_TRUE(MatchesPartitionFormat(PartitionFormat::kMonthly, "9999-12"));
  for (const char* bad : {"2023-02-29", "2018-11-3", "2018-11-03 ", "18-11-03",
                          "2018-13-01", "2018-11-00", "2018/11/03", ""}) {
    EXPECT_FALSE(MatchesPartitionFormat(PartitionFormat::kDaily, bad)) << bad;
  }
  for (const char* bad : {"2018-11-03T24", "2018-11-03", "2018-11-03t01",
                          "2018-11-03T1", "2018-11-03T01:00"}) {
    EXPECT_FALSE(MatchesPartitionFormat(PartitionFormat::kHourly, bad)) << bad;
  }
  EXPECT_FALSE(MatchesPartitionFormat(PartitionFormat::kMonthly, "2018-11-01"));
  EXPECT_TRUE(MatchesPartitionFormat(PartitionFormat::kOpaque, "anything"));
  EXPECT_EQ(ParsePartitionFormat("%Y-%m"), PartitionFormat::kMonthly);
  EXPECT_EQ(ParsePartitionFormat("%Y%m%d"), std::nullopt);
}

TEST(PartitionKeyTest, HourlyToDailySkipsAndMergesDaylightSavingHours) {
  const absl::TimeZone ny = Zone("America/New_York");
  const auto spring =
      PartitionWindow(PartitionMapping::kHourlyToDaily, PartitionFormat::kDaily,
                      "2018-03-11", ny);
  ASSERT_THAT(spring, SizeIs(23));
  EXPECT_EQ(spring[1], "2018-03-11T01");
  EXPECT_EQ(spring[2], "2018-03-11T03");
  EXPECT_THAT(PartitionWindow(PartitionMapping::kHourlyToDaily,
                              PartitionFormat::kDaily, "2018-11-04", ny),
              SizeIs(24));
  EXPECT_THAT(
      PartitionWindow(PartitionMapping::kHourlyToDaily, PartitionFormat::kDaily,
                      "2018-03-11", absl::UTCTimeZone()),
      SizeIs(24));
  EXPECT_THAT(PartitionReaders(PartitionMapping::kHourlyToDaily,
                               PartitionFormat::kHourly, "2018-03-11T02", ny),
              IsEmpty());
  EXPECT_THAT(PartitionReaders(PartitionMapping::kHourlyToDaily,
                               PartitionFormat::kHourly, "2018-03-11T03", ny),
              ElementsAre("2018-03-11"));
}

TEST(PartitionKeyTest, PreviousStepsOverSkippedHoursAndYearEnds) {
  const absl::TimeZone ny = Zone("America/New_York");
  EXPECT_THAT(PartitionWindow(PartitionMapping::kPrevious,
                              PartitionFormat::kHourly, "2018-03-11T03", ny),
              ElementsAre("2018-03-11T01"));
  EXPECT_THAT(PartitionReaders(PartitionMapping::kPrevious,
                               PartitionFormat::kHourly, "2018-03-11T01", ny),
              ElementsAre("2018-03-11T03"));
  EXPECT_THAT(PartitionWindow(PartitionMapping::kPrevious,
                              PartitionFormat::kHourly, "2018-03-11T02", ny),
              IsEmpty());
  EXPECT_THAT(PartitionWindow(PartitionMapping::kPrevious,
                              PartitionFormat::kDaily, "2024-03-01", ny),
              ElementsAre("2024-02-29"));
  EXPECT_THAT(PartitionWindow(PartitionMapping::kPrevious,
                              PartitionFormat::kMonthly, "2019-01", ny),
              ElementsAre("2018-12"));
  EXPECT_THAT(PartitionWindow(PartitionMapping::kPrevious,
                              PartitionFormat::kDaily, "0000-01-01", ny),
              IsEmpty());
  EXPECT_THAT(PartitionReaders(PartitionMapping::kPrevious,
                               PartitionFormat::kMonthly, "9999-12", ny),
              IsEmpty());
}

TEST(PartitionKeyTest, DailyToMonthlyListsEveryDayOfTheMonth) {
  const auto feb = PartitionWindow(PartitionMapping::kDailyToMonthly,
                                   PartitionFormat::kMonthly, "2024-02",
                                   absl::UTCTimeZone());
  ASSERT_THAT(feb, SizeIs(29));
  EXPECT_EQ(feb.front(), "2024-02-01");
  EXPECT_EQ(feb.back(), "2024-02-29");
  EXPECT_THAT(PartitionReaders(PartitionMapping::kDailyToMonthly,
                               PartitionFormat::kDaily, "2024-02-29",
                               absl::UTCTimeZone()),
              ElementsAre("2024-02"));
}

TEST(PartitionKeySpecTest, WindowedEdgesNeedFittingFormats) {
  EXPECT_THAT(
      Problems(R"(
table { name: "clicks" source: true partition_format: "%Y-%m-%d" }
table { name: "daily" partition_format: "%Y-%m-%d"
        input { table: "clicks" mapping: HOURLY_TO_DAILY } }
table { name: "monthly" upstream: "clicks"
        input { table: "clicks" mapping: DAILY_TO_MONTHLY } }
table { name: "prev" partition_format: "%Y-%m"
        input { table: "clicks" mapping: PREVIOUS } }
table { name: "same" partition_format: "%Y-%m" upstream: "clicks" }
)"),
      ElementsAre(
          "p.textproto:4:9: table \"daily\": input \"clicks\" with mapping "
          "HOURLY_TO_DAILY needs partition_format \"%Y-%m-%dT%H\" on "
          "\"clicks\" (it has \"%Y-%m-%d\")",
          "p.textproto:6:9: table \"monthly\": input \"clicks\" with mapping "
          "DAILY_TO_MONTHLY needs partition_format \"%Y-%m\" on \"monthly\" "
          "(it has none)",
          "p.textproto:8:9: table \"prev\": input \"clicks\" with mapping "
          "PREVIOUS needs partition_format \"%Y-%m\" on \"clicks\" (it has "
          "\"%Y-%m-%d\")",
          "p.textproto:9:1: table \"same\": input \"clicks\" with mapping "
          "IDENTITY needs partition_format \"%Y-%m\" on \"clicks\", as on "
          "\"same\" (it has \"%Y-%m-%d\")"));
}

TEST(PartitionKeySpecTest, BadFormatZoneMappingAndRepeatsAreRefused) {
  EXPECT_THAT(Problems(R"(time_zone: "Asia/Tokio"
table { name: "a" source: true partition_format: "%Y%m%d" }
table { name: "b" source: true partitioned: false partition_format: "%Y-%m" }
table { name: "c" upstream: "a" input { table: "a" } }
table { name: "d" input { table: "a" mapping: 7 } }
)"),
              ElementsAre("p.textproto:1:1: time_zone: unknown time zone "
                          "\"Asia/Tokio\" (not in the system's tz database; "
                          "for example \"Asia/Tokyo\", \"America/New_York\", "
                          "\"UTC\")",
                          "p.textproto:2:32: table \"a\": partition_format "
                          "\"%Y%m%d\" is not one of \"%Y-%m-%dT%H\" (hourly), "
                          "\"%Y-%m-%d\" (daily), \"%Y-%m\" (monthly)",
                          "p.textproto:3:51: table \"b\": partition_format "
                          "needs a partitioned table (it sets `partitioned: "
                          "false`)",
                          "p.textproto:4:33: table \"c\": upstream \"a\" is "
                          "listed twice",
                          "p.textproto:5:1: table \"d\": a partitioned table "
                          "needs a partitioned upstream to take its partitions "
                          "from (or set `partitioned: false`)",
                          "p.textproto:5:38: table \"d\": input \"a\": "
                          "mapping: unknown value 7 (IDENTITY, "
                          "HOURLY_TO_DAILY, DAILY_TO_MONTHLY, PREVIOUS)"));
  // An unknown mapping name is a parse error at its place.
  EXPECT_THAT(Problems(R"(
table { name: "a" source: true }
table { name: "b" input { table: "a" mapping: WEEKLY } }
)"),
              ElementsAre(::testing::StartsWith("p.textproto:3:")));
}

constexpr char kWindowedExample[] = R"(
time_zone: "Asia/Tokyo"
table { name: "lake.clicks" source: true partition_format: "%Y-%m-%dT%H" }
table { name: "mart.daily_clicks" partition_format: "%Y-%m-%d"
        input { table: "lake.clicks" mapping: HOURLY_TO_DAILY } }
table { name: "mart.monthly" partition_format: "%Y-%m" input { table: "mart.daily_clicks" mapping: DAILY_TO_MONTHLY } }
table { name: "mart.day_over_day" upstream: "mart.daily_clicks" input { table: "mart.daily_clicks" mapping: PREVIOUS } }
)";

TEST(PartitionKeySpecTest, AWindowedTableWithoutAFormatIsRefused) {
  EXPECT_THAT(
      Problems(kWindowedExample),
      ElementsAre("p.textproto:7:65: table \"mart.day_over_day\": input "
                  "\"mart.daily_clicks\" with mapping PREVIOUS needs a "
                  "partition_format on \"mart.day_over_day\""));
}

TEST(PartitionKeySpecTest, ExampleLoadsWithEveryWindowedTableDeclaringAFormat) {
  const std::string spec = absl::StrReplaceAll(
      kWindowedExample,
      {{"name: \"mart.day_over_day\"",
        "name: \"mart.day_over_day\" partition_format: \"%Y-%m-%d\""}});
  auto pipeline =
      Pipeline::FromText(spec, SpecFormat::kTextProto, "p.textproto");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  const Pipeline& p = **pipeline;
  const TableId dod = *p.FindTable("mart.day_over_day");
  EXPECT_THAT(p.Upstreams(dod), SizeIs(1));
  ASSERT_THAT(p.Inputs(dod), SizeIs(2));
  EXPECT_EQ(p.Inputs(dod)[1].mapping, PartitionMapping::kPrevious);
  EXPECT_TRUE(p.table(dod).windowed);
  EXPECT_FALSE(p.table(*p.FindTable("lake.clicks")).windowed);
  EXPECT_EQ(p.table(dod).partition_format, PartitionFormat::kDaily);
}

}  // namespace
}  // namespace landfall
