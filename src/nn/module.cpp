#include "nn/module.h"

#include <unordered_set>

namespace tfm {

Var& Module::add_parameter(const std::string& name, Tensor value) {
  owned_.emplace_back(std::move(value), true);
  params_.push_back({name, &owned_.back()});
  return owned_.back();
}

void Module::share_parameter(const std::string& name, Var& shared) { params_.push_back({name, &shared}); }

void Module::add_child(const std::string& name, Module& child) { children_.push_back({name, &child}); }

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Var*>>& out) const {
  auto join = [&](const std::string& n) { return prefix.empty() ? n : n.empty() ? prefix : prefix + "." + n; };
  for (const auto& [n, v] : params_) out.push_back({join(n), v});
  for (const auto& [n, c] : children_) c->collect(join(n), out);
}

std::vector<std::pair<std::string, Var*>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Var*>> out;
  collect("", out);
  return out;
}

std::vector<Var*> Module::parameters() const {
  std::vector<Var*> out;
  std::unordered_set<const Node*> seen;
  for (auto& [n, v] : named_parameters())
    if (seen.insert(v->node().get()).second) out.push_back(v);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (Var* v : parameters()) n += v->value().numel();
  return n;
}

}  // namespace tfm
