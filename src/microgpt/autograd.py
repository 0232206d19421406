"""Lines 29-72: a scalar that remembers how it was made, so the chain rule can run backwards through it."""

import math


class Value:
    """One scalar node of the computation graph: its data, its gradient, its children and local derivatives."""

    __slots__ = ("data", "grad", "_children", "_local_grads")  # Python optimization for memory usage

    def __init__(self, data, children=(), local_grads=()):
        self.data = data  # scalar value of this node calculated during forward pass
        self.grad = 0  # derivative of the loss w.r.t. this node, calculated in backward pass
        self._children = children  # children of this node in the computation graph
        self._local_grads = local_grads  # local derivative of this node w.r.t. its children

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, other): return Value(self.data**other, (self,), (other * self.data**(other - 1),))
    def log(self): return Value(math.log(self.data), (self,), (1 / self.data,))
    def exp(self): return Value(math.exp(self.data), (self,), (math.exp(self.data),))
    def relu(self): return Value(max(0, self.data), (self,), (float(self.data > 0),))
    def __neg__(self): return self * -1
    def __radd__(self, other): return self + other
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)
    def __rmul__(self, other): return self * other
    def __truediv__(self, other): return self * other**-1
    def __rtruediv__(self, other): return other * self**-1

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def backward(self):
        """Seed d(self)/d(self) = 1, then push gradients from each node to its children, outputs first."""
        topo = topological_order(self)
        self.grad = 1
        for v in reversed(topo):
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad


def topological_order(root: Value) -> list[Value]:
    """Every node below root, children before parents.

    The original's recursive `build_topo` (lines 62-67), written with an explicit stack so deep graphs
    cannot hit Python's recursion limit. It visits nodes in exactly the same order, so gradients are
    accumulated in the same order and come out bit-identical.
    """
    topo = []
    visited = {root}
    stack = [(root, iter(root._children))]  # the path from root to the node being visited
    while stack:
        v, children = stack[-1]
        for child in children:
            if child not in visited:
                visited.add(child)
                stack.append((child, iter(child._children)))
                break
        else:  # all children done: v is finished, as when build_topo(v) returns
            stack.pop()
            topo.append(v)
    return topo
