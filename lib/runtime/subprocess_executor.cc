#include "landfall/subprocess_executor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"

extern char** environ;

namespace landfall {
namespace {

constexpr int kExitTempFail = 75;  // EX_TEMPFAIL: worth another attempt.
constexpr absl::Duration kKillAfter = absl::Seconds(5);

std::string ShellQuote(const std::string& text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

std::string InputsText(const ClaimedTask& task) {
  std::vector<std::string> inputs;
  for (const InputVersion& in : task.inputs) {
    inputs.push_back(absl::StrCat(
        absl::string_view(in.table.data(), in.table.size()),
        in.partition.empty() ? "" : "/",
        absl::string_view(in.partition.data(), in.partition.size()), "@",
        in.version));
  }
  return absl::StrJoin(inputs, ",");
}

// Every input's origins, input by input.
std::vector<std::string> Origins(const ClaimedTask& task) {
  std::vector<std::string> origins;
  for (const InputVersion& in : task.inputs) {
    origins.insert(origins.end(), in.origins.begin(), in.origins.end());
  }
  return origins;
}

bool OriginsComplete(const ClaimedTask& task) {
  return std::all_of(
      task.inputs.begin(), task.inputs.end(),
      [](const InputVersion& in) { return in.origins_complete; });
}

// A file that is removed when this goes out of scope.
class TemporaryFile {
 public:
  explicit TemporaryFile(std::string path) : path_(std::move(path)) {}
  ~TemporaryFile() { unlink(path_.c_str()); }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A child process in its own process group, waited for through a pidfd.
class Child {
 public:
  ~Child() {
    if (pidfd_ >= 0) close(pidfd_);
  }

  // Starts argv with stdout and stderr to `log_fd`. errno-style error.
  int Spawn(const std::vector<std::string>& argv,
            const std::vector<std::string>& env, int log_fd) {
    std::vector<char*> args, envp;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const std::string& e : env)
      envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // A host may block or catch signals in its threads (landfall run blocks
    // SIGINT and SIGTERM): the child starts with none blocked and default
    // actions, so that it can be stopped.
    sigset_t none, stops;
    sigemptyset(&none);
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &stops);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                        POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    const int rc =
        posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return rc;
    pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    return 0;
  }

  // Waits up to `timeout` for the child to exit; true with its wait status.
  bool Wait(absl::Duration timeout, int* status) {
    if (pidfd_ < 0) {  // A kernel without pidfds: look now and then.
      absl::SleepFor(std::min(timeout, absl::Milliseconds(10)));
      return waitpid(pid_, status, WNOHANG) == pid_;
    }
    pollfd p{pidfd_, POLLIN, 0};
    const int ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
    if (poll(&p, 1, std::max(ms, 0)) == 0) return false;
    return waitpid(pid_, status, 0) == pid_;
  }

  // SIGTERM to the group, then SIGKILL if it lingers; reaps the child.
  int Stop() {
    kill(-pid_, SIGTERM);
    int status = 0;
    if (!Wait(kKillAfter, &status)) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    return status;
  }

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
};

class SubprocessExecutor : public Executor {
 public:
  explicit SubprocessExecutor(SubprocessOptions options)
      : options_(std::move(options)) {}

