// Status propagation helpers. Debian's Abseil (20220623) predates absl's own public
// RETURN_IF_ERROR / ASSIGN_OR_RETURN, so the library carries these small equivalents.
#ifndef ANN_UTIL_STATUS_MACROS_H_
#define ANN_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define ANN_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status ann_status_ = (expr);       \
    if (!ann_status_.ok()) return ann_status_; \
  } while (0)

#define ANN_STATUS_CONCAT_INNER_(a, b) a##b
#define ANN_STATUS_CONCAT_(a, b) ANN_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, otherwise moves the
// value into `lhs` (which may be a declaration, e.g. `auto x`).
#define ANN_ASSIGN_OR_RETURN(lhs, rexpr) \
  ANN_ASSIGN_OR_RETURN_IMPL_(ANN_STATUS_CONCAT_(ann_statusor_, __LINE__), lhs, rexpr)

#define ANN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  if (!statusor.ok()) return statusor.status();          \
  lhs = std::move(statusor).value()

#endif  // ANN_UTIL_STATUS_MACROS_H_
