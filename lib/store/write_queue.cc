#include "lib/store/write_queue.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace landfall::internal {
namespace {

// Lock offsets: the counter's byte, then one byte per slot. The counter's
// value is stored at file offset 0 as 8 little-endian bytes; lock offsets
// are a namespace of their own.
constexpr off_t kCounterByte = 0;
constexpr off_t kFirstSlot = 1;
constexpr uint64_t kSlots = uint64_t{1} << 30;
// A turn ends in one transaction; tickets the counter might hand out twice
// (a write that failed) are skipped over, at most this many.
constexpr int kMaxSlotTries = 1024;
// Polling: waits start short, as most turns are short, and grow to
// kNextPoll for the writer next in line (the handoff's delay, so short), and
// to kMaxPoll for those further back (they wake less often, leaving the CPU
// to the writer in its turn).
constexpr absl::Duration kFirstPoll = absl::Microseconds(20);
constexpr absl::Duration kNextPoll = absl::Microseconds(50);
constexpr absl::Duration kMaxPoll = absl::Milliseconds(1);

off_t SlotOf(uint64_t ticket) {
  return kFirstSlot + static_cast<off_t>(ticket % kSlots);
}

struct flock ByteLock(off_t offset, short type) {
  struct flock lock;
  std::memset(&lock, 0, sizeof lock);
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = offset;
  lock.l_len = 1;
  return lock;
}

// 0, or the errno: EAGAIN (or EACCES) when another holds it.
int TryLock(int fd, off_t offset) {
  struct flock lock = ByteLock(offset, F_WRLCK);
  return fcntl(fd, F_OFD_SETLK, &lock) == 0 ? 0 : errno;
}

bool Busy(int error) { return error == EAGAIN || error == EACCES; }

void Unlock(int fd, off_t offset) {
  struct flock lock = ByteLock(offset, F_UNLCK);
  fcntl(fd, F_OFD_SETLK, &lock);
}

// Whether another open file holds the byte (an error counts as free: the
// queue gives order, SQLite's lock gives safety).
bool HeldByAnother(int fd, off_t offset) {
  struct flock lock = ByteLock(offset, F_WRLCK);
  return fcntl(fd, F_OFD_GETLK, &lock) == 0 && lock.l_type != F_UNLCK;
}

// Sleeps `*poll` (or until `deadline`), then doubles it up to `max`; false
// at the deadline.
bool Pause(absl::Time deadline, absl::Duration max, absl::Duration* poll) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return false;
  *poll = std::min(*poll, max);
  absl::SleepFor(std::min(*poll, left));
  *poll = std::min(*poll * 2, max);
  return true;
}

uint64_t ReadCounter(int fd) {
  unsigned char bytes[8] = {};
  uint64_t value = 0;
  if (pread(fd, bytes, sizeof bytes, 0) == sizeof bytes) {
    for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  }
  return value;
}

void WriteCounter(int fd, uint64_t value) {
  unsigned char bytes[8];
  for (unsigned char& b : bytes) {
    b = static_cast<unsigned char>(value & 0xff);
    value >>= 8;
  }
  // A failed write leaves the counter behind: the next writer finds the
  // ticket's slot held and takes the one after, so order holds.
  (void)!pwrite(fd, bytes, sizeof bytes, 0);
}

}  // namespace

absl::StatusOr<WriteQueue> WriteQueue::Open(const std::string& state_path) {
  std::string path = state_path + "-queue";
  // Created with the state file's permissions and owner, as SQLite creates
  // its -wal and -shm files: whoever may write the state may queue.
  struct stat state;
  const bool known = stat(state_path.c_str(), &state) == 0;
  const mode_t mode = known ? state.st_mode & 0777 : 0644;
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd >= 0 && known) {
    (void)!fchmod(fd, mode);  // Past the umask.
    if (geteuid() == 0) (void)!fchown(fd, state.st_uid, state.st_gid);
  } else if (fd < 0 && errno == EEXIST) {
    fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  }
  if (fd < 0) {
    const int error = errno;
    return absl::ErrnoToStatus(
        error, absl::StrCat(path, ": cannot open the writers' queue file"));
  }
  return WriteQueue(fd);
}

WriteQueue::WriteQueue(WriteQueue&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      slot_(std::exchange(other.slot_, -1)) {}

WriteQueue::~WriteQueue() {
  if (fd_ >= 0) close(fd_);  // Drops every lock this object holds.
}

absl::Status WriteQueue::Join(absl::Time deadline) {
  Leave();
  // The counter's lock is held for a read and a write: poll it briefly.
  absl::Duration poll = kFirstPoll;
  for (int error; (error = TryLock(fd_, kCounterByte)) != 0;) {
    if (!Busy(error)) return absl::OkStatus();  // No locks here: unordered.
    if (!Pause(deadline, kNextPoll, &poll)) {
      return absl::DeadlineExceededError("waited for the writers' queue");
    }
  }
  uint64_t ticket = ReadCounter(fd_);
  int error = EAGAIN;
  for (int tries = 0; tries < kMaxSlotTries && Busy(error); ++tries) {
    error = TryLock(fd_, SlotOf(ticket));
    if (error != 0) ++ticket;
  }
  if (error == 0) WriteCounter(fd_, ticket + 1);
  Unlock(fd_, kCounterByte);
  if (error != 0) return absl::OkStatus();  // No place: unordered.
  slot_ = SlotOf(ticket);
  // Wait for the writer before, who holds the previous ticket's slot; this
  // one is next once the slot before that is free.
  const off_t before = SlotOf(ticket - 1);
  poll = kFirstPoll;
  while (HeldByAnother(fd_, before)) {
    const bool next = !HeldByAnother(fd_, SlotOf(ticket - 2));
    if (!Pause(deadline, next ? kNextPoll : kMaxPoll, &poll)) {
      Leave();
      return absl::DeadlineExceededError("waited in the writers' queue");
    }
  }
  return absl::OkStatus();
}

void WriteQueue::Leave() {
  if (slot_ < 0) return;
  Unlock(fd_, slot_);
  slot_ = -1;
}

}  // namespace landfall::internal
