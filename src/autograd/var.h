// Reverse-mode automatic differentiation on a tape built as the forward runs.
// A Var is a handle to a Node: its value, its gradient and, for an op's result, the op's inputs
// and backward. Ops (autograd/ops.h) register forward and backward together. backward() runs the
// nodes in reverse topological order; every backward ACCUMULATES into its inputs' gradients
// (kernels/dims.h states the rule), except that a backward which writes every element of an
// input's gradient and reaches it first may write instead of adding (claim_grad): no zero fill.
// A graph is used once: backward frees it as it goes.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace tfm {

struct Node {
  Tensor value;
  Tensor grad;  // allocated on first use
  bool requires_grad = false;
  const char* op = "leaf";
  std::vector<std::shared_ptr<Node>> inputs;
  std::function<void(Node&)> backward;  // reads this->grad, accumulates into inputs' grads

  // The gradient to add (+=) into, zero-filled when it is first asked for.
  Tensor& grad_buffer();
  // For a backward that will write EVERY element of this gradient: true when no gradient exists
  // yet, after allocating it uninitialised (the caller must write, not add: the saving is the
  // zero fill); false when earlier backwards have added to it (the caller adds as usual).
  bool claim_grad();
};

class Var {
 public:
  Var() = default;
  explicit Var(Tensor value, bool requires_grad = false);

  bool defined() const { return node_ != nullptr; }
  const Tensor& value() const { return node_->value; }
  Tensor& value() { return node_->value; }
  // The gradient; undefined until a backward reached this Var.
  const Tensor& grad() const { return node_->grad; }
  // A Var is a handle: the gradient buffer is shared state of the node, reachable from a const handle.
  Tensor& grad_buffer() const { return node_->grad_buffer(); }
  bool claim_grad() const { return node_->claim_grad(); }
  void zero_grad() { node_->grad = Tensor(); }
  bool requires_grad() const { return node_ && node_->requires_grad; }
  const Shape& shape() const { return node_->value.shape(); }
  DType dtype() const { return node_->value.dtype(); }
  const char* op() const { return node_->op; }
  const std::shared_ptr<Node>& node() const { return node_; }

  // Seeds d(this)/d(this) = 1 (this must hold one element) and runs the tape backwards.
  void backward();

  // Builds an op's result: records inputs and backward only when grad mode is on and some
  // input requires a gradient; otherwise the result is a plain value (inference keeps no tape).
  static Var make(Tensor value, const char* op, std::vector<Var> inputs,
                  std::function<void(Node&)> backward);

 private:
  std::shared_ptr<Node> node_;
};

// For tests: while on, every gradient Node::claim_grad allocates is filled with NaN, so a backward
// that claims a gradient and then leaves part of it unwritten yields NaN. Off by default.
void set_poison_claimed_grads(bool on);

// Grad mode (thread-local): NoGradGuard turns recording off in a scope (inference, decoding).
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace tfm
