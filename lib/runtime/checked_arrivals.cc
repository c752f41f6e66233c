#include "lib/runtime/checked_arrivals.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "landfall/scheduler.h"
#include "lib/runtime/arrival_json.h"
#include "lib/runtime/arrival_order.h"
#include "lib/runtime/json_lines.h"

namespace landfall::internal {
namespace {

// The checks of an arrival are the core's, and they do not depend on what
// it ingested before: a fresh scratch scheduler every so many arrivals
// keeps the state it builds small.
constexpr int kArrivalsPerScratch = 4096;

}  // namespace

absl::Status ForEachCheckedArrival(
    std::shared_ptr<const Pipeline> pipeline, const std::string& path,
    const std::function<absl::Status(const Arrival&)>& extra_check,
    const std::function<void(int64_t offset, absl::string_view line,
                             const Arrival& arrival)>& f) {
  SchedulerOptions options;
  options.history_capacity = 1;
  std::unique_ptr<Scheduler> scratch;
  int scratch_arrivals = 0;
  absl::Status refused;
  Arrival arrival;
  absl::Status status = ForEachLine(
      path, [&](int number, int64_t offset, absl::string_view line) {
        if (absl::StripAsciiWhitespace(line).empty()) return absl::OkStatus();
        absl::Status status = ParseArrivalLine(path, number, line, &arrival);
        if (!status.ok()) return status;
        if (refused.ok()) {
          if (scratch == nullptr || scratch_arrivals == kArrivalsPerScratch) {
            absl::StatusOr<std::unique_ptr<Scheduler>> created =
                Scheduler::Create(pipeline, options);
            if (!created.ok()) return created.status();
            scratch = *std::move(created);
            scratch_arrivals = 0;
          }
          ++scratch_arrivals;
          if (extra_check) status = extra_check(arrival);
          if (status.ok()) status = scratch->Ingest(arrival).status();
          if (!status.ok()) refused = AtLine(path, number, status);
        }
        f(offset, line, arrival);
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return refused;
}

}  // namespace landfall::internal
