// Where the executor's OAuth2 access tokens come from: a command, an
// environment variable or a service-account key file, cached until five
// minutes before they expire.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace landfall::internal {

struct AccessToken {
  std::string value;
  absl::Time expires = absl::InfinitePast();
};

// The OAuth2 scope the executor asks a service account's token for.
inline constexpr char kBigQueryScope[] =
    "https://www.googleapis.com/auth/bigquery";

// Thread-safe. Errors name the source (the command, the variable, the key
// file's path) and never hold a token or a key: Unavailable when trying
// again later may help (a command failed, the token endpoint is away or
// answered 5xx), FailedPrecondition otherwise (the variable is unset, the
// key file is unreadable or refused).
class TokenSource {
 public:
  virtual ~TokenSource() = default;

  // A token with more than five minutes left: the cached one, else a new
  // one. `refresh`: a new one even so (the server refused the cached one).
  // `abort` (may be null) ends a request to a token endpoint early.
  absl::StatusOr<std::string> Get(bool refresh, const std::atomic<bool>* abort);

 protected:
  virtual absl::StatusOr<AccessToken> Fetch(const std::atomic<bool>* abort) = 0;

 private:
  absl::Mutex mu_;
  AccessToken cached_ ABSL_GUARDED_BY(mu_);
};

// Runs `command` with /bin/sh and reads its standard output: the token
// (blanks trimmed; taken to last an hour), or a JSON object with
// access_token and expires_in (seconds). Past `timeout` (or once a Get's
// `abort` turns true) the command's process group is killed and Get is
// Unavailable. Messages name the command's first word only, never its
// output.
std::unique_ptr<TokenSource> NewCommandTokenSource(std::string command,
                                                   absl::Duration timeout);
// The token in environment variable `name`, read again at every refresh;
// taken to last an hour.
std::unique_ptr<TokenSource> NewEnvTokenSource(std::string name);
// A token for the service account of the key file at `path` (read at every
// refresh, so a rotated key is picked up): a JWT signed RS256 with its
// private_key, exchanged at its token_uri for a token of `scope`.
std::unique_ptr<TokenSource> NewKeyFileTokenSource(std::string path,
                                                   std::string scope,
                                                   absl::Duration timeout);

}  // namespace landfall::internal
