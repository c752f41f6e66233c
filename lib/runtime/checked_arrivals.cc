#include "lib/runtime/checked_arrivals.h"

#include "absl/strings/ascii.h"
#include "lib/core/arrival_check.h"
#include "lib/runtime/arrival_json.h"
#include "lib/runtime/arrival_order.h"
#include "lib/runtime/json_lines.h"

namespace landfall::internal {

absl::Status ForEachCheckedArrival(
    std::shared_ptr<const Pipeline> pipeline, const std::string& path,
    const std::function<absl::Status(const Arrival&)>& extra_check,
    const std::function<void(int64_t offset, absl::string_view line,
                             const Arrival& arrival)>& f) {
  absl::Status refused;
  Arrival arrival;
  absl::Status status = ForEachLine(
      path, [&](int number, int64_t offset, absl::string_view line) {
        if (absl::StripAsciiWhitespace(line).empty()) return absl::OkStatus();
        absl::Status status = ParseArrivalLine(path, number, line, &arrival);
        if (!status.ok()) return status;
        if (refused.ok()) {
          if (extra_check) status = extra_check(arrival);
          // The checks Scheduler::Ingest makes, with no scheduler state.
          if (status.ok()) status = CheckArrival(*pipeline, arrival).status();
          if (!status.ok()) refused = AtLine(path, number, status);
        }
        f(offset, line, arrival);
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return refused;
}

}  // namespace landfall::internal
