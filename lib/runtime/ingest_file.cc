#include "landfall/ingest_file.h"

#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "lib/core/plural.h"
#include "lib/runtime/arrival_json.h"
#include "lib/runtime/checked_arrivals.h"
#include "lib/runtime/json_lines.h"

namespace landfall {
namespace {

// The second pass: the file's arrivals recorded a batch at a time.
class BatchedIngest {
 public:
  BatchedIngest(
      Scheduler& scheduler, const std::string& path, int batch_size,
      absl::FunctionRef<void(const Arrival&, const IngestResult&)> recorded)
      : scheduler_(scheduler),
        path_(path),
        batch_(static_cast<size_t>(batch_size)),
        recorded_(recorded) {}

  // Records the arrivals of the file, which the first pass found to hold
  // `expected` of them.
  absl::Status Run(int64_t expected) {
    absl::Status status = internal::ForEachLine(
        path_, [&](int number, int64_t, absl::string_view line) {
          line_ = number;
          if (absl::StripAsciiWhitespace(line).empty()) {
            return absl::OkStatus();
          }
          // A line past those the first pass checked was appended since.
          if (recorded_count_ + static_cast<int64_t>(size_) == expected) {
            return Changed();
          }
          if (size_ == 0) first_line_ = number;
          if (!internal::ParseArrivalLine(path_, number, line, &batch_[size_])
                   .ok()) {
            return Changed();
          }
          if (++size_ < batch_.size()) return absl::OkStatus();
          return Flush();
        });
    if (status.ok()) status = Flush();
    if (status.ok() && recorded_count_ != expected) status = Changed();
    if (status.ok()) return status;
    return absl::Status(
        status.code(),
        absl::StrCat(path_, ": stopped at line ", first_line_, ": ",
                     status.message(), "; the ",
                     internal::Counted(recorded_count_, "arrival"),
                     " before it are recorded, and ingesting the file again "
                     "records them as duplicates"));
  }

 private:
  absl::Status Changed() const {
    return absl::DataLossError(
        absl::StrCat("events file ", path_, " changed while it was ingested"));
  }

  // Records the arrivals gathered since the last batch, in one transaction.
  absl::Status Flush() {
    if (size_ == 0) return absl::OkStatus();
    const absl::Span<const Arrival> arrivals(batch_.data(), size_);
    absl::StatusOr<std::vector<IngestResult>> results =
        scheduler_.IngestBatch(arrivals);
    if (!results.ok()) return results.status();
    for (size_t i = 0; i < size_; ++i) recorded_(arrivals[i], (*results)[i]);
    recorded_count_ += static_cast<int64_t>(size_);
    size_ = 0;
    first_line_ = line_ + 1;
    return absl::OkStatus();
  }

  Scheduler& scheduler_;
  const std::string& path_;
  std::vector<Arrival> batch_;  // Reused: its first size_ are gathered.
  size_t size_ = 0;
  int line_ = 0;        // The line read last.
  int first_line_ = 1;  // The line of batch_[0], or after the last recorded.
  int64_t recorded_count_ = 0;
  absl::FunctionRef<void(const Arrival&, const IngestResult&)> recorded_;
};

}  // namespace

absl::Status IngestEventsFile(
    Scheduler& scheduler, const std::string& path,
    const IngestFileOptions& options,
    absl::FunctionRef<void(const Arrival&, const IngestResult&)> recorded) {
  if (options.batch_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("IngestFileOptions::batch_size is ", options.batch_size,
                     "; it must be at least 1"));
  }
  // The scheduler's pipeline, not owned: it stays while nothing is
  // recorded, which is all of the first pass.
  const std::shared_ptr<const Pipeline> pipeline(std::shared_ptr<void>(),
                                                 &scheduler.pipeline());
  int64_t arrivals = 0;
  absl::Status checked = internal::ForEachCheckedArrival(
      pipeline, path, nullptr,
      [&](int64_t, absl::string_view, const Arrival&) { ++arrivals; });
  if (!checked.ok()) return checked;
  return BatchedIngest(scheduler, path, options.batch_size, recorded)
      .Run(arrivals);
}

}  // namespace landfall
