// The PostgreSQL forms of a store URI: libpq's conninfo plus landfall's own
// parameters, which are taken out before libpq sees them (it refuses
// keywords it does not know).
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "lib/store/postgres_store.h"

namespace landfall::internal {
namespace {

bool PercentDecode(absl::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    int v = 0;
    if (i + 2 >= in.size()) return false;
    if (!absl::SimpleHexAtoi(std::string(in.substr(i + 1, 2)), &v)) {
      return false;
    }
    out->push_back(static_cast<char>(v));
    i += 2;
  }
  return true;
}

// Sets the option `key` to `value`; false when `key` is not landfall's.
absl::StatusOr<bool> SetOption(absl::string_view key, const std::string& value,
                               PostgresStoreOptions* options) {
  const auto duration = [&](absl::Duration* d) -> absl::StatusOr<bool> {
    if (!absl::ParseDuration(value, d) || *d < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("state store: ", key, "=", value,
                       ": expected a duration such as 30s or 2m"));
    }
    return true;
  };
  if (key == "schema") {
    options->schema = value;
    return true;
  }
  if (key == "lock_timeout") return duration(&options->lock_timeout);
  if (key == "statement_timeout") return duration(&options->statement_timeout);
  if (key == "synchronous_commit") {
    using Mode = PostgresStoreOptions::SynchronousCommit;
    if (value == "server") {
      options->synchronous_commit = Mode::kServer;
    } else if (value == "local") {
      options->synchronous_commit = Mode::kLocal;
    } else if (value == "off") {
      options->synchronous_commit = Mode::kOff;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("state store: synchronous_commit=", value,
                       ": expected server, local or off"));
    }
    return true;
  }
  return false;
}

// postgresql://...?a=b&schema=x: query parameters.
absl::StatusOr<std::string> FromUri(absl::string_view uri,
                                    PostgresStoreOptions* options) {
  const size_t q = uri.find('?');
  if (q == absl::string_view::npos) return std::string(uri);
  std::vector<absl::string_view> kept;
  for (absl::string_view param :
       absl::StrSplit(uri.substr(q + 1), '&', absl::SkipEmpty())) {
    const size_t eq = param.find('=');
    std::string key, value;
    if (eq == absl::string_view::npos ||
        !PercentDecode(param.substr(0, eq), &key) ||
        !PercentDecode(param.substr(eq + 1), &value)) {
      kept.push_back(param);  // libpq says what is wrong with it.
      continue;
    }
    absl::StatusOr<bool> ours = SetOption(key, value, options);
    if (!ours.ok()) return ours.status();
    if (!*ours) kept.push_back(param);
  }
  std::string out(uri.substr(0, q));
  if (!kept.empty()) absl::StrAppend(&out, "?", absl::StrJoin(kept, "&"));
  return out;
}

// key=value pairs as libpq reads them: spaces around '=', a value single-
// quoted or not, backslash escapes.
absl::StatusOr<std::string> FromPairs(absl::string_view text,
                                      PostgresStoreOptions* options) {
  std::vector<absl::string_view> kept;
  size_t i = 0;
  const auto skip_spaces = [&] {
    while (i < text.size() && absl::ascii_isspace(text[i])) ++i;
  };
  for (;;) {
    skip_spaces();
    if (i >= text.size()) break;
    const size_t start = i;
    while (i < text.size() && text[i] != '=' && !absl::ascii_isspace(text[i])) {
      ++i;
    }
    const absl::string_view key = text.substr(start, i - start);
    skip_spaces();
    if (i >= text.size() || text[i] != '=') {
      return absl::InvalidArgumentError(absl::StrCat(
          "state store: missing \"=\" after \"", key, "\" in the conninfo"));
    }
    ++i;
    skip_spaces();
    std::string value;
    if (i < text.size() && text[i] == '\'') {
      ++i;
      while (i < text.size() && text[i] != '\'') {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value.push_back(text[i++]);
      }
      if (i >= text.size()) {
        return absl::InvalidArgumentError(
            "state store: unterminated quoted value in the conninfo");
      }
      ++i;
    } else {
      while (i < text.size() && !absl::ascii_isspace(text[i])) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value.push_back(text[i++]);
      }
    }
    absl::StatusOr<bool> ours = SetOption(key, value, options);
    if (!ours.ok()) return ours.status();
    if (!*ours) kept.push_back(text.substr(start, i - start));
  }
  return absl::StrJoin(kept, " ");
}

}  // namespace

bool IsPostgresUri(absl::string_view uri) {
  return absl::StartsWith(uri, "postgresql:") ||
         absl::StartsWith(uri, "postgres://");
}

absl::StatusOr<std::pair<std::string, PostgresStoreOptions>> ParsePostgresUri(
    absl::string_view uri) {
  PostgresStoreOptions options;
  absl::StatusOr<std::string> conninfo;
  if (absl::StartsWith(uri, "postgresql://") ||
      absl::StartsWith(uri, "postgres://")) {
    conninfo = FromUri(uri, &options);
  } else if (absl::StartsWith(uri, "postgresql:")) {
    conninfo = FromPairs(uri.substr(11), &options);
  } else {
    return absl::InvalidArgumentError("state store: not a PostgreSQL URI");
  }
  if (!conninfo.ok()) return conninfo.status();
  return std::make_pair(*std::move(conninfo), options);
}

}  // namespace landfall::internal
