// An Executor that runs each attempt as a child process (a loader script, a
// warehouse client), with a timeout and a log file per attempt.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "landfall/export.h"
#include "landfall/runner.h"

namespace landfall {

struct SubprocessOptions {
  // The command, one element per argument, run without a shell. Each of
  // {table}, {partition}, {attempt}, {pool}, {sink} and {inputs} (the
  // upstream versions as "table/partition@version,...") is replaced inside
  // each argument. {origins} stands for the origins of every input
  // (InputVersion::origins, input by input): an argument that is exactly
  // {origins} becomes one argument per origin (none when there are none),
  // and inside a longer argument it is replaced by them separated by
  // spaces. The child also finds them in LANDFALL_TABLE,
  // LANDFALL_PARTITION, LANDFALL_ATTEMPT and LANDFALL_INPUTS, the origins
  // one per line in the file named by LANDFALL_ORIGINS_FILE (for lists too
  // long for a command line; removed when the attempt ends), and in
  // LANDFALL_ORIGINS_COMPLETE "1" when every input's origins_complete is
  // true, else "0" (load those inputs whole). Required.
  std::vector<std::string> command;
  // Run the command's one element with /bin/sh -c instead (placeholders are
  // then single-quoted, and {origins} is each origin single-quoted,
  // separated by spaces). Default false.
  bool shell = false;
  // Longer than this and the attempt is stopped (SIGTERM to its process
  // group, SIGKILL 5 seconds later) and fails RETRYABLE. Default 1 hour.
  absl::Duration timeout = absl::Hours(1);
  // Each attempt's stdout and stderr go to
  // LOG_DIR/<table>/<partition>/attempt-<N>.log, and its origins file is
  // attempt-<N>.origins beside it. Required.
  std::string log_dir;
};

// Exit 0 is SUCCEEDED, 75 (EX_TEMPFAIL) RETRYABLE, a timeout RETRYABLE,
// anything else (a signal, a command that cannot start) FATAL. The result's
// message names the exit and the log file. A cancelled attempt's process
// group is stopped as on a timeout. InvalidArgument for no command, a shell
// command of more than one element, or no log directory.
//
// Each attempt's command runs as a child process of the thread that called
// Run, in a process group of its own, and Run returns only once that child
// has ended and been reaped. What is stopped, and when (Linux):
//   - Timeout, cancel (a runner stopped past its grace, or that lost the
//     attempt's lease): SIGTERM to the process group, SIGKILL 5 seconds
//     later. This reaches what the command started too, unless it moved to
//     another group or session.
//   - The host process dies, even by SIGKILL: the kernel sends SIGKILL to
//     the child (PR_SET_PDEATHSIG, which fires when the thread that started
//     it ends: that thread is in Run until the child is reaped). A child
//     whose parent died before that was set exits without running the
//     command. Only the child itself is covered: processes it started (the
//     commands of a `sh -c 'a; b'`) live on until they exit, so that a
//     loader that starts a long-running process should `exec` it, or make
//     it end with its parent. The kernel clears the setting when the
//     command is set-user-ID, set-group-ID or has file capabilities.
LANDFALL_EXPORT absl::StatusOr<std::unique_ptr<Executor>> NewSubprocessExecutor(
    SubprocessOptions options);

}  // namespace landfall
