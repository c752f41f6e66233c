// Runs a shell command for what it prints, within a time limit: a command
// that hangs (a credential helper waiting on a prompt, a network) must not
// hold an attempt, nor Runner::Stop, for ever.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace landfall::internal {

struct CommandOutput {
  int wait_status = 0;  // As waitpid gives it.
  std::string out;      // Standard output, its first `max_output` bytes.
};

// Runs `command` with /bin/sh -c in a process group of its own (standard
// input and error inherited) and collects its standard output until it
// exits. Past `timeout`, or once `abort` (may be null) turns true, the
// whole group is killed (SIGKILL) and reaped: DeadlineExceeded or
// Cancelled, with a message naming only `name`. Unavailable when it cannot
// be started.
absl::StatusOr<CommandOutput> RunForOutput(const std::string& command,
                                           const std::string& name,
                                           absl::Duration timeout,
                                           const std::atomic<bool>* abort,
                                           size_t max_output = size_t{1} << 20);

// The first word of `command` that holds no '=' (leading NAME=value words
// set its environment), or "(command)": what messages may show of it, as
// its arguments and environment may carry secrets.
std::string CommandName(const std::string& command);

}  // namespace landfall::internal
