// One test per validation error: the message, the file:line:column, and that
// every problem of a spec is reported, not only the first.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/pipeline.h"
#include "tests/pipeline/spec_problems.h"

namespace landfall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

TEST(SpecValidationTest, DuplicateTableNamesTheFirstDefinition) {
  EXPECT_THAT(Problems(R"(
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "src" source: true }
)"),
              ElementsAre("p.textproto:4:1: duplicate table \"src\" (first "
                          "defined at line 2)"));
}

TEST(SpecValidationTest, CycleListsItsTablesInOrder) {
  EXPECT_THAT(Problems(R"(
table { name: "src" source: true }
table { name: "orders" upstream: ["src", "payments"] }
table { name: "payments" upstream: "refunds" }
table { name: "refunds" upstream: "orders" }
)"),
              // Arrows run the way data flows, upstream to downstream.
              ElementsAre("p.textproto:3:1: cycle: orders -> refunds -> "
                          "payments -> orders"));
}

TEST(SpecValidationTest, SelfUpstreamIsACycle) {
  EXPECT_THAT(Problems(R"(
table { name: "src" source: true }
table { name: "loop" upstream: ["src", "loop"] }
)"),
              ElementsAre("p.textproto:3:1: cycle: loop -> loop"));
}

TEST(SpecValidationTest, EachSeparateCycleIsReported) {
  EXPECT_THAT(Problems(R"(
table { name: "src" source: true }
table { name: "a" upstream: ["src", "b"] }
table { name: "b" upstream: "a" }
table { name: "c" upstream: ["src", "d"] }
table { name: "d" upstream: "c" }
)"),
              ElementsAre("p.textproto:3:1: cycle: a -> b -> a",
                          "p.textproto:5:1: cycle: c -> d -> c"));
}

TEST(SpecValidationTest, UnknownUpstreamSuggestsTheClosestName) {
  EXPECT_THAT(Problems(R"(
table { name: "orders" source: true }
table { name: "mart" upstream: "order" }
)"),
              ElementsAre("p.textproto:3:1: table \"mart\": unknown upstream "
                          "\"order\" (did you mean \"orders\"?)"));
}

TEST(SpecValidationTest, UnknownUpstreamWithoutCloseNameHasNoSuggestion) {
  EXPECT_THAT(Problems(R"(
table { name: "orders" source: true }
table { name: "mart" upstream: "inventory" }
)"),
              ElementsAre("p.textproto:3:1: table \"mart\": unknown upstream "
                          "\"inventory\""));
}

TEST(SpecValidationTest, UpstreamListedTwice) {
  EXPECT_THAT(Problems(R"(
table { name: "src" source: true }
table { name: "a" upstream: ["src", "src"] }
)"),
              ElementsAre("p.textproto:3:1: table \"a\": upstream \"src\" is "
                          "listed twice"));
}

TEST(SpecValidationTest, SourceTableWithUpstreams) {
  EXPECT_THAT(Problems(R"(
table { name: "src" source: true }
table { name: "other" source: true upstream: "src" }
)"),
              ElementsAre(HasSubstr("p.textproto:3:1: table \"other\": a "
                                    "source table cannot have upstreams")));
}

TEST(SpecValidationTest, PartitionedTableWithoutPartitionedUpstream) {
  EXPECT_THAT(Problems(R"(
table { name: "dim" source: true partitioned: false }
table { name: "fact" upstream: "dim" }
)"),
              ElementsAre(HasSubstr("p.textproto:3:1: table \"fact\": a "
                                    "partitioned table needs a partitioned "
                                    "upstream")));
}

TEST(SpecValidationTest, UnknownPriorityClassOnTheFieldsLine) {
  EXPECT_THAT(Problems(R"(
priority_class { name: "etl" }
priority_class { name: "adhoc" }
table { name: "src" source: true }
table { name: "a" upstream: "src"
        priority_class: "adhok" }
)"),
              ElementsAre("p.textproto:6:9: table \"a\": unknown priority "
                          "class \"adhok\" (did you mean \"adhoc\"?)"));
}

