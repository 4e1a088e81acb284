// The message of the tfm::Error that f throws, for tests that check what an error says.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"

namespace tfm::testing {

template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const tfm::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a tfm::Error, but nothing was thrown";
  return {};
}

}  // namespace tfm::testing
