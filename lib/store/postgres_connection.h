// One libpq connection as the PostgreSQL store uses it: statements with
// binary parameters and results, prepared once per connection, and libpq's
// errors as statuses (Unavailable for everything a reconnect may cure).
#pragma once

#include <libpq-fe.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace landfall::internal {

// The conninfo (URI or key=value) as key=value pairs without the password,
// for messages; a generic text when libpq cannot parse it (its own message
// may quote the password).
std::string RedactConninfo(const std::string& conninfo);

// A PGresult, cleared on destruction.
class PgResult {
 public:
  explicit PgResult(PGresult* result = nullptr) : result_(result) {}
  PgResult(PgResult&& other) noexcept : result_(other.release()) {}
  PgResult& operator=(PgResult&& other) noexcept;
  ~PgResult() { PQclear(result_); }

  PGresult* get() const { return result_; }
  PGresult* release();
  int rows() const { return PQntuples(result_); }
  bool null(int row, int col) const {
    return PQgetisnull(result_, row, col) == 1;
  }
  // A binary column's bytes (bytea, text).
  std::string_view bytes(int row, int col) const {
    return std::string_view(PQgetvalue(result_, row, col),
                            PQgetlength(result_, row, col));
  }
  // A binary int8 or int4 column.
  int64_t integer(int row, int col) const;

 private:
  PGresult* result_;
};

// Parameters in binary format. Views into the values: they must outlive the
// statement.
class PgParams {
 public:
  void Int8(int64_t v);
  // bytea or text.
  void Bytes(std::string_view v);
  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<std::unique_ptr<char[]>> integers_;
};

// Builds a one-dimensional binary array (int8[], text[], bytea[]) for
// unnest: many rows in one parameter.
class PgArray {
 public:
  enum class Type { kInt8, kText, kBytea };
  explicit PgArray(Type type) : type_(type) {}
  void Clear() {
    data_.clear();
    count_ = 0;
  }
  void Int8(int64_t v);
  void Bytes(std::string_view v);
  // The array's bytes; valid until the next change.
  std::string_view Finish();
  // Frees its buffers when they grew past `bytes`.
  void Shrink(size_t bytes);

 private:
  Type type_;
  std::string data_;  // The elements, each a length and its bytes.
  std::string whole_;
  int count_ = 0;
};

class PgConnection {
 public:
  // `label` starts every error message (the redacted conninfo and schema).
  // `params` are extra connection keywords and values (before the conninfo,
  // which overrides them).
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(
      const std::string& conninfo, const std::string& label,
      const std::vector<std::pair<std::string, std::string>>& params);
  ~PgConnection() { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  PGconn* get() { return conn_; }
  const std::string& label() const { return label_; }
  // Whether the session is of no more use: the connection is gone, or a
  // failover left it on a read-only standby; a new one is needed.
  bool broken() const { return broken_ || PQstatus(conn_) != CONNECTION_OK; }

  // Runs `sql` (one or more statements, no parameters); the last result.
  absl::StatusOr<PgResult> Exec(const std::string& sql, absl::string_view what);
  // Runs the statement named `name`, preparing it from `sql` on first use
  // on this connection; results in binary.
  absl::StatusOr<PgResult> Run(const char* name, const std::string& sql,
                               const PgParams& params, absl::string_view what);

  // Runs one statement with text parameters (null-terminated values),
  // waiting on the socket so that `cancelled` turning true sends PQcancel
  // (checked every 50 ms); results in text.
  absl::StatusOr<PgResult> RunText(const std::string& sql,
                                   const std::vector<const char*>& values,
                                   const std::atomic<bool>& cancelled,
                                   absl::string_view what);

  // The status of a failed call: the message names `what`, and the code
  // says whether retrying after a reconnect may work (Unavailable).
  absl::Status Error(const PGresult* result, absl::string_view what);

 private:
  PgConnection(PGconn* conn, std::string label)
      : conn_(conn), label_(std::move(label)) {}
  absl::StatusOr<PgResult> Check(PGresult* result, absl::string_view what);

  PGconn* conn_;
  const std::string label_;
  bool broken_ = false;
  std::set<std::string> prepared_;
};

// A SQL identifier quoted for the statement text ("my schema" -> "\"my
// schema\"").
std::string QuoteIdentifier(std::string_view name);
// A SQL string literal ('it''s').
std::string QuoteLiteral(std::string_view text);

}  // namespace landfall::internal
