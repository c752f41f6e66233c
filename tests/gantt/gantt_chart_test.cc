// Gantt charts: bars at their times and slot rows, failures marked, rows
// within the pool's limit, the critical path, escaping, and the `gantt` and
// `simulate --gantt` commands.
#include "examples/cli/gantt/gantt_chart.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "examples/cli/app.h"
#include "examples/cli/gantt/gantt_svg.h"
#include "examples/cli/state_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/simulator.h"
#include "landfall/state_store.h"

namespace landfall::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Pool wh has 2 slots. From T0: a and b start; a fails after 30s (retry in
// 10s), c takes the free slot at 30s until 90s, a's retry waits for it and
// runs 90s-150s, b ends at 120s, and d (after a and b) runs 150s-210s.
constexpr char kSpec[] = R"(
name: "g"
priority_class { name: "etl" gate_holds_retrying: false }
priority_class { name: "adhoc" }
pool { name: "wh" slots: 2 }
defaults { pool: "wh" retry { max_attempts: 3 initial_backoff: "10s" } }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "src" }
table { name: "c" upstream: "src" }
table { name: "d" upstream: "a" upstream: "b" }
)";
constexpr char kEvents[] =
    R"({"event_id":"e1","table":"src","partition":"p1","at":"2018-11-04T01:00:00Z"})"
    "\n";
constexpr char kScript[] =
    R"({"table":"a","attempt":1,"duration":"30s","outcome":"RETRYABLE","message":"boom <&\"x\">"})"
    "\n"
    R"({"table":"a","duration":"60s"})"
    "\n"
    R"({"table":"b","duration":"120s"})"
    "\n";
const absl::Time kT0 = absl::FromUnixSeconds(1541293200);

class GanttTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat(
               "gantt_test_", getpid(), "_",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    spec_ = Write("spec.textproto", kSpec);
    events_ = Write("events.jsonl", kEvents);
    script_ = Write("script.jsonl", kScript);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // Simulates kSpec (or `spec`) and reads its run back.
  GanttRun Run(const std::string& spec = kSpec,
               const std::string& events = kEvents,
               const std::string& script = kScript) {
    auto pipeline = Pipeline::FromText(spec, SpecFormat::kTextProto, "spec");
    EXPECT_TRUE(pipeline.ok()) << pipeline.status();
    pipelines_.push_back(*pipeline);
    auto input = ReadSimulationInput(*pipeline, Write("e.jsonl", events),
                                     Write("s.jsonl", script));
    EXPECT_TRUE(input.ok()) << input.status();
    SimulationOptions options;
    options.store = NewMemoryStore();
    std::ostringstream out;
    EXPECT_TRUE(
        Simulate(*pipeline, input->arrivals, input->script, options, out).ok());
    GanttRun run;
    run.title = "run";
    run.pipeline = pipeline->get();
    auto history = ReadStoreHistory(*options.store);
    EXPECT_TRUE(history.ok()) << history.status();
    run.history = *std::move(history);
    return run;
  }

  // Runs the landfall command line; its exit code.
  static int Landfall(std::vector<std::string> args) {
    args.insert(args.begin(), "landfall");
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    CLI::App app;
    int exit_code = 0;
    BuildApp(app, &exit_code);
    std::ostringstream out, err;
    return ParseCommandLine(app, static_cast<int>(argv.size()), argv.data(),
                            &exit_code, out, err);
  }

  // The attempt of `table` numbered `attempt`.
  static const GanttAttempt& Find(const GanttChart& chart,
                                  const std::string& table, int64_t attempt) {
    for (const GanttAttempt& a : chart.attempts) {
      if (a.table == table && a.attempt == attempt) return a;
    }
    ADD_FAILURE() << "no attempt " << attempt << " of " << table;
    static const GanttAttempt kNone;
    return kNone;
  }

  // The opening tag of the bar whose title begins with `title`.
  static std::string BarOf(const std::string& svg, const std::string& title) {
    const size_t at = svg.find(absl::StrCat("<title>", title));
    if (at == std::string::npos) return "";
    const size_t begin = svg.rfind("<rect", at);
    return svg.substr(begin, at - begin);
  }

  // Whether the tag's class attribute lists `name`.
  static bool HasClass(const std::string& tag, const std::string& name) {
    const size_t at = tag.find("class=\"");
    if (at == std::string::npos) return false;
    const size_t end = tag.find('"', at + 7);
    const std::string classes = tag.substr(at + 7, end - at - 7);
    return absl::StrCat(" ", classes, " ").find(absl::StrCat(" ", name, " ")) !=
           std::string::npos;
  }

  std::filesystem::path dir_;
  std::string spec_, events_, script_;
  std::vector<std::shared_ptr<const Pipeline>> pipelines_;  // Of the runs.
};

