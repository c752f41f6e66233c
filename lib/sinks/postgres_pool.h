// A bounded pool of libpq connections for one sink: at most `max` open at
// once, idle ones reused, broken ones dropped and replaced on demand.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "lib/store/postgres_connection.h"

namespace landfall::internal {

class PgPool {
 public:
  PgPool(std::string conninfo,
         std::vector<std::pair<std::string, std::string>> params, int max)
      : conninfo_(std::move(conninfo)),
        label_(RedactConninfo(conninfo_)),
        params_(std::move(params)),
        max_(max) {}

  // A connection for the caller's use, waiting while `max` are in use;
  // Cancelled when `cancelled` turns true while waiting (checked every
  // 50 ms), Connect's error when a new one cannot be opened.
  absl::StatusOr<std::unique_ptr<PgConnection>> Acquire(
      const std::atomic<bool>& cancelled);
  // Gives back a connection from Acquire; a broken one is closed.
  void Release(std::unique_ptr<PgConnection> connection);

 private:
  const std::string conninfo_;
  const std::string label_;
  const std::vector<std::pair<std::string, std::string>> params_;
  const int max_;
  absl::Mutex mu_;
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // Idle ones and ones handed out.
  std::vector<std::unique_ptr<PgConnection>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace landfall::internal
