// Loading pipeline specs: Pipeline::FromText (parse, validate, build the table
// graph) beside a bare protobuf parse of the same text, the baseline that
// shows what validation and the graph cost on top. Run a Release build:
//
//   build/<dir>/bench/pipeline_bench --benchmark_min_time=0.2
//
// Each benchmark reports, per table of its spec:
//   ns_per_table          CPU time of one load.
//   peak_bytes_per_table  Peak heap growth during one load, the loaded result
//                         included (0 under AddressSanitizer).
//   held_bytes_per_table  (Load benchmarks) Heap a loaded Pipeline keeps.
#include <cstdint>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/memory_tracker.h"
#include "benchmark/benchmark.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "landfall/pipeline.h"
#include "lib/testing/synthetic_pipeline.h"

namespace landfall {
namespace {

constexpr char kBigQueryEtlSpec[] =
    LANDFALL_FIXTURES_DIR "/bigquery-etl/pipeline.textproto";

// One load of spec text, returning the number of tables loaded. The result
// lives until the load returns, so its memory counts in the peak.
using LoadFn = absl::StatusOr<int> (*)(const std::string& text,
                                       SpecFormat format);

absl::StatusOr<int> LoadPipeline(const std::string& text, SpecFormat format) {
  absl::StatusOr<std::shared_ptr<const Pipeline>> pipeline =
      Pipeline::FromText(text, format, "bench");
  benchmark::DoNotOptimize(pipeline);
  if (!pipeline.ok()) return pipeline.status();
  return (*pipeline)->table_count();
}

// The baseline: protobuf's own parser, without validation or table graph.
absl::StatusOr<int> ParseOnly(const std::string& text, SpecFormat format) {
  PipelineSpec spec;
  const bool parsed =
      format == SpecFormat::kJson
          ? google::protobuf::util::JsonStringToMessage(text, &spec).ok()
          : google::protobuf::TextFormat::ParseFromString(text, &spec);
  benchmark::DoNotOptimize(spec);
  if (!parsed) return absl::InvalidArgumentError("protobuf rejected the spec");
  return spec.table_size();
}

// CPU time of this thread, the clock of benchmark's CPU column. ns_per_table
// is computed from it because benchmark prints an inverted-rate Counter in
// seconds ("5.9ks" for 5,900 ns).
double ThreadCpuNanos() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e9 +
         static_cast<double>(now.tv_nsec);
}

// The heap a Pipeline loaded from `text` keeps, per table.
double HeldBytesPerTable(const std::string& text, SpecFormat format) {
  const size_t live_before = memory_tracker::LiveBytes();
  absl::StatusOr<std::shared_ptr<const Pipeline>> pipeline =
      Pipeline::FromText(text, format, "bench");
  if (!pipeline.ok()) return 0;
  return static_cast<double>(memory_tracker::LiveBytes() - live_before) /
         (*pipeline)->table_count();
}

// Times `load` of `text` and sets the counters every benchmark here reports.
void RunLoadBenchmark(benchmark::State& state, LoadFn load,
                      const std::string& text, SpecFormat format) {
  // An untimed first load checks the spec, counts its tables and builds
  // protobuf's lazily initialized state, which would otherwise count in.
  const absl::StatusOr<int> tables = load(text, format);
  if (!tables.ok()) {
    state.SkipWithError(std::string(tables.status().message()).c_str());
    return;
  }

  memory_tracker::ResetPeak();
  const size_t live_before = memory_tracker::LiveBytes();
  const double cpu_start = ThreadCpuNanos();
  for (auto _ : state) {
    benchmark::DoNotOptimize(load(text, format));
  }
  const double cpu_nanos = ThreadCpuNanos() - cpu_start;
  // Each iteration frees what it allocated, so the peak over the loop is
  // the peak of a single load.
  const size_t peak_bytes = memory_tracker::PeakBytes() - live_before;

  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(text.size()));
  const double tables_loaded =
      static_cast<double>(state.iterations()) * *tables;
  state.counters["ns_per_table"] = cpu_nanos / tables_loaded;
  state.counters["peak_bytes_per_table"] =
      static_cast<double>(peak_bytes) / *tables;
  if (load == &LoadPipeline) {
    state.counters["held_bytes_per_table"] = HeldBytesPerTable(text, format);
  }
}

// The synthetic spec: `tables` tables in layers of 1,000, fan-in 4, seed 1.
// Rendered once per process: benchmark runs each body several times.
const std::string& LayeredSpecText(int tables, SpecFormat format) {
  static auto* const cache =
      new std::map<std::pair<int, SpecFormat>, std::string>();
  auto [it, inserted] = cache->try_emplace({tables, format});
  if (!inserted) return it->second;

  testing::LayeredPipelineOptions options;
  options.tables = tables;
  options.width = 1000;
  options.min_fan_in = 4;
  options.max_fan_in = 4;
  options.seed = 1;
  const PipelineSpec spec = testing::MakeLayeredPipelineSpec(options);
  if (format == SpecFormat::kJson) {
    // Cannot fail: the spec is valid and has no Any fields.
    (void)google::protobuf::util::MessageToJsonString(spec, &it->second);
  } else {
    it->second = testing::ToTextProto(spec);
  }
  return it->second;
}

void RunLayeredBenchmark(benchmark::State& state, LoadFn load,
                         SpecFormat format) {
  const int tables = static_cast<int>(state.range(0));
  RunLoadBenchmark(state, load, LayeredSpecText(tables, format), format);
}

void RunBigQueryEtlBenchmark(benchmark::State& state, LoadFn load) {
  std::ifstream file(kBigQueryEtlSpec, std::ios::binary);
  if (!file) {
    state.SkipWithError(
        (std::string("fixture not found: ") + kBigQueryEtlSpec).c_str());
    return;
  }
  std::ostringstream text;
  text << file.rdbuf();
  RunLoadBenchmark(state, load, text.str(), SpecFormat::kTextProto);
}

void BM_LoadTextSpec(benchmark::State& state) {
  RunLayeredBenchmark(state, &LoadPipeline, SpecFormat::kTextProto);
}
void BM_ParseTextOnly(benchmark::State& state) {
  RunLayeredBenchmark(state, &ParseOnly, SpecFormat::kTextProto);
}
void BM_LoadJsonSpec(benchmark::State& state) {
  RunLayeredBenchmark(state, &LoadPipeline, SpecFormat::kJson);
}
void BM_ParseJsonOnly(benchmark::State& state) {
  RunLayeredBenchmark(state, &ParseOnly, SpecFormat::kJson);
}
void BM_LoadBigQueryEtl(benchmark::State& state) {
  RunBigQueryEtlBenchmark(state, &LoadPipeline);
}
void BM_ParseBigQueryEtlOnly(benchmark::State& state) {
  RunBigQueryEtlBenchmark(state, &ParseOnly);
}

BENCHMARK(BM_LoadTextSpec)
    ->RangeMultiplier(10)
    ->Range(1000, 1000000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseTextOnly)
    ->RangeMultiplier(10)
    ->Range(1000, 1000000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoadJsonSpec)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseJsonOnly)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoadBigQueryEtl)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseBigQueryEtlOnly)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace landfall

BENCHMARK_MAIN();
