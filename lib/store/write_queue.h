// Writers of one SQLite state file, in any processes, take the write lock
// in the order they asked for it.
//
// SQLite's own lock has no queue: a waiting writer polls, and one that just
// committed and begins again at once takes the lock before the pollers see
// it free, so under load some writers starve. The queue orders them:
//
//   - A side file (the state file's path + "-queue") holds a ticket counter.
//     A writer draws the next ticket under a lock on the counter's byte, and
//     before letting go of it takes the lock on its own slot byte (offset
//     kFirstSlot + ticket mod kSlots), which it holds until its transaction
//     ends.
//   - It then waits until the slot of the ticket before its own is free:
//     the writer before it is done, gave up, or died.
//   - Then it takes SQLite's lock (BEGIN IMMEDIATE) as before, which stays
//     the lock that guarantees one writer at a time; the queue only decides
//     the order in which writers ask for it.
//
// The locks are fcntl open-file-description locks (F_OFD_SETLK), which the
// kernel drops when the last descriptor of the file closes, so a process
// that crashes or is killed never leaves a slot or the counter held, and
// two stores of one process queue like two processes. Waits poll with short
// sleeps instead of blocking in the kernel (F_OFD_SETLKW), so that a writer
// gives up at its deadline as before; the kernel's own wait queue is not
// first-come first-served either: every waiter wakes at an unlock and the
// releaser may win again.
//
// A writer that gives up or dies leaves its slot free, and the one after
// it then goes to SQLite's lock while the one before may still hold it:
// order is lost for that turn, never safety. The counter's value only has to
// be some number: a torn or missing side file costs order, not correctness,
// and so does one that cannot be opened or locked: the store then goes
// without the queue, as before it had one.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace landfall::internal {

class WriteQueue {
 public:
  // A queue on `state_path` + "-queue", created when missing with the state
  // file's permissions. Error (naming the file) when it cannot be opened.
  static absl::StatusOr<WriteQueue> Open(const std::string& state_path);
  WriteQueue(WriteQueue&& other) noexcept;
  WriteQueue& operator=(WriteQueue&&) = delete;
  WriteQueue(const WriteQueue&) = delete;
  ~WriteQueue();

  // Draws a ticket and waits for the writers before it, until `deadline`.
  // OK: this writer's turn, until Leave; also when the file's locks fail (a
  // file system without them), and the writer then goes unordered.
  // DeadlineExceeded: still waiting at the deadline (the ticket is left).
  // Not thread-safe: one turn at a time per queue object.
  absl::Status Join(absl::Time deadline);
  // Ends the turn; the next writer may go. No-op without one.
  void Leave();

 private:
  explicit WriteQueue(int fd) : fd_(fd) {}

  int fd_;
  int64_t slot_ = -1;  // The slot byte this writer holds; -1 when none.
};

}  // namespace landfall::internal
