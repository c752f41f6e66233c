#include "lib/sinks/bigquery/command_output.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace landfall::internal {
namespace {

// How often a wait looks at `abort`.
constexpr absl::Duration kTick = absl::Milliseconds(100);

// Kills `pid`'s process group and reaps `pid`.
void KillGroup(pid_t pid) {
  kill(-pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

bool Aborted(const std::atomic<bool>* abort) {
  return abort != nullptr && abort->load();
}

}  // namespace

std::string CommandName(const std::string& command) {
  // Leading NAME=value words hand the command its environment, often a
  // secret: the name is the first word without an '='.
  for (absl::string_view word :
       absl::StrSplit(command, absl::ByAnyChar(" \t\n"), absl::SkipEmpty())) {
    if (!absl::StrContains(word, '=')) return std::string(word);
  }
  return "(command)";
}

absl::StatusOr<CommandOutput> RunForOutput(const std::string& command,
                                           const std::string& name,
                                           absl::Duration timeout,
                                           const std::atomic<bool>* abort,
                                           size_t max_output) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::UnavailableError(
        absl::StrCat(name, " could not start: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::string shell = "/bin/sh", dash_c = "-c", text = command;
  char* argv[] = {shell.data(), dash_c.data(), text.data(), nullptr};
  pid_t pid = -1;
  const int spawned =
      posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(pipe_fds[1]);
  if (spawned != 0) {
    close(pipe_fds[0]);
    return absl::UnavailableError(
        absl::StrCat(name, " could not start: ", std::strerror(spawned)));
  }
  const absl::Time deadline = absl::Now() + timeout;
  CommandOutput result;
  bool open = true;
  while (true) {
    if (Aborted(abort) || absl::Now() >= deadline) {
      if (open) close(pipe_fds[0]);
      KillGroup(pid);
      if (Aborted(abort)) {
        return absl::CancelledError(absl::StrCat(name, " stopped: cancelled"));
      }
      return absl::DeadlineExceededError(
          absl::StrCat(name, " did not finish within ",
                       absl::FormatDuration(timeout), "; stopped"));
    }
    const int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(std::max(
        absl::ZeroDuration(), std::min(kTick, deadline - absl::Now()))));
    if (!open) {
      // Output closed: wait for the exit itself.
      const pid_t done = waitpid(pid, &result.wait_status, WNOHANG);
      if (done == pid) return result;
      absl::SleepFor(absl::Milliseconds(std::min(wait_ms, 20)));
      continue;
    }
    pollfd p{pipe_fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, wait_ms);
    if (ready <= 0) continue;  // A tick, or EINTR.
    char buffer[4096];
    const ssize_t n = read(pipe_fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(pipe_fds[0]);
      open = false;
      continue;
    }
    if (result.out.size() < max_output) {
      result.out.append(buffer,
                        std::min<size_t>(n, max_output - result.out.size()));
    }
  }
}

}  // namespace landfall::internal
