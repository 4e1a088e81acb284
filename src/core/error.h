// Two kinds of failure, as in PyTorch's c10/util/Exception.h:
//   tfm::Error          bad input from the user: says what was expected and what came;
//   tfm::InternalError  a broken invariant inside the library (a bug).
// Both throw; only apps/ turns them into exit codes.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace tfm {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {
template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream s;
  (s << ... << args);
  return s.str();
}
}  // namespace detail

}  // namespace tfm

// TFM_CHECK(cond, parts...): user-facing check; the parts are streamed into the message.
#define TFM_CHECK(cond, ...) \
  do {                       \
    if (!(cond)) throw ::tfm::Error(::tfm::detail::concat(__VA_ARGS__)); \
  } while (0)

// TFM_ASSERT(cond, parts...): internal invariant; names the file and line.
#define TFM_ASSERT(cond, ...)                                                                  \
  do {                                                                                         \
    if (!(cond))                                                                               \
      throw ::tfm::InternalError(::tfm::detail::concat(__FILE__, ":", __LINE__, ": internal: ", \
                                                       #cond, " ", ##__VA_ARGS__));            \
  } while (0)
