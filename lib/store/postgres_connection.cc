#include "lib/store/postgres_connection.h"

#include <arpa/inet.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

#include "absl/base/internal/endian.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace landfall::internal {
namespace {

// Type oids of the binary arrays (pg_type.dat).
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;
constexpr Oid kByteaOid = 17;

void AppendInt32(std::string* out, int32_t v) {
  const uint32_t n = htonl(static_cast<uint32_t>(v));
  out->append(reinterpret_cast<const char*>(&n), 4);
}

void AppendInt64(std::string* out, int64_t v) {
  char bytes[8];
  absl::big_endian::Store64(bytes, static_cast<uint64_t>(v));
  out->append(bytes, 8);
}

// SQLSTATEs after which this session is of no more use: its connection is
// gone or going (class 08, 57P01-57P03), it sits on a read-only standby
// after a failover (25006), or the server ended its idle transaction
// (25P03).
bool SessionLost(absl::string_view state) {
  return absl::StartsWith(state, "08") || state == "57P01" ||
         state == "57P02" || state == "57P03" || state == "25006" ||
         state == "25P03";
}

// SQLSTATEs after which the same call may work later: a lost session (on a
// new connection), serialization failures and deadlocks (40001, 40P01),
// lock and statement timeouts (55P03, 57014; a rollback is enough), too
// many connections (53300).
bool Transient(absl::string_view state) {
  return SessionLost(state) || state == "40001" || state == "40P01" ||
         state == "55P03" || state == "57014" || state == "53300";
}

}  // namespace

std::string RedactConninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    return "PostgreSQL (a connection string libpq cannot parse)";
  }
  std::string out = "PostgreSQL";
  const char* sep = " (";
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || o->val[0] == '\0') continue;
    // libpq marks its secrets (password, sslpassword) with dispchar "*".
    if (o->dispchar != nullptr && std::strchr(o->dispchar, '*') != nullptr) {
      continue;
    }
    absl::StrAppend(&out, sep, o->keyword, "=", o->val);
    sep = " ";
  }
  if (std::strcmp(sep, " ") == 0) out += ")";
  PQconninfoFree(options);
  return out;
}

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = other.release();
  }
  return *this;
}

PGresult* PgResult::release() {
  PGresult* r = result_;
  result_ = nullptr;
  return r;
}

int64_t PgResult::integer(int row, int col) const {
  const char* v = PQgetvalue(result_, row, col);
  switch (PQgetlength(result_, row, col)) {
    case 8:
      return static_cast<int64_t>(absl::big_endian::Load64(v));
    case 4:
      return static_cast<int32_t>(absl::big_endian::Load32(v));
    default:
      return 0;
  }
}

void PgParams::Int8(int64_t v) {
  auto bytes = std::make_unique<char[]>(8);
  absl::big_endian::Store64(bytes.get(), static_cast<uint64_t>(v));
  values_.push_back(bytes.get());
  lengths_.push_back(8);
  formats_.push_back(1);
  integers_.push_back(std::move(bytes));
}

void PgParams::Bytes(std::string_view v) {
  // libpq takes a null pointer for SQL NULL: an empty value needs another.
  values_.push_back(v.data() != nullptr ? v.data() : "");
  lengths_.push_back(static_cast<int>(v.size()));
  formats_.push_back(1);
}

void PgArray::Int8(int64_t v) {
  AppendInt32(&data_, 8);
  AppendInt64(&data_, v);
  ++count_;
}

void PgArray::Bytes(std::string_view v) {
  AppendInt32(&data_, static_cast<int32_t>(v.size()));
  data_.append(v.data(), v.size());
  ++count_;
}

std::string_view PgArray::Finish() {
  whole_.clear();
  // array_recv's format: dimensions, no-nulls flag, element type, each
  // dimension's size and lower bound, then the elements.
  AppendInt32(&whole_, count_ > 0 ? 1 : 0);
  AppendInt32(&whole_, 0);
  AppendInt32(&whole_,
              static_cast<int32_t>(type_ == Type::kInt8   ? kInt8Oid
                                   : type_ == Type::kText ? kTextOid
                                                          : kByteaOid));
  if (count_ > 0) {
    AppendInt32(&whole_, count_);
    AppendInt32(&whole_, 1);
  }
  whole_ += data_;
  return whole_;
}

void PgArray::Shrink(size_t bytes) {
  if (data_.capacity() > bytes) std::string().swap(data_);
  if (whole_.capacity() > bytes) std::string().swap(whole_);
}

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(
    const std::string& conninfo, const std::string& label,
    const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [k, v] : params) {
    keywords.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  // Last, so that what the conninfo says wins; expand_dbname makes libpq
  // read it as a whole conninfo.
  keywords.push_back("dbname");
  values.push_back(conninfo.c_str());
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keywords.data(), values.data(),
                                   /*expand_dbname=*/1);
  if (conn == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat(label, ": cannot connect: out of memory"));
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string reason(
        absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn)));
    PQfinish(conn);
    // Whether the server is down or refuses these credentials, the message
    // says; a server coming back is the common case.
    const bool denied = absl::StrContains(reason, "authentication failed") ||
                        absl::StrContains(reason, "permission denied");
    const std::string message =
        absl::StrCat(label, ": cannot connect: ", reason);
    if (denied) return absl::PermissionDeniedError(message);
    if (absl::StrContains(reason, "does not exist")) {
      return absl::NotFoundError(message);
    }
    return absl::UnavailableError(message);
  }
  // libpq prints the server's notices and warnings to stderr; the library
  // never writes there (what matters comes back in statuses).
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn, label));
}