TEST_F(GanttTest, AttemptsTakeTheirTimesAndTheLowestFreeRow) {
  const GanttChart chart = BuildGanttChart(Run());
  ASSERT_EQ(chart.attempts.size(), 5u);
  const GanttAttempt& a1 = Find(chart, "a", 1);
  EXPECT_EQ(a1.start, kT0);
  EXPECT_EQ(a1.end, kT0 + absl::Seconds(30));
  const GanttAttempt& b = Find(chart, "b", 1);
  EXPECT_EQ(b.end, kT0 + absl::Seconds(120));
  EXPECT_NE(a1.row, b.row);
  const GanttAttempt& c = Find(chart, "c", 1);
  EXPECT_EQ(c.start, kT0 + absl::Seconds(30));
  EXPECT_EQ(c.row, a1.row);  // The row a1 left.
  EXPECT_EQ(c.priority_class, "etl");
  const GanttAttempt& a2 = Find(chart, "a", 2);
  EXPECT_EQ(a2.start, kT0 + absl::Seconds(90));
  EXPECT_EQ(a2.row, c.row);
  const GanttAttempt& d = Find(chart, "d", 1);
  EXPECT_EQ(d.start, kT0 + absl::Seconds(150));
  EXPECT_EQ(d.end, kT0 + absl::Seconds(210));
  EXPECT_EQ(d.row, 0);  // Both rows free: the lowest.
  EXPECT_EQ(chart.begin, kT0);
  EXPECT_EQ(chart.end, kT0 + absl::Seconds(210));
}

TEST_F(GanttTest, BarsAreDrawnAtTheirTimeOnTheAxis) {
  const GanttChart chart = BuildGanttChart(Run());
  GanttSvgOptions options;  // 1400 wide: the axis runs from x 200 to 1360.
  const std::string svg = GanttSvg({chart}, options);
  // a's retry runs 90s to 150s of 210s.
  const std::string bar = BarOf(svg, "a/p1 attempt 2 ");
  EXPECT_THAT(
      bar, HasSubstr(absl::StrFormat("x=\"%.1f\"", 200 + 1160 * 90.0 / 210)));
  EXPECT_THAT(bar,
              HasSubstr(absl::StrFormat("width=\"%.1f\"", 1160 * 60.0 / 210)));
  // The time axis: a tick every 30s, the first with its date.
  EXPECT_THAT(svg, HasSubstr(">2018-11-04 01:00:00</text>"));
  EXPECT_THAT(svg, HasSubstr(">01:03:30</text>"));
  EXPECT_THAT(svg, Not(HasSubstr(">01:03:40</text>")));
  EXPECT_THAT(svg, HasSubstr("class etl"));
}

TEST_F(GanttTest, FailedAttemptsAreMarkedWithTheirError) {
  const GanttChart chart = BuildGanttChart(Run());
  const GanttAttempt& a1 = Find(chart, "a", 1);
  EXPECT_EQ(a1.ended, AttemptEnd::kRetried);
  EXPECT_EQ(a1.detail, "boom <&\"x\">");
  EXPECT_EQ(Find(chart, "a", 2).ended, AttemptEnd::kSucceeded);
  const std::string svg = GanttSvg({chart}, GanttSvgOptions());
  EXPECT_TRUE(HasClass(BarOf(svg, "a/p1 attempt 1 "), "f"));
  EXPECT_FALSE(HasClass(BarOf(svg, "a/p1 attempt 2 "), "f"));
  EXPECT_THAT(
      svg, HasSubstr(
               "failed, retried: boom &lt;&amp;&quot;x&quot;"
               "&gt;; on the critical path</title></rect>\n<rect class=\"x\""));
}

