#include "landfall/state_store.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/store/postgres_store.h"

namespace landfall {

StateStore::~StateStore() = default;

std::unique_ptr<StoreWatch> StateStore::Watch() { return nullptr; }

absl::StatusOr<std::shared_ptr<StateStore>> OpenStateStore(
    std::string_view uri) {
  return OpenStateStore(uri, StoreOpenOptions());
}

absl::StatusOr<std::shared_ptr<StateStore>> OpenStateStore(
    std::string_view uri, const StoreOpenOptions& options) {
  const absl::string_view u(uri.data(), uri.size());
  if (u == "memory:") {
    if (options.read_only) {
      return absl::InvalidArgumentError(
          "state store \"memory:\" cannot be opened read-only: it is always "
          "new and empty");
    }
    return NewMemoryStore();
  }
  if (absl::StartsWith(u, "sqlite:") && u.size() > 7) {
    SqliteStoreOptions sqlite;
    sqlite.create = options.create;
    sqlite.read_only = options.read_only;
    return OpenSqliteStore(std::string(u.substr(7)), sqlite);
  }
  if (internal::IsPostgresUri(u)) {
    absl::StatusOr<std::pair<std::string, PostgresStoreOptions>> parsed =
        internal::ParsePostgresUri(u);
    if (!parsed.ok()) return parsed.status();
    parsed->second.create = options.create;
    parsed->second.read_only = options.read_only;
    return OpenPostgresStore(parsed->first, parsed->second);
  }
  // Only the scheme: a mistyped PostgreSQL URI may hold a password.
  const size_t colon = u.find(':');
  const absl::string_view shown =
      colon == absl::string_view::npos || colon + 1 == u.size() ||
              (u.find('@') == absl::string_view::npos &&
               u.find('=') == absl::string_view::npos)
          ? u
          : u.substr(0, colon + 1);
  return absl::InvalidArgumentError(absl::StrCat(
      "state store \"", shown, shown.size() < u.size() ? "..." : "",
      "\": expected memory:, sqlite:PATH, postgresql://... or "
      "postgresql:KEY=VALUE..."));
}

std::string ShownStoreUri(std::string_view uri) {
  const absl::string_view u(uri.data(), uri.size());
  if (!internal::IsPostgresUri(u)) return std::string(u);
  absl::StatusOr<std::pair<std::string, PostgresStoreOptions>> parsed =
      internal::ParsePostgresUri(u);
  if (!parsed.ok()) return "PostgreSQL (a store URI that cannot be parsed)";
  return absl::StrCat(internal::RedactConninfo(parsed->first), " schema \"",
                      parsed->second.schema, "\"");
}

}  // namespace landfall
