#include "lib/sources/sqs/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace landfall::internal {
namespace {

std::string Hex(const unsigned char* bytes, size_t n) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), n));
}

std::string Hmac(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
       &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

// A header value with leading and trailing spaces removed and inner runs
// of spaces folded to one, as the canonical form requires.
std::string TrimmedValue(absl::string_view value) {
  std::string out;
  bool space = false;
  for (char c : absl::StripAsciiWhitespace(value)) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string CanonicalQuery(absl::string_view query) {
  if (query.empty()) return "";
  std::vector<std::pair<std::string, std::string>> params;
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    params.push_back(std::move(kv));
  }
  std::sort(params.begin(), params.end());
  std::vector<std::string> joined;
  for (const auto& [k, v] : params) joined.push_back(absl::StrCat(k, "=", v));
  return absl::StrJoin(joined, "&");
}

// Lowercased names with their values, sorted by name; repeated names are
// joined with commas.
std::vector<std::pair<std::string, std::string>> CanonicalHeaders(
    const SigV4Request& request, absl::string_view amz_date,
    absl::string_view security_token) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) {
    headers.emplace_back(absl::AsciiStrToLower(name), TrimmedValue(value));
  }
  headers.emplace_back("x-amz-date", std::string(amz_date));
  if (!security_token.empty()) {
    headers.emplace_back("x-amz-security-token", std::string(security_token));
  }
  std::stable_sort(
      headers.begin(), headers.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string, std::string>> merged;
  for (auto& h : headers) {
    if (!merged.empty() && merged.back().first == h.first) {
      absl::StrAppend(&merged.back().second, ",", h.second);
    } else {
      merged.push_back(std::move(h));
    }
  }
  return merged;
}

std::string SignedHeaderNames(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::vector<std::string> names;
  for (const auto& h : headers) names.push_back(h.first);
  return absl::StrJoin(names, ";");
}

}  // namespace

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  return Hex(digest, sizeof(digest));
}

std::string CanonicalRequest(const SigV4Request& request,
                             absl::string_view amz_date,
                             absl::string_view security_token) {
  const auto headers = CanonicalHeaders(request, amz_date, security_token);
  std::string out = absl::StrCat(request.method, "\n", request.path, "\n",
                                 CanonicalQuery(request.query), "\n");
  for (const auto& [name, value] : headers) {
    absl::StrAppend(&out, name, ":", value, "\n");
  }
  absl::StrAppend(&out, "\n", SignedHeaderNames(headers), "\n",
                  Sha256Hex(request.payload));
  return out;
}

SigV4Headers SignV4(const SigV4Request& request,
                    const AwsCredentials& credentials, absl::string_view region,
                    absl::string_view service, absl::Time now) {
  SigV4Headers out;
  out.amz_date = absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone());
  out.security_token = credentials.session_token;
  const std::string date = out.amz_date.substr(0, 8);
  const std::string scope =
      absl::StrCat(date, "/", region, "/", service, "/aws4_request");
  const std::string canonical =
      CanonicalRequest(request, out.amz_date, out.security_token);
  const std::string to_sign =
      absl::StrCat("AWS4-HMAC-SHA256\n", out.amz_date, "\n", scope, "\n",
                   Sha256Hex(canonical));
  std::string key =
      Hmac(absl::StrCat("AWS4", credentials.secret_access_key), date);
  key = Hmac(key, region);
  key = Hmac(key, service);
  key = Hmac(key, "aws4_request");
  const std::string signature = Hmac(key, to_sign);
  out.authorization =
      absl::StrCat("AWS4-HMAC-SHA256 Credential=", credentials.access_key_id,
                   "/", scope, ", SignedHeaders=",
                   SignedHeaderNames(CanonicalHeaders(request, out.amz_date,
                                                      out.security_token)),
                   ", Signature=",
                   Hex(reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size()));
  return out;
}

}  // namespace landfall::internal
