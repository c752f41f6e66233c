#include "tests/store/child_process.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace landfall::testing {
namespace {

// poll()'s timeout: whole milliseconds, rounded up so that a wait until a
// deadline does not spin just before it.
int PollMillis(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return 0;
  return static_cast<int>(
      absl::ToInt64Milliseconds(absl::Ceil(timeout, absl::Milliseconds(1))));
}

}  // namespace

ChildProcess::ChildProcess(ChildArgs args) : args_(std::move(args)) {
  int report[2];
  int go[2];
  // Close-on-exec, so that other children do not hold these pipes open.
  if (pipe2(report, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << errno;
    return;
  }
  const std::vector<std::string> argv_strings = {
      "/proc/self/exe",        kChildFlag,         args_.mode,
      args_.store_path,        args_.worker,       absl::StrCat(args_.seed),
      absl::StrCat(report[1]), absl::StrCat(go[0])};
  std::vector<char*> argv;
  for (const std::string& s : argv_strings) {
    argv.push_back(const_cast<char*>(s.c_str()));
  }
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    // Only async-signal-safe calls between fork and exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);  // The parent died already.
    fcntl(report[1], F_SETFD, 0);
    fcntl(go[0], F_SETFD, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(report[1]);
  close(go[0]);
  report_fd_ = report[0];
  go_fd_ = go[1];
  if (pid_ < 0) {
    ADD_FAILURE() << "fork: " << errno;
    close(report_fd_);
    report_fd_ = -1;
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  if (report_fd_ >= 0) close(report_fd_);
  if (go_fd_ >= 0) close(go_fd_);
}

void ChildProcess::Go() {
  // End of file on its end of the pipe is the signal.
  if (go_fd_ >= 0) close(go_fd_);
  go_fd_ = -1;
}

void ChildProcess::Kill() {
  if (pid_ > 0) kill(pid_, SIGKILL);
}

void ChildProcess::ReadAvailable(std::vector<std::string>* lines) {
  char buffer[1 << 16];
  const ssize_t n = read(report_fd_, buffer, sizeof(buffer));
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    ADD_FAILURE() << "read from " << args_.worker << ": " << errno;
  }
  if (n <= 0) {
    EXPECT_EQ(partial_, "") << args_.worker << " sent a torn line";
    close(report_fd_);
    report_fd_ = -1;
    return;
  }
  partial_.append(buffer, n);
  size_t start = 0;
  for (size_t end; (end = partial_.find('\n', start)) != std::string::npos;
       start = end + 1) {
    lines->push_back(partial_.substr(start, end - start));
  }
  partial_.erase(0, start);
}

int ChildProcess::Reap(absl::Duration timeout,
                       std::vector<std::string>* lines) {
  if (pid_ <= 0) return -1;  // Never started, or reaped already.
  absl::Time deadline = absl::Now() + timeout;
  bool killed = false;
  while (!gone()) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration() && !killed) {
      ADD_FAILURE() << args_.worker << " did not finish within " << timeout;
      Kill();
      killed = true;
      deadline = absl::Now() + absl::Seconds(30);  // Dying takes no longer.
    } else if (left <= absl::ZeroDuration()) {
      ADD_FAILURE() << args_.worker << " holds its pipe after SIGKILL";
      break;
    }
    ReadReports({this}, deadline - absl::Now(), lines);
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return status;
}

void ReadReports(absl::Span<ChildProcess* const> children,
                 absl::Duration timeout, std::vector<std::string>* lines) {
  std::vector<pollfd> fds;
  std::vector<ChildProcess*> polled;
  for (ChildProcess* child : children) {
    if (child->gone()) continue;
    fds.push_back(pollfd{child->report_fd_, POLLIN, 0});
    polled.push_back(child);
  }
  if (fds.empty()) return;
  if (poll(fds.data(), fds.size(), PollMillis(timeout)) <= 0) return;
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents != 0) polled[i]->ReadAvailable(lines);
  }
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status))
    return absl::StrCat("exited with ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status));
  }
  return absl::StrCat("wait status ", status);
}

std::optional<ChildEnd> ChildEnd::FromArgs(int argc, char** argv) {
  ChildArgs args;
  int report_fd = -1;
  int go_fd = -1;
  if (argc != 8 || absl::string_view(argv[1]) != kChildFlag ||
      !absl::SimpleAtoi(argv[5], &args.seed) ||
      !absl::SimpleAtoi(argv[6], &report_fd) ||
      !absl::SimpleAtoi(argv[7], &go_fd)) {
    return std::nullopt;
  }
  args.mode = argv[2];
  args.store_path = argv[3];
  args.worker = argv[4];
  return ChildEnd(std::move(args), report_fd, go_fd);
}

void ChildEnd::WaitForGo() {
  char byte;
  for (;;) {
    const ssize_t n = read(go_fd_, &byte, 1);
    if (n == 0 || (n < 0 && errno != EINTR)) break;
  }
  close(go_fd_);
}

void ChildEnd::Report(absl::string_view line) {
  std::string text = absl::StrCat(line, "\n");
  if (text.size() > PIPE_BUF) Fail("report", absl::InternalError("too long"));
  // A pipe write of at most PIPE_BUF bytes is whole or not at all; when the
  // parent is gone, SIGPIPE ends this process.
  while (write(report_fd_, text.data(), text.size()) < 0 && errno == EINTR) {
  }
}

void ChildEnd::Fail(absl::string_view what, const absl::Status& status) {
  std::string line = absl::StrCat(kErrorReport, args_.worker, ": ", what, ": ",
                                  status.ToString());
  line.resize(std::min<size_t>(line.size(), PIPE_BUF / 2));
  Report(line);
  _exit(1);  // Without cleanup: the state may be anything.
}

void ChildEnd::MustSucceed(absl::string_view what, const absl::Status& status) {
  if (!status.ok()) Fail(what, status);
}

bool ChildEnd::Succeeded(absl::string_view what, const absl::Status& status) {
  if (status.ok()) return true;
  if (!tolerate_unavailable_ || !absl::IsUnavailable(status)) {
    Fail(what, status);
  }
  Report(absl::StrCat(kUnavailableReport, what));
  // Not a tight loop against a server that is away.
  absl::SleepFor(absl::Milliseconds(5));
  return false;
}

bool ChildEnd::Acknowledged(absl::string_view what,
                            const absl::Status& status) {
  if (status.code() == absl::StatusCode::kFailedPrecondition) return false;
  return Succeeded(what, status);
}

}  // namespace landfall::testing
