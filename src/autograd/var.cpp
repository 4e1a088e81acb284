#include "autograd/var.h"

#include <atomic>
#include <limits>
#include <unordered_set>

#include "core/error.h"

namespace tfm {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

Tensor& Node::grad_buffer() {
  if (!grad.defined()) grad = Tensor::zeros(value.shape(), value.dtype());
  return grad;
}

namespace {
std::atomic<bool> g_poison_claimed{false};
}
void set_poison_claimed_grads(bool on) { g_poison_claimed = on; }

bool Node::claim_grad() {
  if (grad.defined()) return false;
  grad = g_poison_claimed ? Tensor::full(value.shape(), std::numeric_limits<double>::quiet_NaN(), value.dtype())
                          : Tensor::empty(value.shape(), value.dtype());
  return true;
}

Var::Var(Tensor value, bool requires_grad) : node_(std::make_shared<Node>()) {
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
}

Var Var::make(Tensor value, const char* op, std::vector<Var> inputs,
              std::function<void(Node&)> backward) {
  Var out(std::move(value));
  out.node_->op = op;
  bool needs = false;
  if (g_grad_enabled)
    for (const Var& in : inputs) needs = needs || in.requires_grad();
  if (!needs) return out;
  out.node_->requires_grad = true;
  for (Var& in : inputs)
    if (in.defined()) out.node_->inputs.push_back(in.node_);
  out.node_->backward = std::move(backward);
  return out;
}

void Var::backward() {
  TFM_ASSERT(node_ && node_->value.numel() == 1, "backward() starts from a single-element value");
  if (!node_->requires_grad) return;
  // Reverse topological order by an iterative depth-first search (no recursion: deep models).
  // `order` owns its nodes: freeing a node's inputs below must not free a node still to run.
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{node_, 0}};
  seen.insert(node_.get());
  while (!stack.empty()) {
    auto& [n, i] = stack.back();
    if (i < n->inputs.size()) {
      std::shared_ptr<Node> child = n->inputs[i++];
      if (child->requires_grad && seen.insert(child.get()).second) stack.push_back({child, 0});
    } else {
      order.push_back(n);
      stack.pop_back();
    }
  }
  Tensor& g = node_->grad_buffer();
  Tensor one = Tensor::full(g.shape(), 1.0, g.dtype());
  g.copy_from(one);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* n = it->get();
    if (n->inputs.empty()) continue;  // a leaf: its gradient is the result
    if (!n->backward) throw InternalError(std::string("op '") + n->op + "' has no backward");
    n->grad_buffer();
    n->backward(*n);
    // The graph is used once: free what this node held for the backward, and its gradient.
    n->backward = nullptr;
    n->inputs.clear();
    n->grad = Tensor();
  }
}

}  // namespace tfm
