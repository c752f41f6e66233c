#include "examples/cli/serve/svg_render.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace landfall::cli {
namespace {

// Closes a file descriptor once, when it goes out of scope or on demand.
class Fd {
 public:
  Fd() = default;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int* ptr() { return &fd_; }
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

}  // namespace

absl::StatusOr<std::string> DotToSvg(const std::string& dot_command,
                                     const std::string& dot,
                                     absl::Duration timeout) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  Fd in_read, in_write, out_read, out_write, err_read, err_write;
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot make pipes for dot: ", strerror(errno)));
  }
  *in_read.ptr() = in_pipe[0];
  *in_write.ptr() = in_pipe[1];
  *out_read.ptr() = out_pipe[0];
  *out_write.ptr() = out_pipe[1];
  *err_read.ptr() = err_pipe[0];
  *err_write.ptr() = err_pipe[1];
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_read.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
  std::string arg0 = dot_command, arg1 = "-Tsvg";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  const int spawned =
      posix_spawnp(&pid, dot_command.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot run ", dot_command, " (Graphviz): ", strerror(spawned)));
  }
  in_read.Close();
  out_write.Close();
  err_write.Close();
  fcntl(in_write.get(), F_SETFL, O_NONBLOCK);
  // A dot that exits early makes the write fail with EPIPE: its SIGPIPE is
  // held back in this thread, and taken below, instead of ending the process.
  sigset_t pipe_signal, old_mask;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &old_mask);
  // Writes the input while reading the output, so neither pipe fills up.
  std::string svg, errors;
  size_t written = 0;
  if (dot.empty()) in_write.Close();
  const absl::Time deadline = absl::Now() + timeout;
  bool timed_out = false;
  while (out_read.get() >= 0 || err_read.get() >= 0) {
    pollfd fds[3] = {{out_read.get(), POLLIN, 0},
                     {err_read.get(), POLLIN, 0},
                     {in_write.get(), POLLOUT, 0}};
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) {
      timed_out = true;
      break;
    }
    if (poll(fds, 3, static_cast<int>(left)) < 0 && errno != EINTR) break;
    if (fds[2].revents != 0) {
      const ssize_t n =
          write(in_write.get(), dot.data() + written, dot.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN) written = dot.size();  // dot gave up.
      if (written == dot.size()) in_write.Close();
    }
    for (auto [fd, text] : {std::pair{&out_read, &svg}, {&err_read, &errors}}) {
      const pollfd& p = fd == &out_read ? fds[0] : fds[1];
      if (p.revents == 0) continue;
      char buffer[16384];
      const ssize_t n = read(fd->get(), buffer, sizeof(buffer));
      if (n > 0) {
        text->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fd->Close();
      }
    }
  }
  in_write.Close();
  if (timed_out) kill(pid, SIGKILL);
  const timespec no_wait{0, 0};
  while (sigtimedwait(&pipe_signal, nullptr, &no_wait) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return absl::UnavailableError(absl::StrCat(
        dot_command, " ran past ", absl::FormatDuration(timeout), "; killed"));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::UnavailableError(
        absl::StrCat(dot_command, " failed: ", errors));
  }
  return svg;
}

}  // namespace landfall::cli
