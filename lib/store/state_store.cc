#include "landfall/state_store.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace landfall {

StateStore::~StateStore() = default;

absl::StatusOr<std::shared_ptr<StateStore>> OpenStateStore(
    std::string_view uri) {
  const absl::string_view u(uri.data(), uri.size());
  if (u == "memory:") return NewMemoryStore();
  if (absl::StartsWith(u, "sqlite:") && u.size() > 7) {
    return OpenSqliteStore(std::string(u.substr(7)));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("state store \"", u, "\": expected memory: or sqlite:PATH"));
}

}  // namespace landfall
