// Replay: a day recorded by a simulation, run again through changed specs.
#include "landfall/replay.h"

#include <sstream>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/testing/times.h"

namespace landfall {
namespace {

using ::landfall::testing::At;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Pool of one: a (10m) and b (20m) one after the other, then c (1m).
constexpr char kPoolOfOne[] = R"(
pool { name: "wh" slots: 1 }
defaults { pool: "wh" lease: "5m" retry { max_attempts: 3 initial_backoff: "30s" } }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "src" }
table { name: "c" upstream: "a" upstream: "b" }
)";

constexpr char kDay1[] =
    R"({"event_id":"e1","table":"src","partition":"2018-11-03","at":"2018-11-04T01:00:00Z"})";
constexpr char kDay2[] =
    R"({"event_id":"e2","table":"src","partition":"2018-11-04","at":"2018-11-05T01:00:00Z"})";

std::shared_ptr<const Pipeline> Spec(const std::string& text) {
  auto pipeline = Pipeline::FromText(text, SpecFormat::kTextProto, "spec");
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  return pipeline.ok() ? *pipeline : nullptr;
}

// `spec` with `from` replaced by `to`.
std::string Changed(std::string spec, const std::string& from,
                    const std::string& to) {
  const size_t at = spec.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return spec.replace(at, from.size(), to);
}

template <typename M>
M Parse(const std::string& json) {
  M message;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &message).ok())
      << json;
  return message;
}

// The history of a simulated day of `spec`.
std::vector<HistoryEntry> Record(const std::string& spec,
                                 const std::vector<std::string>& events,
                                 const std::vector<std::string>& script,
                                 SimulationOptions options = {}) {
  std::vector<Arrival> arrivals;
  for (const std::string& e : events) arrivals.push_back(Parse<Arrival>(e));
  std::vector<SimulatedAttempt> lines;
  for (const std::string& s : script) {
    lines.push_back(Parse<SimulatedAttempt>(s));
  }
  options.store = NewMemoryStore();
  std::ostringstream out;
  absl::Status status = Simulate(Spec(spec), arrivals, lines, options, out);
  EXPECT_TRUE(status.ok()) << status;
  auto scheduler = Scheduler::Open(Spec(spec), options.store);
  EXPECT_TRUE(scheduler.ok()) << scheduler.status();
  if (!scheduler.ok()) return {};
  absl::StatusOr<std::vector<HistoryEntry>> history =
      ReadWholeHistory(**scheduler);
  EXPECT_TRUE(history.ok()) << history.status();
  return history.ok() ? *history : std::vector<HistoryEntry>{};
}

const std::vector<std::string> kScript = {
    R"({"table":"a","duration":"10m"})",
    R"({"table":"b","partition":"2018-11-03","attempt":1,"duration":"5m","outcome":"RETRYABLE"})",
    R"({"table":"b","duration":"20m"})", R"({"table":"c","duration":"1m"})"};

ReplayResult Replayed(const std::string& spec,
                      const std::vector<HistoryEntry>& history,
                      const ReplayOptions& options = {}) {
  absl::StatusOr<ReplayResult> result =
      SimulateReplay(Spec(spec), history, options);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : ReplayResult{};
}

// "table/partition#attempt claimed-finished OUTCOME", times as offsets.
std::vector<std::string> Attempts(const RunRecord& run, absl::Time start) {
  std::vector<std::string> out;
  for (const RunAttempt& a : run.attempts) {
    out.push_back(
        absl::StrCat(a.task.table, "/", a.task.partition, "#", a.attempt, " ",
                     absl::FormatDuration(a.claimed_at - start), "-",
                     a.finished_at == absl::InfiniteFuture()
                         ? "running"
                         : absl::FormatDuration(a.finished_at - start),
                     " ", Outcome_Name(a.outcome)));
  }
  return out;
}

std::string ScriptText(const std::vector<SimulatedAttempt>& script) {
  std::string text;
  for (const SimulatedAttempt& line : script) {
    std::string json;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(line, &json).ok());
    absl::StrAppend(&text, json, "\n");
  }
  return text;
}