TEST(SpecValidationTest, UnknownPoolListsTheKnownOnes) {
  EXPECT_THAT(Problems(R"(
pool { name: "redshift" slots: 500 }
pool { name: "bigquery" slots: 100 }
table { name: "src" source: true }
table { name: "a" upstream: "src" pool: "snowflake" }
)"),
              ElementsAre("p.textproto:5:35: table \"a\": unknown pool "
                          "\"snowflake\" (known: redshift, bigquery)"));
}

TEST(SpecValidationTest, UnknownDefaultsPoolAndClass) {
  EXPECT_THAT(Problems(R"(
pool { name: "redshift" slots: 500 }
defaults { pool: "redshif" priority_class: "etl" }
table { name: "src" source: true }
)"),
              ElementsAre("p.textproto:3:12: defaults: unknown pool "
                          "\"redshif\" (did you mean \"redshift\"?)",
                          "p.textproto:3:28: defaults: unknown priority class "
                          "\"etl\" (known: default)"));
}

TEST(SpecValidationTest, PoolWithoutSlots) {
  EXPECT_THAT(Problems(R"(
pool { name: "redshift" slots: 0 }
table { name: "src" source: true }
)"),
              ElementsAre("p.textproto:2:25: pool \"redshift\": slots must be "
                          "at least 1 (got 0)"));
}

TEST(SpecValidationTest, PoolSlotsLargerThanThePool) {
  EXPECT_THAT(Problems(R"(
pool { name: "redshift" slots: 500 }
table { name: "src" source: true }
table { name: "a" upstream: "src" pool: "redshift" pool_slots: 501 }
)"),
              ElementsAre("p.textproto:4:1: table \"a\": pool_slots 501 "
                          "exceeds the 500 slots of pool \"redshift\""));
}

TEST(SpecValidationTest, PoolSlotsBelowOne) {
  EXPECT_THAT(Problems(R"(
table { name: "src" source: true }
table { name: "a" upstream: "src" pool_slots: 0 }
)"),
              ElementsAre("p.textproto:3:35: table \"a\": pool_slots must be "
                          "at least 1 (got 0)"));
}

TEST(SpecValidationTest, BadDurationNamesTheFieldAndLine) {
  EXPECT_THAT(Problems(R"(
table { name: "src" source: true }
table { name: "a" upstream: "src"
        lease: "10 minutes" }
)"),
              ElementsAre(HasSubstr("p.textproto:4:9: table \"a\": lease: "
                                    "invalid duration \"10 minutes\"")));
}

TEST(SpecValidationTest, BadNestedDurations) {
  EXPECT_THAT(
      Problems(R"(
defaults { retry { initial_backoff: "-5s" } }
table { name: "src" source: true }
table { name: "a" upstream: "src" freshness { max_lag: "1d" } }
)"),
      ElementsAre("p.textproto:2:20: defaults: retry.initial_backoff: duration "
                  "\"-5s\" must be positive",
                  HasSubstr("p.textproto:4:47: table \"a\": freshness.max_lag: "
                            "invalid duration \"1d\"")));
}

TEST(SpecValidationTest, BadMaxGateWaitNamesTheClassAndLine) {
  EXPECT_THAT(Problems(R"(
priority_class { name: "etl" }
priority_class { name: "adhoc"
                 max_gate_wait: "half an hour" gate_holds_retrying: false }
table { name: "src" source: true }
)"),
              ElementsAre(HasSubstr(
                  "p.textproto:4:18: priority class \"adhoc\": max_gate_wait: "
                  "invalid duration \"half an hour\"")));
}

TEST(SpecValidationTest, GateOptionsOfAClass) {
  auto pipeline = Pipeline::FromText(R"(
priority_class { name: "etl" gate_holds_retrying: false }
priority_class { name: "adhoc" max_gate_wait: "30m" }
table { name: "src" source: true }
)",
                                     SpecFormat::kTextProto, "p.textproto");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  const auto& classes = (*pipeline)->priority_classes();
  EXPECT_FALSE(classes[0].gate_holds_retrying);
  EXPECT_EQ(classes[0].max_gate_wait, absl::InfiniteDuration());
  EXPECT_TRUE(classes[1].gate_holds_retrying);
  EXPECT_EQ(classes[1].max_gate_wait, absl::Minutes(30));
}

