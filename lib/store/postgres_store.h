// What the PostgreSQL store's files share: where to connect, and how.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "landfall/state_store.h"
#include "lib/store/postgres_connection.h"

namespace landfall::internal {

struct PostgresTarget {
  std::string conninfo;
  PostgresStoreOptions options;
  std::string label;  // For messages: the conninfo without password, schema.
};

// A connection with the session set up as the options say (timeouts,
// synchronous_commit).
absl::StatusOr<std::unique_ptr<PgConnection>> ConnectPostgres(
    const PostgresTarget& target);

// The NOTIFY channel of a schema's commits.
std::string NotifyChannel(const std::string& schema);

// A watch on its own connection that ignores notifications carrying
// `own_token` (the commits of the store that made it).
std::unique_ptr<StoreWatch> NewPostgresWatch(const PostgresTarget& target,
                                             std::string own_token);

// A store URI's PostgreSQL forms (see OpenStateStore): the conninfo for
// libpq, without landfall's own parameters, which go to `options`.
// InvalidArgument for a bad value of one of those.
absl::StatusOr<std::pair<std::string, PostgresStoreOptions>> ParsePostgresUri(
    absl::string_view uri);

// Whether `uri` is one of the PostgreSQL forms.
bool IsPostgresUri(absl::string_view uri);

}  // namespace landfall::internal