TEST(ReplayTest, TheSameSpecReproducesTheRecordedTimesExactly) {
  // A retry, a lease that runs out, a fatal failure: every kind of end.
  const std::string spec = Changed(kPoolOfOne, "table { name: \"c\"",
                                   "table { name: \"d\" upstream: \"src\" }\n"
                                   "table { name: \"e\" upstream: \"src\" }\n"
                                   "table { name: \"c\"");
  std::vector<std::string> script = kScript;
  script.push_back(
      R"({"table":"d","attempt":1,"duration":"3m","outcome":"LEASE_EXPIRED"})");
  script.push_back(R"({"table":"d","duration":"2m"})");
  script.push_back(R"({"table":"e","duration":"7250ms","outcome":"FATAL"})");
  const std::vector<HistoryEntry> history =
      Record(spec, {kDay1, kDay2}, script);
  const ReplayResult result = Replayed(spec, history);
  const absl::Time start = result.window.start;
  EXPECT_EQ(start, At("2018-11-04T01:00:00Z"));
  ASSERT_EQ(result.window.recorded.attempts.size(), 13u);
  EXPECT_EQ(Attempts(result.replayed, start),
            Attempts(result.window.recorded, start));
  EXPECT_EQ(result.replayed.last_finish, result.window.recorded.last_finish);
  std::ostringstream out;
  PrintReplay(*Spec(spec), result, out);
  EXPECT_THAT(out.str(), HasSubstr(R"("makespan_change":"0")"));
}

TEST(ReplayTest, APoolOfTwoShrinksTheMakespanAsComputedByHand) {
  const std::vector<HistoryEntry> history =
      Record(kPoolOfOne, {kDay1}, kScript);
  // Pool of 2: a 0-10m, b 0-5m RETRYABLE, b again at 5m30s-25m30s, c 25m30s
  // to 26m30s; the record ran b after a: makespan 36m30s.
  const ReplayResult result =
      Replayed(Changed(kPoolOfOne, "slots: 1", "slots: 2"), history);
  const absl::Time start = result.window.start;
  EXPECT_THAT(Attempts(result.replayed, start),
              ElementsAre("a/2018-11-03#1 0-10m SUCCEEDED",
                          "b/2018-11-03#1 0-5m RETRYABLE",
                          "b/2018-11-03#2 5m30s-25m30s SUCCEEDED",
                          "c/2018-11-03#1 25m30s-26m30s SUCCEEDED"));
  std::ostringstream out;
  PrintReplay(*Spec(kPoolOfOne), result, out);
  EXPECT_EQ(
      out.str(),
      R"({"table":"a","recorded":{"partition":"2018-11-03","built_at":"2018-11-04T01:10:00Z","after":"10m"},"replayed":{"partition":"2018-11-03","built_at":"2018-11-04T01:10:00Z","after":"10m"},"change":"0"})"
      "\n"
      R"({"table":"b","recorded":{"partition":"2018-11-03","built_at":"2018-11-04T01:35:30Z","after":"35m30s"},"replayed":{"partition":"2018-11-03","built_at":"2018-11-04T01:25:30Z","after":"25m30s"},"change":"-10m"})"
      "\n"
      R"({"table":"c","recorded":{"partition":"2018-11-03","built_at":"2018-11-04T01:36:30Z","after":"36m30s"},"replayed":{"partition":"2018-11-03","built_at":"2018-11-04T01:26:30Z","after":"26m30s"},"change":"-10m"})"
      "\n"
      R"({"replay":{"since":"2018-11-04T01:00:00Z","until":null,"arrivals":1,"dropped_tables":[],"recorded":{"attempts":4,"succeeded":3,"makespan":"36m30s"},"replayed":{"attempts":4,"succeeded":3,"makespan":"26m30s"},"makespan_change":"-10m"}})"
      "\n");
}

