// EventsFile: an events file read twice rather than held. The first pass
// checks every line and keeps each arrival's time and place; a simulation
// reads the lines again in time order, through a window of the file that a
// file already in time order slides through once.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "landfall/simulator.h"
#include "lib/runtime/arrival_json.h"
#include "lib/runtime/arrival_order.h"
#include "lib/runtime/checked_arrivals.h"

namespace landfall {

struct EventsFile::Rep {
  // An arrival's time and where its line is.
  struct Line {
    int64_t seconds;
    int64_t offset;
    int32_t nanos;
    int32_t size;
  };
  std::string path;
  std::vector<Line> lines;  // In simulation order.
};

namespace {

absl::Time TimeOf(const EventsFile::Rep::Line& line) {
  return absl::FromUnixSeconds(line.seconds) + absl::Nanoseconds(line.nanos);
}

absl::Status Changed(const std::string& path) {
  return absl::DataLossError(absl::StrCat(
      "events file ", path, " changed while the simulation read it"));
}

// The lines of an EventsFile in simulation order, read through a window.
class FileArrivals : public internal::ArrivalOrder {
 public:
  explicit FileArrivals(const EventsFile::Rep& rep) : rep_(rep) {}
  ~FileArrivals() override {
    if (fd_ >= 0) ::close(fd_);
  }

  size_t size() const override { return rep_.lines.size(); }
  absl::Time TimeOf(size_t i) const override {
    return landfall::TimeOf(rep_.lines[i]);
  }
  absl::StatusOr<const Arrival*> Read(size_t i) override {
    const EventsFile::Rep::Line& line = rep_.lines[i];
    absl::StatusOr<absl::string_view> text = Text(line);
    if (!text.ok()) return text.status();
    // The first pass parsed it; failing now means the file changed.
    if (!internal::ParseArrivalLine(rep_.path, 0, *text, &arrival_).ok() ||
        arrival_.at().seconds() != line.seconds ||
        arrival_.at().nanos() != line.nanos) {
      return Changed(rep_.path);
    }
    return &arrival_;
  }

 private:
  static constexpr size_t kWindow = size_t{1} << 20;

  // A line in the window is read from it. A line that follows the line
  // read before it (within a window's length), as in a file in time order,
  // slides the window forward to it; any other (a jump back, or far ahead,
  // as in a file out of time order) is read alone at its offset, the window
  // left where it was. The window only moves forward, so the file is read
  // about once however its lines are ordered.
  absl::StatusOr<absl::string_view> Text(const EventsFile::Rep::Line& line) {
    const int64_t previous_end = previous_end_;
    previous_end_ = line.offset + line.size;
    const size_t size = static_cast<size_t>(line.size);
    if (line.offset >= window_start_ &&
        line.offset + line.size <= window_start_ + int64_t(window_.size())) {
      return absl::string_view(window_.data() + (line.offset - window_start_),
                               size);
    }
    const bool slide = line.offset >= window_start_ &&
                       line.offset >= previous_end &&
                       line.offset - previous_end < int64_t{kWindow};
    std::string& buffer = slide ? window_ : line_;
    buffer.resize(slide ? std::max(kWindow, size) : size);
    absl::StatusOr<size_t> filled = ReadAt(line.offset, &buffer);
    if (!filled.ok()) return filled.status();
    buffer.resize(*filled);
    if (slide) window_start_ = line.offset;
    if (*filled < size) return Changed(rep_.path);
    return absl::string_view(buffer.data(), size);
  }

  // Fills `buffer` from the file at `offset` as far as the file goes;
  // returns how much it read.
  absl::StatusOr<size_t> ReadAt(int64_t offset, std::string* buffer) {
    if (fd_ < 0) {
      fd_ = ::open(rep_.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) return Changed(rep_.path);
    }
    size_t filled = 0;
    while (filled < buffer->size()) {
      const ssize_t n = ::pread(fd_, buffer->data() + filled,
                                buffer->size() - filled, offset + filled);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Changed(rep_.path);
      if (n == 0) break;
      filled += static_cast<size_t>(n);
    }
    return filled;
  }

  const EventsFile::Rep& rep_;
  int fd_ = -1;
  std::string window_;
  int64_t window_start_ = 0;
  std::string line_;          // A line read alone.
  int64_t previous_end_ = 0;  // Where the line read last ends.
  Arrival arrival_;
};

}  // namespace

EventsFile::EventsFile(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
EventsFile::~EventsFile() = default;
const std::string& EventsFile::path() const { return rep_->path; }
size_t EventsFile::size() const { return rep_->lines.size(); }

absl::StatusOr<std::unique_ptr<EventsFile>> EventsFile::Read(
    std::shared_ptr<const Pipeline> pipeline, const std::string& path) {
  auto rep = std::make_unique<Rep>();
  rep->path = path;
  absl::Status status = internal::ForEachCheckedArrival(
      std::move(pipeline), path, internal::CheckSimulatedArrival,
      [&](int64_t offset, absl::string_view line, const Arrival& arrival) {
        rep->lines.push_back(Rep::Line{arrival.at().seconds(), offset,
                                       arrival.at().nanos(),
                                       static_cast<int32_t>(line.size())});
      });
  if (!status.ok()) return status;
  std::stable_sort(rep->lines.begin(), rep->lines.end(),
                   [](const Rep::Line& a, const Rep::Line& b) {
                     return a.seconds != b.seconds ? a.seconds < b.seconds
                                                   : a.nanos < b.nanos;
                   });
  rep->lines.shrink_to_fit();
  return std::unique_ptr<EventsFile>(new EventsFile(std::move(rep)));
}

absl::Status Simulate(std::shared_ptr<const Pipeline> pipeline,
                      const EventsFile& events,
                      const std::vector<SimulatedAttempt>& script,
                      const SimulationOptions& options, std::ostream& out) {
  FileArrivals arrivals(events.rep());
  return internal::SimulateInOrder(std::move(pipeline), arrivals, script,
                                   options, out);
}

}  // namespace landfall
