// The simulator: output lines, the order of events at one instant, leases.
#include "landfall/simulator.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "landfall/scheduler.h"
#include "lib/testing/history.h"

namespace landfall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kSpec[] = R"(
priority_class { name: "etl" }
priority_class { name: "adhoc" }
pool { name: "wh" slots: 2 }
defaults { pool: "wh" lease: "5m" retry { max_attempts: 2 initial_backoff: "30s" } }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "a" }
table { name: "c" upstream: "b" priority_class: "adhoc" }
)";

template <typename M>
M Parse(const std::string& json) {
  M message;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &message).ok())
      << json;
  return message;
}

std::vector<std::string> Simulated(const std::vector<std::string>& events,
                                   const std::vector<std::string>& script,
                                   SimulationOptions options = {},
                                   const char* spec = kSpec) {
  auto pipeline = Pipeline::FromText(spec, SpecFormat::kTextProto, "spec");
  EXPECT_TRUE(pipeline.ok());
  std::vector<Arrival> arrivals;
  for (const std::string& e : events) arrivals.push_back(Parse<Arrival>(e));
  std::vector<SimulatedAttempt> lines;
  for (const std::string& s : script) {
    lines.push_back(Parse<SimulatedAttempt>(s));
  }
  std::ostringstream out;
  absl::Status status = Simulate(*pipeline, arrivals, lines, options, out);
  EXPECT_TRUE(status.ok()) << status;
  std::vector<std::string> result;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) result.push_back(line);
  return result;
}

TEST(SimulatorTest, RunsTheChainAndSummarizes) {
  auto lines = Simulated(
      {R"({"event_id":"e1","table":"src","partition":"p","at":"2018-11-04T01:00:00Z"})"},
      {R"({"table":"b","duration":"90s"})"});
  EXPECT_THAT(
      lines,
      ElementsAre(
          R"({"table":"a","partition":"p","attempt":1,"claimed_at":"2018-11-04T01:00:00Z","finished_at":"2018-11-04T01:01:00Z","outcome":"SUCCEEDED"})",
          R"({"table":"b","partition":"p","attempt":1,"claimed_at":"2018-11-04T01:01:00Z","finished_at":"2018-11-04T01:02:30Z","outcome":"SUCCEEDED"})",
          R"({"table":"c","partition":"p","attempt":1,"claimed_at":"2018-11-04T01:02:30Z","finished_at":"2018-11-04T01:03:30Z","outcome":"SUCCEEDED"})",
          R"({"summary":{"attempts":3,"succeeded":3,"dead":[],"blocked":[],"makespan":"3m30s"}})"));
}

TEST(SimulatorTest, AMaxGateWaitRunningOutIsAWakeUp) {
  constexpr char kGateWait[] = R"(
priority_class { name: "etl" }
priority_class { name: "adhoc" max_gate_wait: "30m" }
pool { name: "wh" slots: 2 }
defaults { pool: "wh" }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "x" upstream: "src" priority_class: "adhoc" }
)";
  auto lines = Simulated(
      {R"({"event_id":"e1","table":"src","partition":"p","at":"2018-11-04T01:00:00Z"})"},
      {R"({"table":"a","duration":"2h"})"}, {}, kGateWait);
  // Nothing else happens at 01:30: x is claimed when its wait runs out.
  EXPECT_THAT(
      lines,
      ElementsAre(
          R"({"table":"x","partition":"p","attempt":1,"claimed_at":"2018-11-04T01:30:00Z","finished_at":"2018-11-04T01:31:00Z","outcome":"SUCCEEDED"})",
          R"({"table":"a","partition":"p","attempt":1,"claimed_at":"2018-11-04T01:00:00Z","finished_at":"2018-11-04T03:00:00Z","outcome":"SUCCEEDED"})",
          R"({"summary":{"attempts":2,"succeeded":2,"dead":[],"blocked":[],"makespan":"2h"}})"));
}