TEST(ReplayTest, ANewTableTakesTheLowerMedianOfItsPoolsRecordedAttempts) {
  const std::vector<HistoryEntry> history =
      Record(kPoolOfOne, {kDay1}, kScript);
  const std::string spec2 =
      absl::StrCat(kPoolOfOne, "table { name: \"n\" upstream: \"c\" }\n");
  // Succeeded in wh: 10m, 20m, 1m; the lower median is 10m.
  ReplayResult result = Replayed(spec2, history);
  ASSERT_EQ(result.replayed.attempts.size(), 5u);
  const RunAttempt& n = result.replayed.attempts.back();
  EXPECT_EQ(n.task.table, "n");
  EXPECT_EQ(n.finished_at - n.claimed_at, absl::Minutes(10));
  EXPECT_EQ(n.outcome, Outcome::SUCCEEDED);
  // Stated instead.
  ReplayOptions options;
  options.default_duration = absl::Minutes(3);
  result = Replayed(spec2, history, options);
  ASSERT_EQ(result.replayed.attempts.size(), 5u);
  EXPECT_EQ(result.replayed.attempts.back().finished_at -
                result.replayed.attempts.back().claimed_at,
            absl::Minutes(3));
}

TEST(ReplayTest, OfAnEvenNumberOfDurationsTheMedianIsTheLowerOne) {
  const std::string spec = R"(
pool { name: "wh" slots: 1 }
defaults { pool: "wh" }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "src" }
)";
  const std::vector<HistoryEntry> history =
      Record(spec, {kDay1},
             {R"({"table":"a","duration":"10m"})",
              R"({"table":"b","duration":"20m"})"});
  const ReplayResult result = Replayed(
      absl::StrCat(spec, "table { name: \"n\" upstream: \"a\" }\n"), history);
  ASSERT_EQ(result.replayed.attempts.size(), 3u);
  const RunAttempt& n = result.replayed.attempts.back();
  EXPECT_EQ(n.task.table, "n");
  EXPECT_EQ(n.finished_at - n.claimed_at, absl::Minutes(10));
}

TEST(ReplayTest, ATableInAPoolWithoutRecordedAttemptsTakesTheMedianOfAll) {
  const std::vector<HistoryEntry> history =
      Record(kPoolOfOne, {kDay1}, kScript);
  const std::string spec2 =
      absl::StrCat(Changed(kPoolOfOne, "pool {",
                           "pool { name: \"other\" slots: 1 }\npool {"),
                   "table { name: \"n\" upstream: \"src\" pool: \"other\" }\n");
  const ReplayResult result = Replayed(spec2, history);
  int runs_of_n = 0;
  for (const RunAttempt& a : result.replayed.attempts) {
    if (a.task.table != "n") continue;
    ++runs_of_n;
    EXPECT_EQ(a.finished_at - a.claimed_at, absl::Minutes(10));
  }
  EXPECT_EQ(runs_of_n, 1);
}

TEST(ReplayTest, TheScriptFollowsTheRecordByOrdinalThenTheLastDuration) {
  const std::vector<HistoryEntry> history =
      Record(kPoolOfOne, {kDay1}, kScript);
  absl::StatusOr<ReplayInput> input =
      ExtractReplay(*Spec(kPoolOfOne), history, ReplayOptions());
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(
      ScriptText(input->input.script),
      R"({"table":"a","partition":"2018-11-03","attempt":"1","duration":"600000ms"})"
      "\n"
      R"({"table":"a","partition":"2018-11-03","duration":"600000ms"})"
      "\n"
      R"({"table":"b","partition":"2018-11-03","attempt":"1","duration":"300000ms","outcome":"RETRYABLE","message":"RETRYABLE"})"
      "\n"
      R"({"table":"b","partition":"2018-11-03","attempt":"2","duration":"1200000ms"})"
      "\n"
      R"({"table":"b","partition":"2018-11-03","duration":"1200000ms"})"
      "\n"
      R"({"table":"c","partition":"2018-11-03","attempt":"1","duration":"60000ms"})"
      "\n"
      R"({"table":"c","partition":"2018-11-03","duration":"60000ms"})"
      "\n"
      R"({"table":"a","duration":"600000ms"})"
      "\n"
      R"({"table":"b","duration":"600000ms"})"
      "\n"
      R"({"table":"c","duration":"600000ms"})"
      "\n");
}

