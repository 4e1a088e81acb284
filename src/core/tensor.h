// Tensor: a dense, contiguous, row-major array with shared, 64-byte-aligned storage.
// Views (reshape, rows) share storage; clone() copies. Element types: f32 (the default),
// f64 (gradient checks run in double), bf16 (mixed precision), i32 (token ids).
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/bf16.h"
#include "core/error.h"

namespace tfm {

enum class DType : uint8_t { F32, F64, BF16, I32 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<bf16>() { return DType::BF16; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);

class Tensor {
 public:
  Tensor() = default;
  static Tensor empty(Shape shape, DType dtype = DType::F32);
  static Tensor zeros(Shape shape, DType dtype = DType::F32);
  static Tensor full(Shape shape, double value, DType dtype = DType::F32);
  template <class T>
  static Tensor from_vector(const std::vector<T>& v, Shape shape) {
    Tensor t = empty(std::move(shape), dtype_of<T>());
    TFM_CHECK(static_cast<int64_t>(v.size()) == t.numel(), "from_vector: ", v.size(),
              " values for shape ", shape_str(t.shape()));
    std::copy(v.begin(), v.end(), t.data<T>());
    return t;
  }

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const;  // negative counts from the end
  int64_t numel() const { return numel_; }
  DType dtype() const { return dtype_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }

  template <class T> T* data() {
    check_dtype(dtype_of<T>());
    return reinterpret_cast<T*>(raw());
  }
  template <class T> const T* data() const {
    check_dtype(dtype_of<T>());
    return reinterpret_cast<const T*>(raw());
  }
  void* raw() { return storage_.get() + offset_; }
  const void* raw() const { return storage_.get() + offset_; }

  // Same storage, new shape (numel must agree).
  Tensor reshape(Shape shape) const;
  // Rows [begin, end) of the first dimension, sharing storage.
  Tensor rows(int64_t begin, int64_t end) const;
  Tensor clone() const;
  // Converted copy (float <-> double <-> bf16).
  Tensor to(DType dtype) const;
  void zero_();
  void copy_from(const Tensor& other);  // same numel and dtype
  // Element i converted to double (tests and printing; not for hot loops).
  double item(int64_t i = 0) const;

 private:
  void check_dtype(DType want) const;
  std::shared_ptr<std::byte[]> storage_;
  size_t offset_ = 0;
  Shape shape_;
  int64_t numel_ = 0;
  DType dtype_ = DType::F32;
};

// Rows `rows` of a (n, C) tensor as a new (rows.size(), C) one; scatter_rows is the inverse, into
// a zero (n, C) tensor. Any dtype. (Inference skips padding positions with these.)
Tensor gather_rows(const Tensor& x, const std::vector<int64_t>& rows);
Tensor scatter_rows(const Tensor& packed, const std::vector<int64_t>& rows, int64_t n);

// Calls f.template operator()<T>() with T the C++ type of a floating dtype (float or double).
// The kernels are templates over the scalar type; this is the one switch that picks them.
template <class F>
decltype(auto) dispatch_float(DType t, F&& f) {
  switch (t) {
    case DType::F32: return f.template operator()<float>();
    case DType::F64: return f.template operator()<double>();
    default: break;
  }
  throw Error(std::string("expected a float32 or float64 tensor, got ") + dtype_name(t));
}

}  // namespace tfm
