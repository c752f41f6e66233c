// EventsFile: an events file simulated without holding it goes exactly as
// the same arrivals held in a list, and is refused exactly as they are.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "landfall/simulator.h"
#include "lib/runtime/json_lines.h"

namespace landfall {
namespace {

constexpr char kSpec[] = R"(
pool { name: "wh" slots: 1 }
defaults { pool: "wh" lease: "5m" retry { max_attempts: 2 initial_backoff: "30s" } }
table { name: "src" source: true }
table { name: "dim" source: true partitioned: false }
table { name: "a" upstream: "src" upstream: "dim" }
table { name: "b" upstream: "a" }
)";

std::shared_ptr<const Pipeline> TestPipeline() {
  return *Pipeline::FromText(kSpec, SpecFormat::kTextProto, "spec");
}

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string ArrivalLine(const std::string& id, const std::string& table,
                        const std::string& partition, const std::string& at,
                        const std::string& origin = "") {
  std::string line =
      absl::StrCat(R"({"event_id":")", id, R"(","table":")", table, R"(",)");
  if (!partition.empty()) {
    absl::StrAppend(&line, R"("partition":")", partition, R"(",)");
  }
  if (!origin.empty()) absl::StrAppend(&line, R"("origin":")", origin, R"(",)");
  absl::StrAppend(&line, R"("at":")", at, R"("})");
  return line;
}

// What Simulate prints for the arrivals of `path` held in a list, and
// with `script_path`'s script (none when empty).
std::string SimulatedFromList(const std::string& path,
                              const std::string& script_path) {
  auto held = ReadSimulationInput(TestPipeline(), path, script_path);
  EXPECT_TRUE(held.ok()) << held.status();
  if (!held.ok()) return "";
  std::ostringstream out;
  EXPECT_TRUE(
      Simulate(TestPipeline(), held->arrivals, held->script, {}, out).ok());
  return out.str();
}

// What Simulate prints for the EventsFile of `path`.
std::string SimulatedFromFile(const std::string& path,
                              const std::string& script_path) {
  auto file = EventsFile::Read(TestPipeline(), path);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return "";
  std::vector<SimulatedAttempt> script;
  if (!script_path.empty()) {
    auto read = ReadSimulationScript(*TestPipeline(), script_path);
    EXPECT_TRUE(read.ok()) << read.status();
    if (read.ok()) script = *std::move(read);
  }
  std::ostringstream out;
  const absl::Status status = Simulate(TestPipeline(), **file, script, {}, out);
  EXPECT_TRUE(status.ok()) << status;
  return out.str();
}

TEST(EventsFileTest, SimulatesAsTheSameArrivalsHeldInAList) {
  // Out of time order, ties broken by line order, a duplicate, blank lines,
  // an escaped line for protobuf, a line longer than a read, and no final
  // newline.
  const std::string events = absl::StrCat(
      ArrivalLine("e3", "src", "p2", "2018-11-04T03:00:00Z"), "\n\n",
      ArrivalLine("e1", "src", "p1", "2018-11-04T01:00:00Z"), "\n",
      ArrivalLine("d1", "dim", "", "2018-11-04T01:00:00Z",
                  std::string(100000, 'o')),
      "\n",
      R"({"event_id":"e\u0032","table":"src","partition":"p1","at":"2018-11-04T01:00:00.5Z"})",
      "\n  \n", ArrivalLine("e1", "src", "p1", "2018-11-04T02:00:00Z"), "\n",
      ArrivalLine("e4", "src", "p1", "2018-11-04T01:00:00Z"));
  const std::string script_text =
      R"({"table":"a","partition":"p1","attempt":1,"outcome":"RETRYABLE"})";
  const std::string path = WriteFile("events-file.jsonl", events);
  const std::string script_path = WriteFile("events-script.jsonl", script_text);

  const std::string out = SimulatedFromFile(path, script_path);
  EXPECT_EQ(out, SimulatedFromList(path, script_path));
  EXPECT_NE(out.find(R"({"duplicate":"e1"})"), std::string::npos);
}

TEST(EventsFileTest, AFileFarOutOfTimeOrderSimulatesAsTheListDoes) {
  // Some 3 MiB, past the 1 MiB window of lines in time order: every tenth
  // arrival is appended at the end, late, and the last days come first and
  // backwards, so that the lines in time order jump back and far ahead.
  const std::string origin(2000, 'o');
  std::vector<std::string> in_order, late;
  for (int day = 1; day <= 1500; ++day) {
    const std::string partition = absl::StrCat("p", day);
    const std::string at = absl::FormatTime(
        "%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(1541300000 + day * 600),
        absl::UTCTimeZone());
    std::string line =
        ArrivalLine(absl::StrCat("e", day), "src", partition, at, origin);
    (day % 10 == 0 ? late : in_order).push_back(std::move(line));
  }
  std::reverse(in_order.end() - 200, in_order.end());
  std::rotate(in_order.begin(), in_order.end() - 200, in_order.end());
  in_order.push_back(ArrivalLine("d1", "dim", "", "2018-11-04T00:00:00Z"));
  const std::string path =
      WriteFile("events-out-of-order.jsonl",
                absl::StrCat(absl::StrJoin(in_order, "\n"), "\n",
                             absl::StrJoin(late, "\n"), "\n"));
  const std::string out = SimulatedFromFile(path, "");
  EXPECT_EQ(out, SimulatedFromList(path, ""));
  EXPECT_NE(out.find(R"({"summary":{"attempts":3000,)"), std::string::npos)
      << out.substr(out.size() - std::min<size_t>(out.size(), 300));
}

// The error of reading `events` both ways: the same, or a description of
// how they differ.
std::string SameRefusal(const std::string& events) {
  const std::string path = WriteFile("events-refused.jsonl", events);
  const absl::Status held =
      ReadSimulationInput(TestPipeline(), path, "").status();
  const absl::Status streamed = EventsFile::Read(TestPipeline(), path).status();
  if (held == streamed) return std::string(streamed.message());
  return absl::StrCat("held: ", held.ToString(),
                      " streamed: ", streamed.ToString());
}

TEST(EventsFileTest, RefusesWhatReadSimulationInputRefusesAsItDoes) {
  const std::string good =
      ArrivalLine("e1", "src", "p", "2018-11-04T01:00:00Z");
  const std::string unknown =
      ArrivalLine("e2", "srx", "p", "2018-11-04T01:00:00Z");
  for (const std::string& events : {
           good + "\n" + unknown,
           good + "\n" + R"({"event_id":"e2","table":"src","partition":"p"})",
           good + "\n" + ArrivalLine("e2", "dim", "p", "2018-11-04T01:00:00Z"),
           good + "\n" + ArrivalLine("", "src", "p", "2018-11-04T01:00:00Z"),
           good + "\n" + R"({"event_id":"e2","at":"yesterday"})",
           // A line that does not parse is the error, even after one that
           // is refused.
           unknown + "\n" + good + "\n{",
       }) {
    const std::string message = SameRefusal(events);
    EXPECT_EQ(message.rfind(::testing::TempDir() + "events-refused.jsonl:", 0),
              0u)
        << message;
  }
  EXPECT_EQ(SameRefusal(good), "");
  EXPECT_EQ(
      EventsFile::Read(TestPipeline(), ::testing::TempDir()).status().code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST(EventsFileTest, AFileChangedAfterReadingIsDataLoss) {
  const std::string path =
      WriteFile("events-changed.jsonl",
                ArrivalLine("e1", "src", "p", "2018-11-04T01:00:00Z") + "\n");
  auto file = EventsFile::Read(TestPipeline(), path);
  ASSERT_TRUE(file.ok()) << file.status();
  WriteFile("events-changed.jsonl",
            ArrivalLine("e1", "src", "p", "2018-11-04T09:00:00Z") + "\n");
  std::ostringstream out;
  const absl::Status status = Simulate(TestPipeline(), **file, {}, {}, out);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  WriteFile("events-changed.jsonl", "");
  EXPECT_EQ(Simulate(TestPipeline(), **file, {}, {}, out).code(),
            absl::StatusCode::kDataLoss);
}

TEST(EventsFileTest, ForEachLineSplitsAsSplitLinesAcrossReads) {
  const std::string text = absl::StrCat("a\n\n", std::string(200000, 'b'),
                                        "\nc\r\n", std::string(70000, 'd'));
  const std::string path = WriteFile("lines.txt", text);
  std::vector<std::string> lines;
  std::vector<int64_t> offsets;
  ASSERT_TRUE(internal::ForEachLine(path, [&](int number, int64_t offset,
                                              absl::string_view line) {
                EXPECT_EQ(number, lines.size() + 1);
                lines.emplace_back(line);
                offsets.push_back(offset);
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(lines, internal::SplitLines(text));
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(text.substr(offsets[i], lines[i].size()), lines[i]);
  }
  lines.clear();
  WriteFile("lines.txt", "x\n");
  ASSERT_TRUE(
      internal::ForEachLine(path, [&](int, int64_t, absl::string_view line) {
        lines.emplace_back(line);
        return absl::OkStatus();
      }).ok());
  EXPECT_EQ(lines, std::vector<std::string>{"x"});
}

}  // namespace
}  // namespace landfall
