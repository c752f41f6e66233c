#include "lib/sinks/postgres_pool.h"

namespace landfall::internal {

absl::StatusOr<std::unique_ptr<PgConnection>> PgPool::Acquire(
    const std::atomic<bool>& cancelled) {
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < max_;
    };
    while (!available()) {
      if (cancelled.load(std::memory_order_relaxed)) {
        return absl::CancelledError("cancelled waiting for a connection");
      }
      mu_.AwaitWithTimeout(absl::Condition(&available), absl::Milliseconds(50));
    }
    if (!idle_.empty()) {
      std::unique_ptr<PgConnection> connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
    ++open_;  // Reserved while connecting, so the cap holds.
  }
  absl::StatusOr<std::unique_ptr<PgConnection>> connection =
      PgConnection::Connect(conninfo_, label_, params_);
  if (!connection.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
  }
  return connection;
}

void PgPool::Release(std::unique_ptr<PgConnection> connection) {
  absl::MutexLock lock(&mu_);
  if (connection->broken()) {
    --open_;
    return;  // Closed when `connection` goes, after the lock is released.
  }
  idle_.push_back(std::move(connection));
}

}  // namespace landfall::internal
