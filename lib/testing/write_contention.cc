#include "lib/testing/write_contention.h"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <limits>
#include <memory>
#include <new>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "landfall/pipeline.h"
#include "landfall/scheduler.h"
#include "lib/testing/forwarding_store.h"

namespace landfall::testing {
namespace {

constexpr char kSpec[] = R"(
name: "contention"
table { name: "src" source: true }
)";

// How long the parent waits for a writer to open its scheduler, and for
// its figures beyond the busy phase and one lock timeout.
constexpr absl::Duration kGrace = absl::Seconds(60);

// Times each Begin(kWrite), and counts the write transactions other
// writers began while it waited: `acquired` counts every writer's, in memory
// the forked writers share.
class WaitTimingStore : public ForwardingStore {
 public:
  WaitTimingStore(std::shared_ptr<StateStore> store,
                  std::atomic<int64_t>* acquired)
      : ForwardingStore(std::move(store)), acquired_(acquired) {}
  absl::Status Begin(Access access) override {
    if (access != Access::kWrite) return ForwardingStore::Begin(access);
    const int64_t before = acquired_->load();
    const absl::Time start = absl::Now();
    absl::Status status = ForwardingStore::Begin(access);
    waits_.push_back(absl::Now() - start);
    if (status.ok()) {
      max_overtaken_ =
          std::max(max_overtaken_, acquired_->fetch_add(1) - before);
    }
    return status;
  }
  std::vector<absl::Duration>& waits() { return waits_; }
  int64_t max_overtaken() const { return max_overtaken_; }
  void Reset() {
    waits_.clear();
    max_overtaken_ = 0;
  }

