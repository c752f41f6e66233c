#include "lib/sinks/bigquery/token_source.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/net/http_client.h"
#include "lib/pipeline/internal/read_file.h"
#include "lib/sinks/bigquery/bigquery_rest.pb.h"
#include "lib/sinks/bigquery/command_output.h"
#include "lib/sinks/bigquery/jwt.h"
#include "lib/sinks/bigquery/rest_json.h"

namespace landfall::internal {
namespace {

// A token whose lifetime its source does not say is taken to last this
// long (what gcloud's and the metadata server's tokens last).
constexpr absl::Duration kAssumedLifetime = absl::Hours(1);
// A cached token with less left than this is replaced first.
constexpr absl::Duration kRefreshMargin = absl::Minutes(5);

AccessToken Token(std::string value, int64_t expires_in) {
  return AccessToken{std::move(value),
                     absl::Now() + (expires_in > 0 ? absl::Seconds(expires_in)
                                                   : kAssumedLifetime)};
}

class CommandTokenSource : public TokenSource {
 public:
  CommandTokenSource(std::string command, absl::Duration timeout)
      : command_(std::move(command)), timeout_(timeout) {}

 protected:
  absl::StatusOr<AccessToken> Fetch(const std::atomic<bool>* abort) override {
    // Its arguments may hold secrets: messages name the first word only.
    const std::string what =
        absl::StrCat("token_command `", CommandName(command_), "`");
    absl::StatusOr<CommandOutput> run =
        RunForOutput(command_, what, timeout_, abort);
    if (!run.ok()) {
      // Timed out or stopped: another attempt may do better.
      return absl::UnavailableError(run.status().message());
    }
    const int status = run->wait_status;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return absl::UnavailableError(absl::StrCat(
          what, WIFEXITED(status)
                    ? absl::StrCat(" exited with status ", WEXITSTATUS(status))
                    : std::string(" did not exit normally")));
    }
    const std::string& text = run->out;
    const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
    if (absl::StartsWith(trimmed, "{")) {
      bigquery_rest::TokenResponse response;
      if (!ParseRestJson(std::string(trimmed), &response) ||
          response.access_token().empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat(what, " printed JSON without an access_token string"));
      }
      return Token(response.access_token(), response.expires_in());
    }
    if (trimmed.empty() || absl::StrContains(trimmed, "\n")) {
      return absl::FailedPreconditionError(absl::StrCat(
          what, " printed ", trimmed.empty() ? "nothing" : "several lines",
          ", not one access token"));
    }
    return Token(std::string(trimmed), 0);
  }

 private:
  const std::string command_;
  const absl::Duration timeout_;
};

class EnvTokenSource : public TokenSource {
 public:
  explicit EnvTokenSource(std::string name) : name_(std::move(name)) {}

 protected:
  absl::StatusOr<AccessToken> Fetch(const std::atomic<bool>*) override {
    const char* value = getenv(name_.c_str());
    const absl::string_view token =
        absl::StripAsciiWhitespace(value == nullptr ? "" : value);
    if (token.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "environment variable ", name_, " holds no access token"));
    }
    return Token(std::string(token), 0);
  }

 private:
  const std::string name_;
};

class KeyFileTokenSource : public TokenSource {
 public:
  KeyFileTokenSource(std::string path, std::string scope,
                     absl::Duration timeout)
      : path_(std::move(path)), scope_(std::move(scope)), timeout_(timeout) {}

 protected:
  absl::StatusOr<AccessToken> Fetch(const std::atomic<bool>* abort) override {
    absl::StatusOr<std::string> text =
        ReadRegularFile(path_, 1 << 20, "key file");
    if (!text.ok()) {
      return absl::FailedPreconditionError(text.status().message());
    }
    // Parse errors may quote the file: the message names only the path.
    bigquery_rest::ServiceAccountKey key;
    if (!ParseRestJson(*text, &key) || key.private_key().empty() ||
        key.client_email().empty() || key.token_uri().empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("key file ", path_,
                       " is not a service-account key (JSON with private_key, "
                       "client_email and token_uri)"));
    }
    absl::StatusOr<std::string> assertion =
        SignJwtRs256(JwtClaims{key.client_email(), scope_, key.token_uri(),
                               absl::Now(), key.private_key_id()},
                     key.private_key());
    if (!assertion.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("key file ", path_, ": ", assertion.status().message()));
    }
    HttpClient http;
    http.set_abort(abort);
    absl::StatusOr<HttpResponse> response = http.Post(
        key.token_uri(),
        {{"Content-Type", "application/x-www-form-urlencoded"}},
        absl::StrCat("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3A"
                     "jwt-bearer&assertion=",
                     *assertion),  // Base64url needs no escaping.
        timeout_);
    if (!response.ok()) return response.status();
    bigquery_rest::TokenResponse token;
    const bool parsed = ParseRestJson(response->body, &token);
    if (response->status != 200 || !parsed || token.access_token().empty()) {
      std::string why = absl::StrCat("HTTP ", response->status);
      if (!token.error().empty()) absl::StrAppend(&why, " ", token.error());
      if (!token.error_description().empty()) {
        absl::StrAppend(&why, ": ", token.error_description());
      }
      const std::string message =
          absl::StrCat("token endpoint ", key.token_uri(), " (key file ", path_,
                       ") gave no access token: ", why);
      return response->status >= 500 || response->status == 429
                 ? absl::UnavailableError(message)
                 : absl::FailedPreconditionError(message);
    }
    return Token(token.access_token(), token.expires_in());
  }

 private:
  const std::string path_;
  const std::string scope_;
  const absl::Duration timeout_;
};

}  // namespace

absl::StatusOr<std::string> TokenSource::Get(bool refresh,
                                             const std::atomic<bool>* abort) {
  absl::MutexLock lock(&mu_);
  if (!refresh && cached_.expires - absl::Now() > kRefreshMargin) {
    return cached_.value;
  }
  absl::StatusOr<AccessToken> token = Fetch(abort);
  if (!token.ok()) return token.status();
  cached_ = *std::move(token);
  return cached_.value;
}

std::unique_ptr<TokenSource> NewCommandTokenSource(std::string command,
                                                   absl::Duration timeout) {
  return std::make_unique<CommandTokenSource>(std::move(command), timeout);
}

std::unique_ptr<TokenSource> NewEnvTokenSource(std::string name) {
  return std::make_unique<EnvTokenSource>(std::move(name));
}

std::unique_ptr<TokenSource> NewKeyFileTokenSource(std::string path,
                                                   std::string scope,
                                                   absl::Duration timeout) {
  return std::make_unique<KeyFileTokenSource>(std::move(path), std::move(scope),
                                              timeout);
}

}  // namespace landfall::internal