absl::Status PgConnection::Error(const PGresult* result,
                                 absl::string_view what) {
  const char* state = result != nullptr
                          ? PQresultErrorField(result, PG_DIAG_SQLSTATE)
                          : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  const char* text = result != nullptr ? PQresultErrorMessage(result) : "";
  if (text == nullptr || text[0] == '\0') text = PQerrorMessage(conn_);
  std::string message = absl::StrCat(label_, ": cannot ", what, ": ",
                                     absl::StripTrailingAsciiWhitespace(text));
  if (!sqlstate.empty())
    absl::StrAppend(&message, " (SQLSTATE ", sqlstate, ")");
  // No SQLSTATE: libpq's own error, the connection failed.
  const bool lost = PQstatus(conn_) != CONNECTION_OK || sqlstate.empty();
  if (lost || SessionLost(sqlstate)) broken_ = true;
  if (lost || Transient(sqlstate)) return absl::UnavailableError(message);
  if (sqlstate == "42501") return absl::PermissionDeniedError(message);
  if (sqlstate == "3F000" || sqlstate == "42P01" || sqlstate == "3D000") {
    return absl::NotFoundError(message);
  }
  if (absl::StartsWith(sqlstate, "53")) {
    return absl::ResourceExhaustedError(message);
  }
  if (sqlstate == "23505") return absl::FailedPreconditionError(message);
  if (absl::StartsWith(sqlstate, "XX")) return absl::DataLossError(message);
  return absl::InternalError(message);
}

absl::StatusOr<PgResult> PgConnection::Check(PGresult* raw,
                                             absl::string_view what) {
  PgResult result(raw);
  const ExecStatusType status =
      raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  return Error(raw, what);
}

absl::StatusOr<PgResult> PgConnection::Exec(const std::string& sql,
                                            absl::string_view what) {
  return Check(PQexec(conn_, sql.c_str()), what);
}

absl::StatusOr<PgResult> PgConnection::Run(const char* name,
                                           const std::string& sql,
                                           const PgParams& params,
                                           absl::string_view what) {
  if (prepared_.count(name) == 0) {
    absl::StatusOr<PgResult> prepared =
        Check(PQprepare(conn_, name, sql.c_str(), 0, nullptr), what);
    if (!prepared.ok()) return prepared.status();
    prepared_.insert(name);
  }
  return Check(PQexecPrepared(conn_, name, params.size(), params.values(),
                              params.lengths(), params.formats(),
                              /*resultFormat=*/1),
               what);
}

absl::StatusOr<PgResult> PgConnection::RunText(
    const std::string& sql, const std::vector<const char*>& values,
    const std::atomic<bool>& cancelled, absl::string_view what) {
  if (PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                        nullptr, values.data(), nullptr, nullptr,
                        /*resultFormat=*/0) != 1) {
    return Error(nullptr, what);
  }
  bool cancel_sent = false;
  while (PQisBusy(conn_) == 1) {
    if (cancelled.load(std::memory_order_relaxed) && !cancel_sent) {
      cancel_sent = true;
      if (PGcancel* cancel = PQgetCancel(conn_); cancel != nullptr) {
        char error[256];
        PQcancel(cancel, error, sizeof(error));
        PQfreeCancel(cancel);
      }
    }
    pollfd fd{PQsocket(conn_), POLLIN, 0};
    // A signal to the host (EINTR) is no fault of the connection.
    const bool polled = fd.fd >= 0 && (poll(&fd, 1, 50) >= 0 || errno == EINTR);
    if (!polled || PQconsumeInput(conn_) != 1) {
      broken_ = true;
      return Error(nullptr, what);
    }
  }
  // The last result is the statement's; drain to leave the connection idle.
  PGresult* last = nullptr;
  while (PGresult* next = PQgetResult(conn_)) {
    PQclear(last);
    last = next;
  }
  return Check(last, what);
}

namespace {

// `text` between `quote`s, each `quote` in it doubled: SQL's rule for
// identifiers and (with standard_conforming_strings) for literals.
std::string Quote(std::string_view text, char quote) {
  std::string out(1, quote);
  for (char c : text) {
    if (c == quote) out += quote;
    out += c;
  }
  return out + quote;
}

}  // namespace

std::string QuoteIdentifier(std::string_view name) { return Quote(name, '"'); }
std::string QuoteLiteral(std::string_view text) { return Quote(text, '\''); }

}  // namespace landfall::internal