TEST(ReplayTest, SinceAndUntilBoundTheWindow) {
  const std::vector<HistoryEntry> history =
      Record(kPoolOfOne, {kDay1, kDay2}, kScript);
  ReplayOptions first_day;
  first_day.until = At("2018-11-05T00:00:00Z");
  ReplayResult result = Replayed(kPoolOfOne, history, first_day);
  EXPECT_EQ(result.window.input.arrivals.size(), 1u);
  EXPECT_EQ(result.window.horizon, At("2018-11-05T01:00:00Z"));
  EXPECT_EQ(result.window.recorded.attempts.size(), 4u);
  EXPECT_EQ(result.replayed.attempts.size(), 4u);

  ReplayOptions second_day;
  second_day.since = At("2018-11-05T00:00:00Z");
  result = Replayed(kPoolOfOne, history, second_day);
  ASSERT_EQ(result.window.input.arrivals.size(), 1u);
  EXPECT_EQ(result.window.input.arrivals[0].event_id(), "e2");
  EXPECT_EQ(result.window.start, At("2018-11-05T01:00:00Z"));
  const absl::Time start = result.window.start;
  // b's first attempt of the day is its first recorded in the window.
  EXPECT_THAT(Attempts(result.window.recorded, start),
              ElementsAre("a/2018-11-04#1 0-10m SUCCEEDED",
                          "b/2018-11-04#1 10m-30m SUCCEEDED",
                          "c/2018-11-04#1 30m-31m SUCCEEDED"));
  EXPECT_EQ(Attempts(result.replayed, start),
            Attempts(result.window.recorded, start));
}

TEST(ReplayTest, AWindowsFirstRecordedAttemptOfATaskIsItsFirstInTheReplay) {
  // src/2018-11-03 lands again at 05:00: a's attempts 2 and 3 rebuild it.
  const std::vector<HistoryEntry> history = Record(
      kPoolOfOne,
      {kDay1,
       R"({"event_id":"e1b","table":"src","partition":"2018-11-03","at":"2018-11-04T05:00:00Z"})"},
      {R"({"table":"a","attempt":2,"duration":"5m","outcome":"RETRYABLE"})",
       R"({"table":"a","attempt":3,"duration":"30m"})",
       R"({"table":"a","duration":"10m"})"});
  ReplayOptions later;
  later.since = At("2018-11-04T04:00:00Z");
  const ReplayResult result = Replayed(kPoolOfOne, history, later);
  const absl::Time start = result.window.start;
  EXPECT_THAT(Attempts(result.window.recorded, start),
              ElementsAre("a/2018-11-03#2 0-5m RETRYABLE",
                          "b/2018-11-03#2 5m-6m SUCCEEDED",
                          "a/2018-11-03#3 6m-36m SUCCEEDED",
                          "c/2018-11-03#2 36m-37m SUCCEEDED"));
  EXPECT_THAT(Attempts(result.replayed, start),
              ElementsAre("a/2018-11-03#1 0-5m RETRYABLE",
                          "b/2018-11-03#1 5m-6m SUCCEEDED",
                          "a/2018-11-03#2 6m-36m SUCCEEDED",
                          "c/2018-11-03#1 36m-37m SUCCEEDED"));
}

