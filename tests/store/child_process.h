// Real child processes for tests. The test binary runs itself again
// (/proc/self/exe) with kChildFlag first, which its main checks before
// anything else, so each child is a fresh process with its own connections.
// A child reports one line per acknowledged operation on a pipe; the parent
// reads the lines, kills the child when it likes and reaps it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace landfall::testing {

// argv[1] of a child.
inline constexpr char kChildFlag[] = "--landfall-process-child";
// A report line a child sends when it cannot go on; the rest says why.
inline constexpr char kErrorReport[] = "error ";
// A report line of a child that tolerates faults when a call was
// Unavailable; the rest names the call.
inline constexpr char kUnavailableReport[] = "unavailable ";

// What a child is told on its command line.
struct ChildArgs {
  std::string mode;  // Which workload to run.
  std::string store_path;
  std::string worker;  // Unique per process.
  uint64_t seed = 0;
};

// The parent's handle on one child.
class ChildProcess {
 public:
  // Starts this binary in child mode. The child dies with the parent.
  explicit ChildProcess(ChildArgs args);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Kills and reaps the child unless Reap did.
  ~ChildProcess();

  const ChildArgs& args() const { return args_; }
  // Lets the child start its workload: it waits for this after opening.
  void Go();
  // Whether its report pipe reached end of file: the child is gone.
  bool gone() const { return report_fd_ < 0; }
  void Kill();
  // Reads the child's reports until it is gone, waiting at most `timeout`
  // (then kills it and fails the test), reaps it and returns the wait
  // status.
  int Reap(absl::Duration timeout, std::vector<std::string>* lines);

 private:
  friend void ReadReports(absl::Span<ChildProcess* const> children,
                          absl::Duration timeout,
                          std::vector<std::string>* lines);
  // Reads what the pipe holds (one read); closes it at end of file.
  void ReadAvailable(std::vector<std::string>* lines);

  ChildArgs args_;
  pid_t pid_ = -1;  // -1 once reaped.
  int report_fd_ = -1;
  int go_fd_ = -1;
  std::string partial_;  // A line not yet ended.
};

// Waits up to `timeout` until some child reports or goes, then reads what
// each has sent, appending its complete lines to `lines`.
void ReadReports(absl::Span<ChildProcess* const> children,
                 absl::Duration timeout, std::vector<std::string>* lines);

// "exited with 1", "killed by signal 9".
std::string DescribeWaitStatus(int status);

// The child's end: its arguments and the pipes to its parent.
class ChildEnd {
 public:
  // From main's arguments when argv[1] is kChildFlag.
  static std::optional<ChildEnd> FromArgs(int argc, char** argv);

  const ChildArgs& args() const { return args_; }
  // Blocks until the parent says go (or is gone).
  void WaitForGo();
  // Sends one line. Lines are shorter than PIPE_BUF, so a kill never tears
  // one: the parent gets all of it or nothing.
  void Report(absl::string_view line);
  // Reports `status` as an error and exits; the parent fails the test.
  [[noreturn]] void Fail(absl::string_view what, const absl::Status& status);
  // Fails unless `status` is OK.
  void MustSucceed(absl::string_view what, const absl::Status& status);
  // From now on Succeeded and Acknowledged take Unavailable (the server
  // away, a connection lost) as a call that was not acknowledged: they
  // report it as kUnavailableReport and `what`, pause a moment, and return
  // false.
  void TolerateUnavailable() { tolerate_unavailable_ = true; }
  // True when the call succeeded; false when it was Unavailable and that is
  // tolerated; fails on any other error.
  bool Succeeded(absl::string_view what, const absl::Status& status);
  // As Succeeded, also returning false when the call was refused because
  // the attempt is stale or its lease ended (FailedPrecondition).
  bool Acknowledged(absl::string_view what, const absl::Status& status);

 private:
  ChildEnd(ChildArgs args, int report_fd, int go_fd)
      : args_(std::move(args)), report_fd_(report_fd), go_fd_(go_fd) {}

  ChildArgs args_;
  int report_fd_;
  int go_fd_;
  bool tolerate_unavailable_ = false;
};

}  // namespace landfall::testing