TEST(SpecValidationTest, DurationsLongerThanTenYears) {
  EXPECT_THAT(Problems(R"(
table { name: "src" source: true }
table { name: "a" upstream: "src" lease: "3000000h" }
)"),
              ElementsAre("p.textproto:3:35: table \"a\": lease: duration "
                          "\"3000000h\" is longer than 87600h (ten years)"));
}

TEST(SpecValidationTest, DurationsShorterThanAMillisecond) {
  EXPECT_THAT(Problems(R"(
defaults { retry { max_backoff: "999us" } }
table { name: "src" source: true }
table { name: "a" upstream: "src" lease: "2ns" }
table { name: "b" upstream: "src" lease: "0.5ns" }
table { name: "c" upstream: "src" lease: "1ms" }
)"),
              ElementsAre(HasSubstr("retry.max_backoff: duration \"999us\" is "
                                    "shorter than 1ms"),
                          HasSubstr("lease: duration \"2ns\" is shorter than "
                                    "1ms"),
                          HasSubstr("lease: duration \"0.5ns\" is shorter "
                                    "than 1ms")));
}

TEST(SpecValidationTest, MaxAttemptsBelowOne) {
  EXPECT_THAT(Problems(R"(
table { name: "src" source: true }
table { name: "a" upstream: "src" retry { max_attempts: 0 } }
)"),
              ElementsAre("p.textproto:3:43: table \"a\": retry.max_attempts "
                          "must be at least 1 (got 0)"));
}

TEST(SpecValidationTest, MultiplierBelowOne) {
  EXPECT_THAT(Problems(R"(
table { name: "src" source: true }
table { name: "a" upstream: "src" retry { multiplier: 0.5 } }
)"),
              ElementsAre("p.textproto:3:43: table \"a\": retry.multiplier "
                          "must be at least 1 (got 0.5)"));
}

// The warnings of loading `text` as "p.textproto"; fails the test unless it
// loads.
std::vector<std::string> Warnings(const std::string& text) {
  auto pipeline =
      Pipeline::FromText(text, SpecFormat::kTextProto, "p.textproto");
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  std::vector<std::string> lines;
  if (!pipeline.ok()) return lines;
  for (const SpecProblem& w : (*pipeline)->warnings()) {
    lines.push_back(w.ToString());
  }
  return lines;
}

TEST(SpecValidationTest, InitialBackoffAboveMaxBackoffIsAWarning) {
  EXPECT_THAT(Warnings(R"(
defaults { retry { initial_backoff: "1h" } }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "src" retry { max_backoff: "2h" } }
table { name: "c" upstream: "src" retry { max_backoff: "20m" } }
)"),
              // Said once where the clash is written: "a" inherits it and
              // says nothing, "b" lifts the cap, "c" writes a clash anew.
              ElementsAre("p.textproto:2:20: warning: defaults: "
                          "retry.initial_backoff (1h) exceeds "
                          "retry.max_backoff (15m): every retry waits 15m",
                          "p.textproto:6:43: warning: table \"c\": "
                          "retry.initial_backoff (1h) exceeds "
                          "retry.max_backoff (20m): every retry waits 20m"));
  EXPECT_THAT(Warnings(R"(
table { name: "src" source: true }
table { name: "a" upstream: "src" retry { initial_backoff: "15m" } }
)"),
              ::testing::IsEmpty());
}

TEST(SpecValidationTest, EmptySpec) {
  EXPECT_THAT(Problems("name: \"nothing\"\n"),
              ElementsAre("p.textproto: empty spec: it defines no tables"));
  EXPECT_THAT(Problems(""), SizeIs(1));
}

TEST(SpecValidationTest, DuplicateClassesAndPools) {
  EXPECT_THAT(Problems(R"(
priority_class { name: "etl" }
priority_class { name: "etl" }
pool { name: "p" slots: 1 }
pool { name: "p" slots: 2 }
table { name: "src" source: true }
)"),
              ElementsAre("p.textproto:3:1: duplicate priority class \"etl\" "
                          "(first defined at line 2)",
                          "p.textproto:5:1: duplicate pool \"p\" (first "
                          "defined at line 4)"));
}

