// Fairness of the SQLite store's write lock: N processes ingest arrivals
// back to back on one state file (synchronous FULL) for a fixed time; per
// process, the operations done and the wait for the write lock.
//
//   build/release/bench/write_contention_bench [--processes=8] [--seconds=10]
//       [--synchronous=full|normal] [--path=FILE]
//
// The last line gives the fairness ratios: max/min operations, and the
// longest wait over the mean wait.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "bench/bench_pipelines.h"
#include "lib/testing/write_contention.h"

namespace landfall {
namespace {

bool ParseArgs(int argc, char** argv,
               testing::WriteContentionOptions* options) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    absl::string_view value = arg.substr(arg.find('=') + 1);
    double seconds;
    if (absl::StartsWith(arg, "--processes=")) {
      if (!absl::SimpleAtoi(value, &options->processes) ||
          options->processes < 1) {
        return false;
      }
    } else if (absl::StartsWith(arg, "--seconds=")) {
      if (!absl::SimpleAtod(value, &seconds) || seconds <= 0) return false;
      options->duration = absl::Seconds(seconds);
    } else if (absl::StartsWith(arg, "--synchronous=")) {
      if (value != "full" && value != "normal") return false;
      options->store.synchronous =
          value == "full" ? SqliteStoreOptions::Synchronous::kFull
                          : SqliteStoreOptions::Synchronous::kNormal;
    } else if (absl::StartsWith(arg, "--path=")) {
      options->path = std::string(value);
    } else {
      return false;
    }
  }
  return true;
}

int Main(int argc, char** argv) {
  testing::WriteContentionOptions options;
  if (!ParseArgs(argc, argv, &options)) {
    std::fprintf(stderr,
                 "usage: %s [--processes=N] [--seconds=S] "
                 "[--synchronous=full|normal] [--path=FILE]\n",
                 argv[0]);
    return 2;
  }
  const bool scratch = options.path.empty();
  if (scratch) options.path = bench::TempDatabasePath("contention");
  std::printf(
      "%d processes, %s, synchronous %s, %s\n", options.processes,
      absl::FormatDuration(options.duration).c_str(),
      options.store.synchronous == SqliteStoreOptions::Synchronous::kFull
          ? "full"
          : "normal",
      options.path.c_str());
  absl::StatusOr<testing::WriteContentionReport> report =
      testing::RunWriteContention(options);
  if (scratch) bench::RemoveDatabase(options.path);
  if (!report.ok()) {
    std::fprintf(stderr, "%s\n", report.status().ToString().c_str());
    return 1;
  }
  std::printf("%s", report->Describe().c_str());
  return 0;
}

}  // namespace
}  // namespace landfall

int main(int argc, char** argv) { return landfall::Main(argc, argv); }
