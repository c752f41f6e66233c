// Simulating from an events file (EventsFile: read twice, not held) in
// time order and out of it, 200,000 arrivals on a 4-table pipeline:
//
//   build/release/bench/events_file_bench
//
// BM_SimulateEventsFile/<order>: EventsFile::Read, then Simulate, of a
// file whose lines are in time order (0), in time order but for every
// hundredth arrival appended at the end (1), or in reverse order (2). The
// output is the same each time. Counter: ns_per_arrival (CPU).
#include <algorithm>
#include <ctime>
#include <fstream>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "landfall/pipeline.h"
#include "landfall/simulator.h"

namespace landfall {
namespace {

constexpr int kArrivals = 200000;

constexpr char kSpec[] = R"(
pool { name: "wh" slots: 8 }
defaults { pool: "wh" }
table { name: "src0" source: true }
table { name: "src1" source: true }
table { name: "a" upstream: "src0" }
table { name: "b" upstream: ["src1", "a"] }
)";

// The events file of `order`, written once per process.
std::string EventsPath(int order) {
  const std::string path =
      absl::StrCat("/tmp/landfall-events-file-bench-", order, ".jsonl");
  static bool written[3] = {false, false, false};
  if (written[order]) return path;
  std::vector<std::string> lines, late;
  for (int i = 0; i < kArrivals; ++i) {
    const absl::Time at = absl::FromUnixSeconds(1541300000) + absl::Minutes(i);
    std::string line = absl::StrCat(
        R"({"event_id":"e)", i, R"(","table":"src)", i % 2,
        R"(","partition":")",
        absl::FormatTime("%Y-%m-%d", at - absl::Hours(24), absl::UTCTimeZone()),
        R"(","at":")",
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", at, absl::UTCTimeZone()),
        R"("})");
    (order == 1 && i % 100 == 99 ? late : lines).push_back(std::move(line));
  }
  if (order == 2) std::reverse(lines.begin(), lines.end());
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  for (const auto* part : {&lines, &late}) {
    for (const std::string& line : *part) file << line << "\n";
  }
  written[order] = true;
  return path;
}

// Discards what the simulation prints.
class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

double ThreadCpuNanos() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e9 +
         static_cast<double>(now.tv_nsec);
}

void BM_SimulateEventsFile(benchmark::State& state) {
  auto pipeline = Pipeline::FromText(kSpec, SpecFormat::kTextProto, "bench");
  const std::string path = EventsPath(static_cast<int>(state.range(0)));
  NullBuffer null;
  std::ostream out(&null);
  const double cpu_start = ThreadCpuNanos();
  for (auto _ : state) {
    auto events = EventsFile::Read(*pipeline, path);
    if (!events.ok() || !Simulate(*pipeline, **events, {}, {}, out).ok()) {
      state.SkipWithError("the simulation failed");
      return;
    }
  }
  state.counters["ns_per_arrival"] =
      (ThreadCpuNanos() - cpu_start) / (double(state.iterations()) * kArrivals);
}
BENCHMARK(BM_SimulateEventsFile)
    ->DenseRange(0, 2)
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace landfall

BENCHMARK_MAIN();
