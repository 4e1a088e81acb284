// The 1D convolution kernel ("same" padding, odd width) against the definition written as a
// naive loop, in float and double, over shapes where the kernel is wider than the sequence; its
// backward against central finite differences in double; the accumulation rule; the padding
// (a pure shift tap moves rows and lets zeros in); and the refusal of even widths.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "kernels/conv1d.h"

namespace tfm {
namespace {

using kernels::Conv1dDims;

template <class T>
std::vector<T> randn(int64_t n, Rng& rng) {
  std::vector<T> v(static_cast<size_t>(n));
  for (T& x : v) x = static_cast<T>(rng.normal());
  return v;
}

// The definition: out[b,t,oc] = bias[oc] + sum_j sum_c w[j,oc,c] * x[b, t + j - KW/2, c],
// x = 0 outside [0, T). Accumulated in double whatever T is.
template <class T>
std::vector<T> naive_conv1d(const Conv1dDims& d, const std::vector<T>& x, const std::vector<T>& w,
                            const std::vector<T>* bias) {
  std::vector<T> out(static_cast<size_t>(d.B * d.T * d.OC));
  for (int64_t b = 0; b < d.B; ++b)
    for (int64_t t = 0; t < d.T; ++t)
      for (int64_t oc = 0; oc < d.OC; ++oc) {
        double s = bias ? static_cast<double>((*bias)[oc]) : 0.0;
        for (int64_t j = 0; j < d.KW; ++j) {
          const int64_t src = t + j - d.KW / 2;
          if (src < 0 || src >= d.T) continue;
          for (int64_t c = 0; c < d.C; ++c)
            s += static_cast<double>(w[(j * d.OC + oc) * d.C + c]) *
                 static_cast<double>(x[(b * d.T + src) * d.C + c]);
        }
        out[(b * d.T + t) * d.OC + oc] = static_cast<T>(s);
      }
  return out;
}

std::string dims_str(const Conv1dDims& d) {
  return "B=" + std::to_string(d.B) + " T=" + std::to_string(d.T) + " C=" + std::to_string(d.C) +
         " OC=" + std::to_string(d.OC) + " KW=" + std::to_string(d.KW);
}

// Shapes: kernel of width 1 (a Linear), wider than the sequence, T = 1, sizes large enough that
// the float path goes through oneDNN (M*N*K > 32^3) and small ones that take the plain loop.
std::vector<Conv1dDims> shapes() {
  return {{1, 7, 3, 5, 1},  {2, 9, 4, 3, 3},  {1, 5, 2, 2, 7},    {3, 1, 3, 4, 5},
          {2, 4, 3, 3, 9},  {1, 64, 48, 40, 3}, {2, 50, 64, 64, 5}, {1, 33, 17, 29, 11}};
}

template <class T>
void check_forward_against_naive(double atol, double rtol) {
  Rng rng(7);
  for (const Conv1dDims& d : shapes()) {
    for (bool with_bias : {true, false}) {
      auto x = randn<T>(d.B * d.T * d.C, rng), w = randn<T>(d.KW * d.OC * d.C, rng);
      auto bias = randn<T>(d.OC, rng);
      std::vector<T> out(static_cast<size_t>(d.B * d.T * d.OC), T(-99));  // overwritten, not added to
      kernels::conv1d_forward<T>(d, x.data(), w.data(), with_bias ? bias.data() : nullptr, out.data());
      auto ref = naive_conv1d<T>(d, x, w, with_bias ? &bias : nullptr);
      double worst = 0, worst_excess = -1;
      for (size_t i = 0; i < ref.size(); ++i) {
        const double diff = std::abs(double(out[i]) - double(ref[i]));
        worst = std::max(worst, diff);
        worst_excess = std::max(worst_excess, diff - (atol + rtol * std::abs(double(ref[i]))));
      }
      std::printf("  %s bias=%d: largest |kernel - naive| = %.3g\n", dims_str(d).c_str(), with_bias, worst);
      EXPECT_LE(worst_excess, 0.0) << dims_str(d) << " bias=" << with_bias << ": largest difference " << worst;
    }
  }
}

TEST(KernelsConv1d, ForwardEqualsTheNaiveLoopInDouble) { check_forward_against_naive<double>(1e-12, 1e-12); }

TEST(KernelsConv1d, ForwardEqualsTheNaiveLoopInFloat) { check_forward_against_naive<float>(1e-5, 1e-5); }

TEST(KernelsConv1d, ShiftTapMovesRowsAndPadsWithZeros) {
  // KW = 5, only tap j = 0 (offset -2) is the identity: out[t] = x[t - 2], zeros for t < 2.
  // And only tap j = 4 (offset +2): out[t] = x[t + 2], zeros for the last two rows.
  const Conv1dDims d{1, 6, 2, 2, 5};
  std::vector<double> x(12);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i + 1);
  for (int64_t tap : {0, 4}) {
    std::vector<double> w(static_cast<size_t>(d.KW * d.OC * d.C), 0.0);
    w[(tap * d.OC + 0) * d.C + 0] = 1.0;
    w[(tap * d.OC + 1) * d.C + 1] = 1.0;
    std::vector<double> out(12);
    kernels::conv1d_forward<double>(d, x.data(), w.data(), nullptr, out.data());
    const int64_t s = tap - d.KW / 2;
    for (int64_t t = 0; t < d.T; ++t)
      for (int64_t c = 0; c < d.C; ++c) {
        const int64_t src = t + s;
        const double want = (src >= 0 && src < d.T) ? x[src * d.C + c] : 0.0;
        EXPECT_EQ(out[t * d.C + c], want) << "tap " << tap << " t " << t << " c " << c;
      }
  }
}

TEST(KernelsConv1d, BackwardMatchesFiniteDifferences) {
  // L = sum(out * g) for a fixed random g: dL/dx, dL/dw, dL/dbias against central differences,
  // |analytic - numeric| <= 1e-6 + 1e-5 * |numeric| (the project's gradcheck tolerance).
  Rng rng(11);
  for (const Conv1dDims& d : std::vector<Conv1dDims>{{2, 7, 3, 4, 3}, {1, 4, 2, 3, 7}, {2, 5, 3, 2, 1}}) {
    auto x = randn<double>(d.B * d.T * d.C, rng), w = randn<double>(d.KW * d.OC * d.C, rng);
    auto bias = randn<double>(d.OC, rng), g = randn<double>(d.B * d.T * d.OC, rng);
    auto loss = [&]() {
      std::vector<double> out(g.size());
      kernels::conv1d_forward<double>(d, x.data(), w.data(), bias.data(), out.data());
      double s = 0;
      for (size_t i = 0; i < out.size(); ++i) s += out[i] * g[i];
      return s;
    };
    std::vector<double> dx(x.size(), 0.0), dw(w.size(), 0.0), db(bias.size(), 0.0);
    kernels::conv1d_backward<double>(d, x.data(), w.data(), g.data(), dx.data(), dw.data(), db.data());
    double worst = 0;
    auto check = [&](const char* name, std::vector<double>& p, const std::vector<double>& analytic) {
      for (size_t i = 0; i < p.size(); ++i) {
        const double keep = p[i], h = 1e-6;
        p[i] = keep + h;
        const double up = loss();
        p[i] = keep - h;
        const double down = loss();
        p[i] = keep;
        const double numeric = (up - down) / (2 * h), diff = std::abs(analytic[i] - numeric);
        worst = std::max(worst, diff);
        EXPECT_LE(diff, 1e-6 + 1e-5 * std::abs(numeric))
            << dims_str(d) << " d" << name << "[" << i << "]: analytic " << analytic[i] << " numeric " << numeric;
      }
    };
    check("x", x, dx);
    check("w", w, dw);
    check("bias", bias, db);
    std::printf("  %s: largest |analytic - numeric| = %.3g\n", dims_str(d).c_str(), worst);
  }
}

TEST(KernelsConv1d, BackwardAccumulatesAndSkipsNullGradients) {
  // The project's rule (kernels/dims.h): gradients are added to what is there. Two calls give
  // twice one call; a null pointer means "not wanted" and the others are unchanged by it.
  const Conv1dDims d{2, 6, 3, 4, 3};
  Rng rng(3);
  auto x = randn<double>(d.B * d.T * d.C, rng), w = randn<double>(d.KW * d.OC * d.C, rng);
  auto g = randn<double>(d.B * d.T * d.OC, rng);
  std::vector<double> dx1(x.size(), 0.0), dw1(w.size(), 0.0), db1(d.OC, 0.0);
  kernels::conv1d_backward<double>(d, x.data(), w.data(), g.data(), dx1.data(), dw1.data(), db1.data());
  std::vector<double> dx2(x.size(), 0.0), dw2(w.size(), 0.0), db2(d.OC, 0.0);
  kernels::conv1d_backward<double>(d, x.data(), w.data(), g.data(), dx2.data(), dw2.data(), db2.data());
  kernels::conv1d_backward<double>(d, x.data(), w.data(), g.data(), dx2.data(), dw2.data(), db2.data());
  std::vector<double> dx_only(x.size(), 0.0);
  kernels::conv1d_backward<double>(d, x.data(), w.data(), g.data(), dx_only.data(), nullptr, nullptr);
  for (size_t i = 0; i < dx1.size(); ++i) {
    EXPECT_NEAR(dx2[i], 2 * dx1[i], 1e-12) << "dx[" << i << "]";
    EXPECT_EQ(dx_only[i], dx1[i]) << "dx[" << i << "] without dw, dbias";
  }
  for (size_t i = 0; i < dw1.size(); ++i) EXPECT_NEAR(dw2[i], 2 * dw1[i], 1e-12) << "dw[" << i << "]";
  for (size_t i = 0; i < db1.size(); ++i) EXPECT_NEAR(db2[i], 2 * db1[i], 1e-12) << "dbias[" << i << "]";
}

TEST(KernelsConv1d, EvenOrZeroKernelWidthIsRefused) {
  std::vector<float> x(8, 1.f), w(16, 1.f), out(8);
  for (int64_t kw : {2, 4, 0}) {
    const Conv1dDims d{1, 4, 2, 2, kw};
    try {
      kernels::conv1d_forward<float>(d, x.data(), w.data(), nullptr, out.data());
      ADD_FAILURE() << "KW=" << kw << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("odd kernel width, got " + std::to_string(kw)), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace tfm