TEST_F(GanttTest, RowsNeverExceedThePoolLimitNorOverlap) {
  std::string spec =
      "name: \"g\" pool { name: \"wh\" slots: 3 } defaults { pool: \"wh\" }\n"
      "table { name: \"src\" source: true }\n";
  std::string events, script;
  for (int i = 0; i < 12; ++i) {
    absl::StrAppend(&spec, "table { name: \"t", i, "\" upstream: \"",
                    i < 4 ? "src" : absl::StrCat("t", i - 4), "\" }\n");
    absl::StrAppend(&script, "{\"table\":\"t", i, "\",\"duration\":\"",
                    10 + 17 * (i % 5), "s\"}\n");
  }
  for (int p = 0; p < 4; ++p) {
    absl::StrAppend(&events, "{\"event_id\":\"e", p,
                    "\",\"table\":\"src\",\"partition\":\"p", p,
                    "\",\"at\":\"2018-11-04T01:0", p, ":00Z\"}\n");
  }
  const GanttChart chart = BuildGanttChart(Run(spec, events, script));
  ASSERT_EQ(chart.attempts.size(), 48u);
  ASSERT_EQ(chart.lanes.size(), 1u);
  EXPECT_EQ(chart.lanes[0].pool, "wh");
  EXPECT_EQ(chart.lanes[0].rows, 3);  // Busy: every slot used, no more.
  for (const GanttAttempt& a : chart.attempts) {
    EXPECT_LT(a.row, 3);
    for (const GanttAttempt& b : chart.attempts) {
      if (&a == &b || a.row != b.row) continue;
      EXPECT_TRUE(a.end <= b.start || b.end <= a.start)
          << a.table << "/" << a.partition << " and " << b.table << "/"
          << b.partition << " share row " << a.row;
    }
  }
}

TEST_F(GanttTest, CriticalPathIsTheChainThatReleasedTheLastSuccess) {
  const GanttChart chart = BuildGanttChart(Run());
  std::vector<std::string> path;
  for (size_t i : chart.critical_path) {
    path.push_back(
        absl::StrCat(chart.attempts[i].table, "#", chart.attempts[i].attempt));
    EXPECT_TRUE(chart.attempts[i].critical);
  }
  // d was released by a's success (after b's), a's second attempt by the
  // retry of its first, and that by the arrival of src.
  EXPECT_THAT(path, ElementsAre("a#1", "a#2", "d#1"));
  ASSERT_TRUE(chart.critical_arrival.has_value());
  EXPECT_EQ(chart.arrivals[*chart.critical_arrival].table, "src");
  EXPECT_FALSE(Find(chart, "b", 1).critical);
  EXPECT_FALSE(Find(chart, "c", 1).critical);
  const std::string svg = GanttSvg({chart}, GanttSvgOptions());
  EXPECT_TRUE(HasClass(BarOf(svg, "d/p1 attempt 1 "), "k"));
  EXPECT_FALSE(HasClass(BarOf(svg, "b/p1 attempt 1 "), "k"));
  EXPECT_THAT(svg, HasSubstr("<polyline class=\"p\""));
}

TEST_F(GanttTest, NamesAndErrorsAreEscapedForXml) {
  const std::string events =
      R"({"event_id":"e1","table":"src","partition":"p<&\"'\u0001","at":"2018-11-04T01:00:00Z"})"
      "\n";
  GanttRun run = Run(kSpec, events);
  run.title = "title <&>";
  const std::string svg = GanttSvg({BuildGanttChart(run)}, GanttSvgOptions());
  EXPECT_THAT(svg, HasSubstr("a/p&lt;&amp;&quot;&#39;\xEF\xBF\xBD attempt 1"));
  EXPECT_THAT(svg, HasSubstr("title &lt;&amp;&gt;"));
  EXPECT_THAT(svg, Not(HasSubstr("p<")));
  EXPECT_THAT(svg, Not(HasSubstr("\x01")));
  EXPECT_THAT(svg, Not(HasSubstr("boom <")));
}

TEST_F(GanttTest, RowsPastTheCapCollapseIntoTheLastRow) {
  const GanttChart chart = BuildGanttChart(Run());
  GanttSvgOptions options;
  options.max_rows_per_pool = 1;
  const std::string collapsed = GanttSvg({chart}, options);
  // a1 and b ran at once: one row holds both, translucent (a density lane).
  EXPECT_THAT(collapsed, HasSubstr("rows from 1 in the last"));
  EXPECT_TRUE(HasClass(BarOf(collapsed, "b/p1 attempt 1 "), "o"));
  EXPECT_TRUE(HasClass(BarOf(collapsed, "a/p1 attempt 1 "), "o"));
  EXPECT_THAT(BarOf(collapsed, "b/p1 attempt 1 "), HasSubstr("y=\"101.0\""));
  const std::string full = GanttSvg({chart}, GanttSvgOptions());
  EXPECT_FALSE(HasClass(BarOf(full, "b/p1 attempt 1 "), "o"));
  EXPECT_THAT(BarOf(full, "b/p1 attempt 1 "), HasSubstr("y=\"113.0\""));
}