 private:
  std::atomic<int64_t>* acquired_;
  std::vector<absl::Duration> waits_;
  int64_t max_overtaken_ = 0;
};

absl::StatusOr<std::shared_ptr<const Pipeline>> ContentionPipeline() {
  return Pipeline::FromText(kSpec, SpecFormat::kTextProto, "contention");
}

// "ok <operations> <gave_up> <total ns> <p99 ns> <max ns> <max overtaken>".
std::string FormatFigures(const WriterFigures& f) {
  return absl::StrCat("ok ", f.operations, " ", f.gave_up, " ",
                      absl::ToInt64Nanoseconds(f.total_wait), " ",
                      absl::ToInt64Nanoseconds(f.p99_wait), " ",
                      absl::ToInt64Nanoseconds(f.max_wait), " ",
                      f.max_overtaken);
}

bool ParseFigures(absl::string_view line, WriterFigures* f) {
  std::vector<absl::string_view> words = absl::StrSplit(line, ' ');
  int64_t total, p99, max;
  if (words.size() != 7 || words[0] != "ok" ||
      !absl::SimpleAtoi(words[1], &f->operations) ||
      !absl::SimpleAtoi(words[2], &f->gave_up) ||
      !absl::SimpleAtoi(words[3], &total) ||
      !absl::SimpleAtoi(words[4], &p99) || !absl::SimpleAtoi(words[5], &max) ||
      !absl::SimpleAtoi(words[6], &f->max_overtaken)) {
    return false;
  }
  f->total_wait = absl::Nanoseconds(total);
  f->p99_wait = absl::Nanoseconds(p99);
  f->max_wait = absl::Nanoseconds(max);
  return true;
}

WriterFigures Summarize(int64_t operations, int64_t gave_up,
                        int64_t max_overtaken,
                        std::vector<absl::Duration> waits) {
  WriterFigures f;
  f.operations = operations;
  f.gave_up = gave_up;
  f.max_overtaken = max_overtaken;
  if (waits.empty()) return f;
  std::sort(waits.begin(), waits.end());
  for (absl::Duration w : waits) f.total_wait += w;
  f.p99_wait = waits[(waits.size() * 99 + 99) / 100 - 1];
  f.max_wait = waits.back();
  return f;
}

std::string ErrorLine(const absl::Status& status) {
  return absl::StrCat("error ", status.ToString());
}

void WriteAll(int fd, absl::string_view text) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// A writer's life: open, say ready ("r"), wait for the go pipe to close,
// ingest until the time is up, then send one line: its figures or
// "error <why>".
std::string RunWriter(const WriteContentionOptions& options, int index,
                      std::atomic<int64_t>* acquired, int report_fd,
                      int go_fd) {
  auto pipeline = ContentionPipeline();
  if (!pipeline.ok()) return ErrorLine(pipeline.status());
  auto sqlite = OpenSqliteStore(options.path, options.store);
  if (!sqlite.ok()) return ErrorLine(sqlite.status());
  auto store = std::make_shared<WaitTimingStore>(*sqlite, acquired);
  auto scheduler = Scheduler::Open(*pipeline, store);
  if (!scheduler.ok()) return ErrorLine(scheduler.status());
  WriteAll(report_fd, "r");
  char byte;
  while (read(go_fd, &byte, 1) < 0 && errno == EINTR) {
  }
  store->Reset();  // The waits of opening.
  int64_t operations = 0, gave_up = 0;
  Arrival arrival;
  arrival.set_table("src");
  arrival.set_partition("2018-11-03");
  const absl::Time end = absl::Now() + options.duration;
  while (absl::Now() < end) {
    arrival.set_event_id(
        absl::StrCat("w", index, ".", operations, ".", gave_up));
    absl::Status status = (*scheduler)->Ingest(arrival).status();
    if (status.ok()) {
      ++operations;
    } else if (absl::IsUnavailable(status)) {
      ++gave_up;
    } else {
      return ErrorLine(status);
    }
  }
  return FormatFigures(Summarize(operations, gave_up, store->max_overtaken(),
                                 std::move(store->waits())));
}

// Reads from `fd` until end of file or `deadline`.
std::string ReadUntilEnd(int fd, absl::Time deadline, size_t max_bytes) {
  std::string text;
  char buffer[512];
  while (text.size() < max_bytes) {
    pollfd p{fd, POLLIN, 0};
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) == 0) break;
    const ssize_t n =
        read(fd, buffer, std::min(sizeof buffer, max_bytes - text.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

struct Writer {
  pid_t pid = -1;
  int report_fd = -1;
};

}  // namespace

int64_t WriteContentionReport::MinOperations() const {
  int64_t min = std::numeric_limits<int64_t>::max();
  for (const WriterFigures& w : writers) min = std::min(min, w.operations);
  return writers.empty() ? 0 : min;
}

int64_t WriteContentionReport::MaxOperations() const {
  int64_t max = 0;
  for (const WriterFigures& w : writers) max = std::max(max, w.operations);
  return max;
}

absl::Duration WriteContentionReport::MeanWait() const {
  absl::Duration total;
  int64_t waits = 0;
  for (const WriterFigures& w : writers) {
    total += w.total_wait;
    waits += w.operations + w.gave_up;
  }
  return waits == 0 ? absl::ZeroDuration() : total / waits;
}

absl::Duration WriteContentionReport::MaxWait() const {
  absl::Duration max;
  for (const WriterFigures& w : writers) max = std::max(max, w.max_wait);
  return max;
}

int64_t WriteContentionReport::MaxOvertaken() const {
  int64_t max = 0;
  for (const WriterFigures& w : writers) max = std::max(max, w.max_overtaken);
  return max;
}

double WriteContentionReport::OperationsRatio() const {
  const int64_t min = MinOperations();
  return min == 0 ? std::numeric_limits<double>::infinity()
                  : static_cast<double>(MaxOperations()) / min;
}

double WriteContentionReport::WaitRatio() const {
  const absl::Duration mean = MeanWait();
  return mean == absl::ZeroDuration() ? 0 : absl::FDivDuration(MaxWait(), mean);
}

std::string WriteContentionReport::Describe() const {
  std::string text =
      absl::StrFormat("%-8s %10s %8s %12s %12s %12s\n", "process", "operations",
                      "gave_up", "mean_wait", "p99_wait", "max_wait");
  for (size_t i = 0; i < writers.size(); ++i) {
    const WriterFigures& w = writers[i];
    const int64_t waits = std::max<int64_t>(1, w.operations + w.gave_up);
    absl::StrAppendFormat(
        &text, "%-8d %10d %8d %12s %12s %12s\n", i, w.operations, w.gave_up,
        absl::FormatDuration(
            absl::Trunc(w.total_wait / waits, absl::Microseconds(1))),
        absl::FormatDuration(absl::Trunc(w.p99_wait, absl::Microseconds(1))),
        absl::FormatDuration(absl::Trunc(w.max_wait, absl::Microseconds(1))));
  }
  absl::StrAppendFormat(
      &text,
      "operations: min %d max %d (max/min %.2f); wait: mean %s max %s "
      "(max/mean %.1f); overtaken at most %d times in a wait\n",
      MinOperations(), MaxOperations(), OperationsRatio(),
      absl::FormatDuration(absl::Trunc(MeanWait(), absl::Microseconds(1))),
      absl::FormatDuration(absl::Trunc(MaxWait(), absl::Microseconds(1))),
      WaitRatio(), MaxOvertaken());
  return text;
}

absl::StatusOr<WriteContentionReport> RunWriteContention(
    const WriteContentionOptions& options) {
  if (options.processes < 1) {
    return absl::InvalidArgumentError("write contention: processes < 1");
  }
  {
    // The file and its spec exist before the writers race to open it.
    auto pipeline = ContentionPipeline();
    if (!pipeline.ok()) return pipeline.status();
    auto store = OpenSqliteStore(options.path, options.store);
    if (!store.ok()) return store.status();
    auto scheduler = Scheduler::Open(*pipeline, *store);
    if (!scheduler.ok()) return scheduler.status();
  }
  // Shared by the forked writers (an atomic of lock-free width works across
  // processes).
  void* shared =
      mmap(nullptr, sizeof(std::atomic<int64_t>), PROT_READ | PROT_WRITE,
           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) {
    return absl::InternalError("write contention: mmap");
  }
  auto* acquired = new (shared) std::atomic<int64_t>(0);
  absl::Cleanup unmap = [shared] {
    munmap(shared, sizeof(std::atomic<int64_t>));
  };
  int go[2];
  if (pipe(go) != 0) return absl::InternalError("write contention: pipe");
  std::vector<Writer> writers;
  absl::Status status;
  for (int i = 0; i < options.processes && status.ok(); ++i) {
    int report[2];
    if (pipe(report) != 0) {
      status = absl::InternalError("write contention: pipe");
      break;
    }
    const pid_t pid = fork();
    if (pid == 0) {
      close(go[1]);
      close(report[0]);
      WriteAll(report[1], RunWriter(options, i, acquired, report[1], go[0]));
      _exit(0);
    }
    close(report[1]);
    if (pid < 0) {
      close(report[0]);
      status = absl::InternalError("write contention: fork");
      break;
    }
    writers.push_back(Writer{pid, report[0]});
  }
  // Every writer open and ready, then all go at once.
  const absl::Time ready_by = absl::Now() + kGrace;
  for (size_t i = 0; i < writers.size() && status.ok(); ++i) {
    const std::string ready = ReadUntilEnd(writers[i].report_fd, ready_by, 1);
    if (ready != "r") {
      status = absl::InternalError(absl::StrCat(
          "write contention: writer ", i, " did not open: ",
          ready + ReadUntilEnd(writers[i].report_fd, ready_by, 4096)));
    }
  }
  close(go[0]);
  close(go[1]);
  WriteContentionReport report;
  const absl::Time done_by =
      absl::Now() + options.duration + options.store.lock_timeout + kGrace;
  for (size_t i = 0; i < writers.size(); ++i) {
    if (!status.ok()) kill(writers[i].pid, SIGKILL);
    const std::string line = ReadUntilEnd(writers[i].report_fd, done_by, 4096);
    close(writers[i].report_fd);
    WriterFigures figures;
    if (status.ok() && !ParseFigures(line, &figures)) {
      status = absl::InternalError(
          absl::StrCat("write contention: writer ", i, ": ", line));
      kill(writers[i].pid, SIGKILL);
    }
    report.writers.push_back(figures);
  }
  for (const Writer& w : writers) {
    int wait_status;
    while (waitpid(w.pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
  }
  if (!status.ok()) return status;
  return report;
}

}  // namespace landfall::testing
