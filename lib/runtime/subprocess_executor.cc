#include "landfall/subprocess_executor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
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
#include "absl/strings/str_split.h"
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

// Where execvp would look for `file`: itself when it holds a slash, else
// each directory of `path` (an empty one is the current directory).
std::vector<std::string> ExecCandidates(const std::string& file,
                                        const char* path) {
  if (file.find('/') != std::string::npos) return {file};
  std::vector<std::string> out;
  for (absl::string_view dir :
       absl::StrSplit(path != nullptr ? path : "/bin:/usr/bin", ':')) {
    out.push_back(dir.empty() ? file : absl::StrCat(dir, "/", file));
  }
  return out;
}

// A child process in its own process group, waited for through a pidfd.
//
// The child dies with the runner: it asks the kernel for SIGKILL when its
// parent dies (PR_SET_PDEATHSIG). That signal comes when the *thread* that
// forked it ends, not the process; the thread that forks is the one that
// called Executor::Run, and Run returns only once this child has been
// reaped (it exited, or Stop killed it), so that thread outlives the child
// and the signal comes exactly when the runner's process dies (a SIGKILL,
// a crash). No thread of our own is needed for it. Processes the child
// starts in turn are not covered: they stay in its process group, which
// Stop signals, but a runner that dies leaves them to run out.
//
// vfork, as posix_spawn does inside (which cannot set PR_SET_PDEATHSIG):
// no copy of the host's page tables, which fork would make for each attempt
// (a host holding 1 GiB took 0.2 s an attempt that way). The child shares
// the host's memory until exec: it makes only async-signal-safe calls, on
// memory prepared before, and changes nothing the host reads after (errno
// aside).
class Child {
 public:
  ~Child() {
    if (pidfd_ >= 0) close(pidfd_);
  }

  // Starts argv with stdout and stderr to `log_fd`, looking argv[0] up in
  // PATH as execvp does. errno-style error.
  int Spawn(const std::vector<std::string>& argv,
            const std::vector<std::string>& env, int log_fd) {
    std::vector<char*> args, envp;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const std::string& e : env)
      envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::vector<std::string> candidates =
        ExecCandidates(argv.front(), getenv("PATH"));
    // The child tells why exec failed through this pipe; closed on exec.
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return errno;
    // All signals blocked across fork: a host's handler must not run in
    // the child before it has reset them.
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    const pid_t parent = getpid();
    // This thread waits until the child has run exec or exited.
    const pid_t pid = vfork();
    if (pid == 0) {
      ExecChild(parent, args.data(), envp.data(), candidates, log_fd,
                report[1]);
    }
    const int fork_error = pid < 0 ? errno : 0;
    pid_ = pid;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    close(report[1]);
    if (fork_error != 0) {
      close(report[0]);
      return fork_error;
    }
    int exec_error = 0;
    ssize_t n;
    do {
      n = read(report[0], &exec_error, sizeof(exec_error));
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == sizeof(exec_error)) {  // The child never ran the command.
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
      return exec_error;
    }
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
  // In the child after fork: async-signal-safe calls only. Never returns.
  [[noreturn]] static void ExecChild(pid_t parent, char* const* argv,
                                     char* const* envp,
                                     const std::vector<std::string>& candidates,
                                     int log_fd, int report) {
    // Its own group, so that Stop signals whatever it starts too.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // A parent that died before prctl sent no signal: the child has been
    // handed to another process by now.
    if (getppid() != parent) _exit(127);
    // A host may block or catch signals in its threads (landfall run
    // blocks SIGINT and SIGTERM): the command starts with none blocked and
    // default actions, so that it can be stopped. Other ignored signals
    // stay ignored; caught ones must not run the host's handlers here.
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
      struct sigaction now;
      if (sigaction(sig, nullptr, &now) != 0) continue;
      if (now.sa_handler != SIG_IGN || sig == SIGINT || sig == SIGTERM ||
          sig == SIGPIPE) {
        sigaction(sig, &dfl, nullptr);
      }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 ||
        dup2(log_fd, 2) < 0) {
      Fail(report, errno);
    }
    if (null_fd > 2) close(null_fd);
    // As execvp: on to the next directory while the file is not there; a
    // file found that cannot run is the error to tell.
    int error = ENOENT;
    bool denied = false;
    for (const std::string& path : candidates) {
      execve(path.c_str(), argv, envp);
      error = errno;
      if (error == EACCES) {
        denied = true;
      } else if (error != ENOENT && error != ENOTDIR && error != ESTALE &&
                 error != ENODEV && error != ETIMEDOUT) {
        Fail(report, error);
      }
    }
    Fail(report, denied ? EACCES : error);
  }

  // Tells the parent `error` and exits.
  [[noreturn]] static void Fail(int report, int error) {
    ssize_t ignored = write(report, &error, sizeof(error));
    (void)ignored;
    _exit(127);
  }

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