TEST(SpecValidationTest, TableWithoutName) {
  EXPECT_THAT(Problems("table { source: true }\n"),
              ElementsAre("p.textproto:1:1: table #1 has no name"));
}

TEST(SpecValidationTest, SyntaxErrorHasLineAndColumn) {
  // The column is the parser's: just past the offending token.
  EXPECT_THAT(Problems("\ntable { name: \"a\" source: yes }\n"),
              ElementsAre("p.textproto:2:31: Invalid value for boolean field "
                          "\"source\". Value: \"yes\"."));
  EXPECT_THAT(Problems("table { name: \"a\" colour: 1 }\n"),
              ElementsAre(HasSubstr("p.textproto:1:25: Message type "
                                    "\"landfall.TableSpec\" has no field "
                                    "named \"colour\".")));
}

TEST(SpecValidationTest, EveryProblemIsReportedInLineOrder) {
  const std::vector<std::string> problems = Problems(R"(
pool { name: "redshift" slots: 500 }
table { name: "src" source: true }
table { name: "src" source: true }
table { name: "a" upstream: "srcc" pool: "redshift" pool_slots: 600 }
table { name: "b" upstream: "src" lease: "soon" }
)");
  ASSERT_THAT(problems, SizeIs(4));
  EXPECT_THAT(problems[0], HasSubstr("p.textproto:4:1: duplicate table"));
  EXPECT_THAT(problems[1], HasSubstr("p.textproto:5:1:"));
  EXPECT_THAT(problems[2], HasSubstr("p.textproto:5:1:"));
  EXPECT_THAT(problems[3], HasSubstr("p.textproto:6:35: table \"b\": lease"));
}

TEST(SpecValidationTest, CycleIsReportedBesideOtherProblems) {
  EXPECT_THAT(Problems(R"(
table { name: "orders" source: true }
table { name: "payments" upstream: ["orders", "refunds"] }
table { name: "refunds" upstream: "payments" }
table { name: "mart" upstream: "order" }
table { name: "orders" source: true }
)"),
              ElementsAre("p.textproto:3:1: cycle: payments -> refunds -> "
                          "payments",
                          "p.textproto:5:1: table \"mart\": unknown upstream "
                          "\"order\" (did you mean \"orders\"?)",
                          "p.textproto:6:1: duplicate table \"orders\" (first "
                          "defined at line 2)"));
}

TEST(SpecValidationTest, JsonProblemsPointAtTheTablesLine) {
  EXPECT_THAT(Problems(R"({
  "table": [
    {"name": "src", "source": true},
    {"name": "mart", "upstream": ["sr"]}
  ]
})",
                       SpecFormat::kJson, "p.json"),
              ElementsAre("p.json:4: table \"mart\": unknown upstream \"sr\" "
                          "(did you mean \"src\"?)"));
}