TEST_F(GanttTest, ChartsOfSeveralRunsShareOneTimeAxis) {
  GanttRun first = Run();
  GanttRun second = Run();
  second.title = "second";
  for (HistoryEntry& e : second.history) e.at += absl::Seconds(210);
  const std::string svg = GanttSvg(
      {BuildGanttChart(first), BuildGanttChart(second)}, GanttSvgOptions());
  // 420s on 1160 pixels: the second run's d starts at 360s.
  EXPECT_THAT(
      BarOf(svg, "d/p1 attempt 1 (class etl, pool wh): 01:06:00"),
      HasSubstr(absl::StrFormat("x=\"%.1f\"", 200 + 1160 * 360.0 / 420)));
  EXPECT_THAT(svg, HasSubstr(">second</text>"));
}

TEST_F(GanttTest, GanttCommandDrawsAStateFileSinceATime) {
  const std::string state = (dir_ / "state.db").string();
  ASSERT_EQ(Landfall({"simulate", spec_, "--events", events_, "--script",
                      script_, "--state", state}),
            0);
  const std::string all = (dir_ / "all.svg").string();
  ASSERT_EQ(Landfall({"gantt", "--state", state, "-o", all}), 0);
  EXPECT_THAT(Read(all), HasSubstr("<title>a/p1 attempt 1 "));
  EXPECT_THAT(Read(all), HasSubstr("<title>d/p1 attempt 1 "));
  // Since 01:01: attempts claimed before are left out.
  const std::string since = (dir_ / "since.svg").string();
  ASSERT_EQ(Landfall({"gantt", "--state", state, "--since",
                      "2018-11-04T01:01:00Z", "-o", since}),
            0);
  EXPECT_THAT(Read(since), Not(HasSubstr("<title>a/p1 attempt 1 ")));
  EXPECT_THAT(Read(since), Not(HasSubstr("<title>b/p1 attempt 1 ")));
  EXPECT_THAT(Read(since), Not(HasSubstr("<title>c/p1 attempt 1 ")));
  EXPECT_THAT(Read(since), HasSubstr("<title>a/p1 attempt 2 "));
  EXPECT_THAT(Read(since), HasSubstr("<title>d/p1 attempt 1 "));
  // A bad time is bad usage; a missing store is refused.
  EXPECT_EQ(Landfall({"gantt", "--state", state, "--since", "yesterday"}), 2);
  EXPECT_EQ(Landfall({"gantt", "--state", (dir_ / "none.db").string()}), 2);
}

TEST_F(GanttTest, SimulateDrawsItsRunWithGantt) {
  const std::string svg = (dir_ / "sim.svg").string();
  ASSERT_EQ(Landfall({"simulate", spec_, "--events", events_, "--script",
                      script_, "--gantt", svg}),
            0);
  EXPECT_THAT(Read(svg), HasSubstr("<title>d/p1 attempt 1 "));
  // With --state, from the state file.
  const std::string kept = (dir_ / "kept.svg").string();
  ASSERT_EQ(Landfall({"simulate", spec_, "--events", events_, "--state",
                      (dir_ / "state.db").string(), "--gantt", kept}),
            0);
  EXPECT_THAT(Read(kept), HasSubstr("<title>a/p1 attempt 1 "));
  EXPECT_EQ(Landfall({"simulate", spec_, "--events", events_, "--gantt",
                      (dir_ / "no" / "such" / "dir.svg").string()}),
            2);
}

TEST_F(GanttTest, SimulateReplayDrawsTheRecordedAndTheReplayedRun) {
  const std::string state = (dir_ / "state.db").string();
  ASSERT_EQ(Landfall({"simulate", spec_, "--events", events_, "--script",
                      script_, "--state", state}),
            0);
  // With 3 slots c no longer holds a's retry back: d starts at 120s, not
  // 150s.
  std::string wider = kSpec;
  wider.replace(wider.find("slots: 2"), 8, "slots: 3");
  const std::string spec2 = Write("wider.textproto", wider);
  const std::string svg = (dir_ / "replay.svg").string();
  ASSERT_EQ(
      Landfall({"simulate", spec2, "--replay-state", state, "--gantt", svg}),
      0);
  const std::string drawn = Read(svg);
  EXPECT_THAT(drawn, HasSubstr(absl::StrCat(">recorded: ", state, "</text>")));
  EXPECT_THAT(drawn, HasSubstr(absl::StrCat(">replayed: ", spec2, "</text>")));
  EXPECT_THAT(drawn, HasSubstr("<title>d/p1 attempt 1 (class etl, pool wh): "
                               "01:02:30"));
  EXPECT_THAT(drawn, HasSubstr("<title>d/p1 attempt 1 (class etl, pool wh): "
                               "01:02:00"));
}

}  // namespace
}  // namespace landfall::cli