  AttemptResult Run(const ClaimedTask& task,
                    const std::atomic<bool>& cancelled) override {
    namespace fs = std::filesystem;
    const fs::path dir =
        fs::path(options_.log_dir) / task.task.table /
        (task.task.partition.empty() ? "_" : task.task.partition);
    std::error_code ec;
    fs::create_directories(dir, ec);
    const std::string log =
        (dir / absl::StrCat("attempt-", task.attempt, ".log")).string();
    // One origin a line: for lists too long for a command line.
    const TemporaryFile origins(
        (dir / absl::StrCat("attempt-", task.attempt, ".origins")).string());
    {
      std::ofstream out(origins.path(), std::ios::trunc);
      for (const std::string& origin : Origins(task)) out << origin << "\n";
      if (!out.flush()) {
        return {Outcome::RETRYABLE,
                absl::StrCat("cannot write ", origins.path(), ": ",
                             std::strerror(errno))};
      }
    }
    const std::vector<std::string> argv = Argv(task);
    if (argv.empty()) {
      return {Outcome::FATAL,
              "the command is empty once {origins} is replaced"};
    }
    const int log_fd =
        open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      return {Outcome::RETRYABLE, absl::StrCat("cannot write the log ", log,
                                               ": ", std::strerror(errno))};
    }
    Child child;
    const int rc = child.Spawn(argv, Env(task, origins.path()), log_fd);
    close(log_fd);
    if (rc != 0) {
      return {Outcome::FATAL,
              absl::StrCat("cannot run ", options_.command.front(), ": ",
                           std::strerror(rc), "; log: ", log)};
    }
    const absl::Time deadline = absl::Now() + options_.timeout;
    int status = 0;
    // Wakes now and then to see whether the runner gave up on the attempt.
    while (!child.Wait(
        std::min(absl::Milliseconds(100), deadline - absl::Now()), &status)) {
      if (cancelled.load()) {
        child.Stop();
        return {Outcome::RETRYABLE, absl::StrCat("cancelled; log: ", log)};
      }
      if (absl::Now() >= deadline) {
        child.Stop();
        return {Outcome::RETRYABLE,
                absl::StrCat("timed out after ",
                             absl::FormatDuration(options_.timeout),
                             "; log: ", log)};
      }
    }
    if (WIFEXITED(status)) {
      const int code = WEXITSTATUS(status);
      const Outcome outcome = code == 0               ? Outcome::SUCCEEDED
                              : code == kExitTempFail ? Outcome::RETRYABLE
                                                      : Outcome::FATAL;
      return {outcome, absl::StrCat("exit ", code, "; log: ", log)};
    }
    return {Outcome::FATAL, absl::StrCat("killed by signal ", WTERMSIG(status),
                                         "; log: ", log)};
  }

 private:
  std::vector<std::pair<std::string, std::string>> Values(
      const ClaimedTask& task) const {
    return {{"{table}", task.task.table},
            {"{partition}", task.task.partition},
            {"{attempt}", absl::StrCat(task.attempt)},
            {"{pool}", std::string(task.pool)},
            {"{sink}", std::string(task.sink)},
            {"{inputs}", InputsText(task)}};
  }

  std::vector<std::string> Argv(const ClaimedTask& task) const {
    auto values = Values(task);
    std::vector<std::string> origins = Origins(task);
    if (options_.shell) {
      for (auto& [key, value] : values) value = ShellQuote(value);
      for (std::string& origin : origins) origin = ShellQuote(origin);
      values.emplace_back("{origins}", absl::StrJoin(origins, " "));
      return {"/bin/sh", "-c",
              absl::StrReplaceAll(options_.command.front(), values)};
    }
    values.emplace_back("{origins}", absl::StrJoin(origins, " "));
    std::vector<std::string> argv;
    for (const std::string& arg : options_.command) {
      if (arg == "{origins}") {  // One argument each.
        argv.insert(argv.end(), origins.begin(), origins.end());
      } else {
        argv.push_back(absl::StrReplaceAll(arg, values));
      }
    }
    return argv;
  }

  std::vector<std::string> Env(const ClaimedTask& task,
                               const std::string& origins_file) const {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    env.push_back(absl::StrCat("LANDFALL_TABLE=", task.task.table));
    env.push_back(absl::StrCat("LANDFALL_PARTITION=", task.task.partition));
    env.push_back(absl::StrCat("LANDFALL_ATTEMPT=", task.attempt));
    env.push_back(absl::StrCat("LANDFALL_INPUTS=", InputsText(task)));
    env.push_back(absl::StrCat("LANDFALL_ORIGINS_FILE=", origins_file));
    env.push_back(absl::StrCat("LANDFALL_ORIGINS_COMPLETE=",
                               OriginsComplete(task) ? "1" : "0"));
    return env;
  }

  SubprocessOptions options_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Executor>> NewSubprocessExecutor(
    SubprocessOptions options) {
  if (options.command.empty() || options.command.front().empty()) {
    return absl::InvalidArgumentError("subprocess executor: no command");
  }
  if (options.shell && options.command.size() != 1) {
    return absl::InvalidArgumentError(
        "subprocess executor: a shell command is one string");
  }
  if (options.log_dir.empty()) {
    return absl::InvalidArgumentError("subprocess executor: no log directory");
  }
  return std::unique_ptr<Executor>(
      std::make_unique<SubprocessExecutor>(std::move(options)));
}

}  // namespace landfall
