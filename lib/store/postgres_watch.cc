// StoreWatch on PostgreSQL: LISTEN on a connection of its own for the
// notifications the store's commits send.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "lib/store/postgres_store.h"

namespace landfall {

StoreWatch::~StoreWatch() = default;

namespace internal {
namespace {

class PostgresWatch : public StoreWatch {
 public:
  PostgresWatch(PostgresTarget target, std::string own_token)
      : target_(std::move(target)),
        own_token_(std::move(own_token)),
        interrupt_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~PostgresWatch() override {
    if (interrupt_ >= 0) close(interrupt_);
  }

  absl::StatusOr<bool> Wait(absl::Duration timeout) override {
    const absl::Time deadline = absl::Now() + timeout;
    if (conn_ == nullptr || conn_->broken()) {
      conn_.reset();
      absl::StatusOr<std::unique_ptr<PgConnection>> conn =
          ConnectPostgres(target_);
      if (!conn.ok()) return conn.status();
      absl::Status s =
          (*conn)
              ->Exec(absl::StrCat("LISTEN ", QuoteIdentifier(NotifyChannel(
                                                 target_.options.schema))),
                     "listen for commits")
              .status();
      if (!s.ok()) return s;
      conn_ = *std::move(conn);
      // Commits made while it was away went unseen.
      if (std::exchange(connected_before_, true)) return true;
    }
    for (;;) {
      if (PQconsumeInput(conn_->get()) == 0) {
        return conn_->Error(nullptr, "wait for commits");
      }
      bool changed = false;
      while (PGnotify* n = PQnotifies(conn_->get())) {
        if (own_token_ != n->extra) changed = true;
        PQfreemem(n);
      }
      if (changed) return true;
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      pollfd fds[2] = {{PQsocket(conn_->get()), POLLIN, 0},
                       {interrupt_, POLLIN, 0}};
      const int ms = static_cast<int>(
          absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))));
      if (poll(fds, 2, ms) < 0 && errno != EINTR) {
        return absl::InternalError(absl::StrCat("poll: ", errno));
      }
      if (fds[1].revents != 0) {
        uint64_t count;
        (void)!read(interrupt_, &count, sizeof(count));
        return false;
      }
    }
  }

  void Interrupt() override {
    const uint64_t one = 1;
    (void)!write(interrupt_, &one, sizeof(one));
  }

 private:
  const PostgresTarget target_;
  const std::string own_token_;
  const int interrupt_;
  std::unique_ptr<PgConnection> conn_;
  bool connected_before_ = false;
};

}  // namespace

std::unique_ptr<StoreWatch> NewPostgresWatch(const PostgresTarget& target,
                                             std::string own_token) {
  return std::make_unique<PostgresWatch>(target, std::move(own_token));
}

}  // namespace internal
}  // namespace landfall