TEST(SimulatorTest, DuplicatesRetriesAndDeadLetter) {
  auto lines = Simulated(
      {R"({"event_id":"e1","table":"src","partition":"p","at":"2018-11-04T01:00:00Z"})",
       R"({"event_id":"e1","table":"src","partition":"p","at":"2018-11-04T01:00:10Z"})"},
      {R"({"table":"a","attempt":1,"outcome":"RETRYABLE","message":"maintenance"})",
       R"({"table":"a","outcome":"FATAL"})"});
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], R"({"duplicate":"e1"})");
  EXPECT_THAT(lines[1], HasSubstr(R"("attempt":1,)"));
  EXPECT_THAT(lines[1], HasSubstr(R"("outcome":"RETRYABLE")"));
  // The retry waits 30s after the failure at 01:01:00.
  EXPECT_THAT(lines[2], HasSubstr(R"("claimed_at":"2018-11-04T01:01:30Z")"));
  EXPECT_THAT(lines[2], HasSubstr(R"("outcome":"FATAL")"));
  EXPECT_EQ(
      lines[3],
      R"({"summary":{"attempts":2,"succeeded":0,"dead":[{"table":"a","partition":"p"}],"blocked":[{"table":"b","partition":"p"},{"table":"c","partition":"p"}],"makespan":"2m30s"}})");
}

TEST(SimulatorTest, ARunKeptInAStoreGoesTheSameAndLeavesItsState) {
  const std::vector<std::string> events = {
      R"({"event_id":"e1","table":"src","partition":"p","at":"2018-11-04T01:00:00Z"})",
      R"({"event_id":"e2","table":"src","partition":"q","at":"2018-11-04T01:00:00Z"})"};
  const std::vector<std::string> script = {
      R"({"table":"a","partition":"q","outcome":"FATAL","message":"bad"})"};
  SimulationOptions options;
  options.store = NewMemoryStore();
  EXPECT_EQ(Simulated(events, script, options), Simulated(events, script));
  auto scheduler = Scheduler::Open(options.store);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  std::vector<TaskStatus> dead = (*scheduler)->DeadLetter();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].task, (TaskKey{"a", "q"}));
  EXPECT_EQ(dead[0].last_error, "bad");
}

TEST(SimulatorTest, LeaseExpiresOnlyWhenTheScriptSaysSo) {
  auto lines = Simulated(
      {R"({"event_id":"e1","table":"src","partition":"p","at":"2018-11-04T01:00:00Z"})"},
      {R"({"table":"a","attempt":1,"outcome":"LEASE_EXPIRED"})",
       R"({"table":"b","duration":"2h"})"});
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_THAT(
      lines[0],
      HasSubstr(
          R"("finished_at":"2018-11-04T01:05:00Z","outcome":"LEASE_EXPIRED")"));
  // b runs two hours on a 5m lease: its worker heartbeats, so it succeeds.
  EXPECT_THAT(lines[2], HasSubstr(R"("table":"b")"));
  EXPECT_THAT(lines[2], HasSubstr(R"("outcome":"SUCCEEDED")"));
}

TEST(SimulatorTest, AWorkerHeartbeatsOnceHoweverLongItRuns) {
  SimulationOptions options;
  options.store = NewMemoryStore();
  auto lines = Simulated(
      {R"({"event_id":"e1","table":"src","partition":"p","at":"2018-11-04T01:00:00Z"})"},
      {R"({"table":"a","duration":"87600h"})"}, options);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[0], HasSubstr(R"("outcome":"SUCCEEDED")"));
  auto scheduler = Scheduler::Open(options.store);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  int heartbeats = 0;
  for (const HistoryEntry& e :
       ::landfall::testing::History(**scheduler, 1, SIZE_MAX)) {
    heartbeats += e.kind == EntryKind::kHeartbeat;
  }
  // One for a's ten years (not one per half lease); b and c end in theirs.
  EXPECT_EQ(heartbeats, 1);
}

TEST(SimulatorTest, WorkersCapConcurrencyAndUntilStops) {
  SimulationOptions options;
  options.workers = 1;
  auto lines = Simulated(
      {R"({"event_id":"e1","table":"src","partition":"p","at":"2018-11-04T01:00:00Z"})",
       R"({"event_id":"e2","table":"src","partition":"q","at":"2018-11-04T01:00:00Z"})"},
      {}, options);
  EXPECT_THAT(lines[1], HasSubstr(R"("claimed_at":"2018-11-04T01:01:00Z")"));
  options.until = absl::FromUnixSeconds(1541293200) + absl::Seconds(90);
  lines = Simulated(
      {R"({"event_id":"e1","table":"src","partition":"p","at":"2018-11-04T01:00:00Z"})"},
      {}, options);
  EXPECT_EQ(lines.size(), 2u);  // a finished at 01:01:00, then the summary.
}

