#include "lib/sinks/bigquery/jwt.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/runtime/json_object.h"

namespace landfall::internal {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string Base64Url(absl::string_view data) {
  std::string out;
  absl::WebSafeBase64Escape(data, &out);  // No padding.
  return out;
}

}  // namespace

absl::StatusOr<std::string> SignJwtRs256(const JwtClaims& claims,
                                         absl::string_view private_key_pem) {
  const int64_t iat = absl::ToUnixSeconds(claims.issued_at);
  JsonObject header;
  header.Str("alg", "RS256").Str("typ", "JWT");
  if (!claims.key_id.empty()) header.Str("kid", claims.key_id);
  JsonObject body;
  body.Str("iss", claims.issuer)
      .Str("scope", claims.scope)
      .Str("aud", claims.audience)
      .Int("iat", iat)
      .Int("exp", iat + 3600);
  const std::string signing_input =
      absl::StrCat(Base64Url(header.str()), ".", Base64Url(body.str()));

  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(
      private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      bio == nullptr
          ? nullptr
          : PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError(
        "private_key is not an RSA private key in PEM");
  }
  std::unique_ptr<EVP_MD_CTX, MdFree> md(EVP_MD_CTX_new());
  size_t size = 0;
  if (md == nullptr ||
      EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) !=
          1 ||
      EVP_DigestSign(
          md.get(), nullptr, &size,
          reinterpret_cast<const unsigned char*>(signing_input.data()),
          signing_input.size()) != 1) {
    return absl::InternalError("RS256 signing failed to start");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(
          md.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
          reinterpret_cast<const unsigned char*>(signing_input.data()),
          signing_input.size()) != 1) {
    return absl::InternalError("RS256 signing failed");
  }
  signature.resize(size);
  return absl::StrCat(signing_input, ".", Base64Url(signature));
}

}  // namespace landfall::internal
