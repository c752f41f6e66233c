// Fuzzes the JSON lines `landfall simulate` reads: arrivals (--events) and
// script lines (--script), checked against a fixed pipeline, then simulated
// when both are good. The input holds the events text, then optionally a
// NUL byte and the script text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "fuzz/fuzz_pipeline.h"
#include "landfall/simulator.h"
#include "lib/runtime/arrival_json.h"
#include "lib/runtime/json_lines.h"
#include "lib/runtime/simulation_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const absl::string_view events = input.substr(0, nul);
  const absl::string_view script = nul == absl::string_view::npos
                                       ? absl::string_view()
                                       : input.substr(nul + 1);

  const std::shared_ptr<const landfall::Pipeline> pipeline =
      landfall::fuzz::FuzzPipeline();
  auto arrivals = landfall::internal::ParseSimulatedArrivals(
      pipeline, "events.jsonl", landfall::internal::SplitLines(events));
  auto attempts = landfall::internal::ParseSimulatedScript(
      *pipeline, "script.jsonl", landfall::internal::SplitLines(script));
  for (const std::string& line : landfall::internal::SplitLines(input)) {
    (void)landfall::internal::JsonString(line);
    // The fast path of an events line takes only what protobuf parses the
    // same way.
    landfall::Arrival fast, slow;
    if (landfall::internal::ParsePlainArrival(line, &fast) &&
        (!landfall::internal::ParseJsonLine("events.jsonl", 1, line, &slow)
              .ok() ||
         fast.SerializeAsString() != slow.SerializeAsString())) {
      std::abort();
    }
  }
  if (!arrivals.ok() || !attempts.ok()) return 0;

  landfall::SimulationOptions options;
  options.workers = 2;
  std::ostringstream out;
  (void)landfall::Simulate(pipeline, *arrivals, *attempts, options, out);
  return 0;
}