TEST(SimulatorTest, EventsOrScriptThatIsADirectoryIsRefused) {
  for (const auto& read : {ReadArrivals(::testing::TempDir()).status(),
                           ReadScript(::testing::TempDir()).status()}) {
    EXPECT_EQ(read.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(read.message()),
                ::testing::HasSubstr(": it is a directory"));
  }
}

TEST(SimulatorTest, EventsLargerThan4GiBAreRefused) {
  const std::string path = ::testing::TempDir() + "huge-events.jsonl";
  std::ofstream(path).close();
  // Sparse: the size is what counts, and nothing is written.
  std::filesystem::resize_file(path, (uint64_t{4} << 30) + 1);
  const absl::Status read = ReadArrivals(path).status();
  std::filesystem::remove(path);
  EXPECT_EQ(read.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(read.message()),
              ::testing::HasSubstr("larger than 4096 MiB"));
}

// What ReadSimulationInput says of `events` and `script` (written to
// files; "" for no script), or "ok".
std::string InputProblem(const std::string& events, const std::string& script) {
  auto pipeline = Pipeline::FromText(kSpec, SpecFormat::kTextProto, "spec");
  EXPECT_TRUE(pipeline.ok());
  const std::string events_path = ::testing::TempDir() + "input-events.jsonl";
  const std::string script_path = ::testing::TempDir() + "input-script.jsonl";
  std::ofstream(events_path) << events;
  std::ofstream(script_path) << script;
  absl::StatusOr<SimulationInput> input = ReadSimulationInput(
      *pipeline, events_path, script.empty() ? "" : script_path);
  if (input.ok()) return "ok";
  std::string message(input.status().message());
  for (const std::string& path : {events_path, script_path}) {
    if (absl::StartsWith(message, path)) message.replace(0, path.size(), "F");
  }
  return message;
}

TEST(SimulatorTest, EveryInputLineIsCheckedBeforeTheRunWithItsLine) {
  const std::string good =
      R"({"event_id":"e1","table":"src","partition":"p","at":"2018-11-04T01:00:00Z"})"
      "\n\n";
  EXPECT_EQ(InputProblem(good, R"({"table":"b","duration":"90s"})"), "ok");
  EXPECT_EQ(
      InputProblem(
          good +
              R"({"event_id":"e2","table":"srx","partition":"p","at":"2018-11-04T01:00:00Z"})",
          ""),
      "F:3: event e2: unknown table \"srx\" (did you mean \"src\"?)");
  EXPECT_EQ(
      InputProblem(
          good +
              R"({"table":"src","partition":"p","at":"2018-11-04T01:00:00Z"})",
          ""),
      "F:3: arrival for table \"src\" has no event_id");
  EXPECT_EQ(
      InputProblem(
          good +
              R"({"event_id":"e2","table":"src","at":"2018-11-04T01:00:00Z"})",
          ""),
      "F:3: event e2: table \"src\" is partitioned: the arrival needs a "
      "partition");
  EXPECT_EQ(
      InputProblem(good + R"({"event_id":"e2","table":"src","partition":"p"})",
                   ""),
      "F:3: event \"e2\": a simulated arrival needs \"at\"");
  EXPECT_THAT(
      InputProblem(
          good +
              R"({"event_id":"e2","table":"src","partition":"p","at":"yesterday"})",
          ""),
      ::testing::StartsWith("F:3: "));
  EXPECT_EQ(InputProblem(good,
                         "\n"
                         R"({"table":"src"})"),
            "F:2: \"src\" is not a derived table of the pipeline");
  EXPECT_THAT(InputProblem(good, R"({"table":"b","duration":"soon"})"),
              ::testing::StartsWith("F:1: duration: "));
  EXPECT_EQ(InputProblem(good, R"({"table":"b","outcome":7})"),
            "F:1: unknown outcome 7");
}

TEST(SimulatorTest, ScriptWithAnUnknownOutcomeNumberIsRefusedWithItsLine) {
  const std::string path = ::testing::TempDir() + "/unknown_outcome.jsonl";
  {
    std::ofstream out(path);
    out << "{\"table\": \"a\", \"outcome\": \"FATAL\"}\n\n"
        << "{\"table\": \"b\", \"outcome\": 7}\n";
  }
  absl::StatusOr<std::vector<SimulatedAttempt>> script = ReadScript(path);
  ASSERT_FALSE(script.ok());
  EXPECT_EQ(script.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(script.status().message(), path + ":3: unknown outcome 7");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace landfall