TEST(ReplayTest, AnAttemptRunningAtTheRecordsEndTakesAtLeastTheDefault) {
  SimulationOptions stop;
  // The history ends at 01:10, with b claimed.
  stop.until = At("2018-11-04T01:12:00Z");
  const std::vector<HistoryEntry> history =
      Record(kPoolOfOne, {kDay1}, kScript, stop);
  ReplayResult result = Replayed(kPoolOfOne, history);
  const absl::Time start = result.window.start;
  EXPECT_THAT(Attempts(result.window.recorded, start),
              ElementsAre("a/2018-11-03#1 0-10m SUCCEEDED",
                          "b/2018-11-03#1 10m-running SUCCEEDED"));
  // The default (the median of a's 10m) is longer than the 0 it had run
  // by the history's last entry (its claim).
  EXPECT_THAT(Attempts(result.replayed, start),
              ElementsAre("a/2018-11-03#1 0-10m SUCCEEDED",
                          "b/2018-11-03#1 10m-20m SUCCEEDED",
                          "c/2018-11-03#1 20m-30m SUCCEEDED"));
}

TEST(ReplayTest, RecordedTablesTheNewSpecLacksAreDroppedAndListed) {
  const std::vector<HistoryEntry> history = Record(
      absl::StrCat(kPoolOfOne, "table { name: \"src2\" source: true }\n"),
      {kDay1,
       R"({"event_id":"x1","table":"src2","partition":"2018-11-03","at":"2018-11-04T01:05:00Z"})"},
      kScript);
  // Without b (c reads a alone) and src2.
  const std::string spec2 = Changed(
      Changed(kPoolOfOne, "table { name: \"b\" upstream: \"src\" }\n", ""),
      " upstream: \"b\"", "");
  const ReplayResult result = Replayed(spec2, history);
  EXPECT_THAT(result.window.dropped_tables, ElementsAre("b", "src2"));
  const absl::Time start = result.window.start;
  EXPECT_THAT(Attempts(result.replayed, start),
              ElementsAre("a/2018-11-03#1 0-10m SUCCEEDED",
                          "c/2018-11-03#1 10m-11m SUCCEEDED"));
  std::ostringstream out;
  PrintReplay(*Spec(spec2), result, out);
  EXPECT_THAT(out.str(), HasSubstr(R"("dropped_tables":["b","src2"])"));
}

TEST(ReplayTest, TheDefaultWindowStartsAtTheFirstArrivalEvenOfADroppedTable) {
  const std::vector<HistoryEntry> history = Record(
      absl::StrCat(kPoolOfOne, "table { name: \"src2\" source: true }\n"),
      {R"({"event_id":"x1","table":"src2","partition":"2018-11-03","at":"2018-11-04T00:30:00Z"})",
       kDay1},
      kScript);
  const ReplayResult result = Replayed(kPoolOfOne, history);
  EXPECT_THAT(result.window.dropped_tables, ElementsAre("src2"));
  EXPECT_EQ(result.window.since, At("2018-11-04T00:30:00Z"));
  EXPECT_EQ(result.window.start, At("2018-11-04T00:30:00Z"));
}

TEST(ReplayTest, AWindowWithoutArrivalsIsAClearError) {
  const std::vector<HistoryEntry> history =
      Record(kPoolOfOne, {kDay1}, kScript);
  ReplayOptions later;
  later.since = At("2018-11-06T00:00:00Z");
  absl::StatusOr<ReplayResult> result =
      SimulateReplay(Spec(kPoolOfOne), history, later);
  EXPECT_TRUE(absl::IsInvalidArgument(result.status()));
  EXPECT_EQ(result.status().message(),
            "no arrival in the window [2018-11-06T00:00:00Z, end): the "
            "history's 1 arrivals are from 2018-11-04T01:00:00Z to "
            "2018-11-04T01:00:00Z");

  result = SimulateReplay(Spec(kPoolOfOne), {}, ReplayOptions());
  EXPECT_EQ(result.status().message(),
            "the history is empty: there is no recorded day to replay");

  ReplayOptions backwards;
  backwards.since = At("2018-11-05T00:00:00Z");
  backwards.until = At("2018-11-04T00:00:00Z");
  result = SimulateReplay(Spec(kPoolOfOne), history, backwards);
  EXPECT_TRUE(absl::IsInvalidArgument(result.status()));
  EXPECT_THAT(result.status().message(),
              HasSubstr("is empty: since must be before until"));
}

}  // namespace
}  // namespace landfall