TEST(SpecValidationTest, MalformedJsonIsReported) {
  std::vector<SpecProblem> problems;
  auto pipeline = Pipeline::FromText(R"({"table": [ {"name": )",
                                     SpecFormat::kJson, "p.json", &problems);
  ASSERT_FALSE(pipeline.ok());
  EXPECT_EQ(pipeline.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(problems[0].ToString(), HasSubstr("p.json: invalid JSON spec"));
}

TEST(SpecValidationTest, SpecBuiltInMemoryNamesTheSpec) {
  PipelineSpec spec;
  spec.set_name("mem");
  TableSpec* table = spec.add_table();
  table->set_name("a");
  table->add_upstream("missing");
  auto pipeline = Pipeline::FromSpec(spec);
  ASSERT_FALSE(pipeline.ok());
  EXPECT_EQ(pipeline.status().message(),
            "<spec mem>: table \"a\": unknown upstream \"missing\"");
}

TEST(SpecValidationTest, StringThatIsNotUtf8IsRefusedWhereWritten) {
  // A raw byte and an escape: both parse, neither could be stored.
  EXPECT_THAT(
      Problems("table { name: \"a\" source: true }\n"
               "table { name: \"b\xff\" upstream: \"a\" }\n"
               "table { name: \"c\" upstream: \"a\" labels { key: \"k\" value: "
               "\"\\377\" } }\n"),
      ElementsAre("p.textproto:2:9: name \"b\\377\" is not UTF-8 text",
                  "p.textproto:3:51: value \"\\377\" is not UTF-8 text"));
}

TEST(SpecValidationTest, ReadingASpecLeavesStderrAlone) {
  ::testing::internal::CaptureStderr();
  Problems("table { name: \"a\xff\" source: true }\n");
  std::vector<SpecProblem> problems;
  EXPECT_FALSE(Pipeline::FromText("{\"table\": [{\"name\": \"a\xff\"}]}",
                                  SpecFormat::kJson, "p.json", &problems)
                   .ok());
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(SpecValidationTest, FromSpecRefusesStringsThatAreNotUtf8) {
  PipelineSpec spec;
  spec.set_name("p");
  TableSpec* t = spec.add_table();
  t->set_name("a");
  t->set_source(true);
  (*t->mutable_labels())["owner"] = "\xc3";
  auto pipeline = Pipeline::FromSpec(spec);
  ASSERT_FALSE(pipeline.ok());
  EXPECT_EQ(std::string(pipeline.status().message()),
            "<spec p>: value \"\\303\" is not UTF-8 text");
}

TEST(SpecValidationTest, ControlCharactersInNamesAreRefused) {
  EXPECT_THAT(
      Problems(R"(
priority_class { name: "etl\t" }
pool { name: "pool\177" slots: 1 }
defaults { sink: "s\n" }
table { name: "sr\000c" source: true }
table { name: "d" upstream: "sr\000c" sink: "\302\205" }
)"),
      ElementsAre(
          "p.textproto:2:18: priority class name \"etl\\t\" holds a control "
          "character",
          "p.textproto:3:8: pool name \"pool\\177\" holds a control character",
          "p.textproto:4:12: sink name \"s\\n\" holds a control character",
          "p.textproto:5:9: table name \"sr\\000c\" holds a control character",
          "p.textproto:6:39: sink name \"\\302\\205\" holds a control "
          "character"));
}

TEST(SpecValidationTest, PrintableUnicodeNamesAreAccepted) {
  std::vector<SpecProblem> problems;
  auto pipeline = Pipeline::FromText(
      "table { name: \"売上\" source: true }\n"
      "table { name: \"d \\\"q\\\" \\\\\" upstream: \"売上\" }\n",
      SpecFormat::kTextProto, "p.textproto", &problems);
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
}

TEST(SpecValidationTest, UnknownEnumNumbersAreRefused) {
  EXPECT_THAT(Problems(R"(
priority_gate: 7
table { name: "src" source: true }
table { name: "a" upstream: "src"
        trigger: 9 }
table { name: "b" upstream: "src" trigger: -5 }
)"),
              ElementsAre("p.textproto:2:1: priority_gate: unknown value 7 "
                          "(POOL, PIPELINE, OFF)",
                          "p.textproto:5:9: table \"a\": trigger: unknown "
                          "value 9 (ALL, ANY)",
                          "p.textproto:6:35: table \"b\": trigger: unknown "
                          "value -5 (ALL, ANY)"));
}

TEST(SpecValidationTest, UnknownEnumNumbersInJsonAreRefused) {
  EXPECT_THAT(Problems(R"({
  "priority_gate": 7,
  "table": [
    {"name": "src", "source": true},
    {"name": "a", "upstream": ["src"], "trigger": 9}
  ]
})",
                       SpecFormat::kJson, "p.json"),
              // JSON problems have the line of a table, none for the top.
              ElementsAre("p.json: priority_gate: unknown value 7 (POOL, "
                          "PIPELINE, OFF)",
                          "p.json:5: table \"a\": trigger: unknown value 9 "
                          "(ALL, ANY)"));
}

}  // namespace
}  // namespace landfall
