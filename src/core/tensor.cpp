#include "core/tensor.h"

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <cstring>
#include <new>
#include <sstream>

namespace tfm {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::BF16: return 2;
    case DType::I32: return 4;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F64: return "F64";
    case DType::BF16: return "BF16";
    case DType::I32: return "I32";
  }
  return "?";
}

std::string shape_str(const Shape& s) {
  std::ostringstream o;
  o << "(";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << ")";
  return o.str();
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    TFM_CHECK(d >= 0, "negative dimension in shape ", shape_str(s));
    n *= d;
  }
  return n;
}

namespace {
struct AlignedFree {
  void operator()(std::byte* p) const { std::free(p); }
};
constexpr size_t kAlign = 64;
}  // namespace

namespace {
// A training step allocates and frees the same large activation buffers every step. glibc
// serves blocks above its mmap threshold with fresh mappings, so each step paid page faults and
// kernel zeroing for all of them (8% of a step in a profile). Keeping large blocks on the heap,
// and not trimming it, lets freed buffers be reused: after the first steps there are no faults.
void keep_large_blocks_on_the_heap() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  });
}
}  // namespace

Tensor Tensor::empty(Shape shape, DType dtype) {
  keep_large_blocks_on_the_heap();
  Tensor t;
  t.numel_ = shape_numel(shape);
  t.shape_ = std::move(shape);
  t.dtype_ = dtype;
  size_t bytes = std::max<size_t>(kAlign, (t.nbytes() + kAlign - 1) / kAlign * kAlign);
  auto* p = static_cast<std::byte*>(std::aligned_alloc(kAlign, bytes));
  if (!p) throw std::bad_alloc();
  t.storage_ = std::shared_ptr<std::byte[]>(p, AlignedFree{});
  return t;
}

Tensor Tensor::zeros(Shape shape, DType dtype) {
  Tensor t = empty(std::move(shape), dtype);
  t.zero_();
  return t;
}

Tensor Tensor::full(Shape shape, double value, DType dtype) {
  Tensor t = empty(std::move(shape), dtype);
  switch (dtype) {
    case DType::F32: std::fill_n(t.data<float>(), t.numel(), static_cast<float>(value)); break;
    case DType::F64: std::fill_n(t.data<double>(), t.numel(), value); break;
    case DType::BF16: std::fill_n(t.data<bf16>(), t.numel(), bf16(static_cast<float>(value))); break;
    case DType::I32: std::fill_n(t.data<int32_t>(), t.numel(), static_cast<int32_t>(value)); break;
  }
  return t;
}

int64_t Tensor::dim(int i) const {
  int n = ndim();
  int j = i < 0 ? i + n : i;
  TFM_ASSERT(j >= 0 && j < n, "dim ", i, " of a tensor of shape ", shape_str(shape_));
  return shape_[j];
}

Tensor Tensor::reshape(Shape shape) const {
  TFM_ASSERT(shape_numel(shape) == numel_, "reshape ", shape_str(shape_), " -> ", shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  TFM_ASSERT(ndim() >= 1 && 0 <= begin && begin <= end && end <= shape_[0], "rows ", begin, ":", end,
             " of ", shape_str(shape_));
  Tensor t = *this;
  int64_t row = shape_[0] ? numel_ / shape_[0] : 0;
  t.offset_ += static_cast<size_t>(begin * row) * dtype_size(dtype_);
  t.shape_[0] = end - begin;
  t.numel_ = row * (end - begin);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, dtype_);
  if (nbytes()) std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return clone();
  Tensor t = empty(shape_, dtype);
  for (int64_t i = 0; i < numel_; ++i) {
    double v = item(i);
    switch (dtype) {
      case DType::F32: t.data<float>()[i] = static_cast<float>(v); break;
      case DType::F64: t.data<double>()[i] = v; break;
      case DType::BF16: t.data<bf16>()[i] = bf16(static_cast<float>(v)); break;
      case DType::I32: t.data<int32_t>()[i] = static_cast<int32_t>(v); break;
    }
  }
  return t;
}

void Tensor::zero_() {
  if (nbytes()) std::memset(raw(), 0, nbytes());
}

void Tensor::copy_from(const Tensor& other) {
  TFM_ASSERT(other.numel_ == numel_ && other.dtype_ == dtype_, "copy_from ", shape_str(other.shape_),
             " into ", shape_str(shape_));
  if (nbytes()) std::memmove(raw(), other.raw(), nbytes());
}

double Tensor::item(int64_t i) const {
  TFM_ASSERT(i >= 0 && i < numel_, "item ", i, " of ", numel_);
  switch (dtype_) {
    case DType::F32: return data<float>()[i];
    case DType::F64: return data<double>()[i];
    case DType::BF16: return static_cast<float>(data<bf16>()[i]);
    case DType::I32: return data<int32_t>()[i];
  }
  return 0;
}

void Tensor::check_dtype(DType want) const {
  TFM_ASSERT(want == dtype_, "tensor holds ", dtype_name(dtype_), ", accessed as ", dtype_name(want));
}

Tensor gather_rows(const Tensor& x, const std::vector<int64_t>& rows) {
  const int64_t C = x.dim(1);
  const size_t bytes = static_cast<size_t>(C) * dtype_size(x.dtype());
  Tensor out = Tensor::empty({static_cast<int64_t>(rows.size()), C}, x.dtype());
  const auto* from = static_cast<const char*>(x.raw());
  auto* to = static_cast<char*>(out.raw());
  for (size_t i = 0; i < rows.size(); ++i) {
    TFM_ASSERT(rows[i] >= 0 && rows[i] < x.dim(0), "gather_rows: row ", rows[i], " of ", x.dim(0));
    std::memcpy(to + i * bytes, from + rows[i] * bytes, bytes);
  }
  return out;
}

Tensor scatter_rows(const Tensor& packed, const std::vector<int64_t>& rows, int64_t n) {
  const int64_t C = packed.dim(1);
  const size_t bytes = static_cast<size_t>(C) * dtype_size(packed.dtype());
  TFM_ASSERT(static_cast<int64_t>(rows.size()) == packed.dim(0), "scatter_rows: ", rows.size(), " rows for ",
             packed.dim(0));
  Tensor out = Tensor::zeros({n, C}, packed.dtype());
  const auto* from = static_cast<const char*>(packed.raw());
  auto* to = static_cast<char*>(out.raw());
  for (size_t i = 0; i < rows.size(); ++i) {
    TFM_ASSERT(rows[i] >= 0 && rows[i] < n, "scatter_rows: row ", rows[i], " of ", n);
    std::memcpy(to + rows[i] * bytes, from + i * bytes, bytes);
  }
  return out;
}

}  // namespace tfm
