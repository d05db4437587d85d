"""A layer's place in functional graphs: ``input``/``output``, their shapes and the
inbound/outbound nodes (mixed into ``Layer``)."""

from dlframe.core.tensor_shape import TensorShape
from dlframe.keras.utils import tree


class LayerNodesMixin:
    """``input``, ``output``, ``input_shape``, ``output_shape`` and the nodes."""

    # -- nodes: input/output of the functional graph ---------------------------
    def _node_attr(self, attr, what):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} is not connected, no {what} to "
                                 "return.")
        # a shared layer reports its first call, as in Keras 3 (Keras 2 refused)
        return getattr(self._inbound_nodes[0], attr)

    @property
    def input(self):
        return self._node_attr("input_tensors", "input")

    @property
    def output(self):
        return self._node_attr("output_tensors", "output")

    def get_input_at(self, node_index):
        return self._inbound_nodes[node_index].input_tensors

    def get_output_at(self, node_index):
        return self._inbound_nodes[node_index].output_tensors

    @property
    def input_shape(self):
        if not self._inbound_nodes and self._build_input_shape is not None:
            return _as_tuple_shapes(self._build_input_shape)
        return _as_tuple_shapes(tree.map_structure(lambda k: k.shape, self.input))

    @property
    def output_shape(self):
        if not self._inbound_nodes:
            raise AttributeError(f"The layer \"{self.name}\" has never been called and "
                                 "thus has no defined output shape.")
        shapes = {repr(_as_tuple_shapes(tree.map_structure(lambda k: k.shape,
                                                           n.output_tensors)))
                  for n in self._inbound_nodes}
        if len(shapes) > 1:
            raise AttributeError(f'The layer "{self.name}" has multiple inbound nodes, '
                                 "with different output shapes.")
        return _as_tuple_shapes(tree.map_structure(lambda k: k.shape, self.output))

    @property
    def inbound_nodes(self):
        return self._inbound_nodes

    @property
    def outbound_nodes(self):
        return self._outbound_nodes


def _as_tuple_shapes(shapes):
    if isinstance(shapes, TensorShape):
        return tuple(shapes.as_list()) if shapes.rank is not None else None
    if isinstance(shapes, (list, tuple)):
        return [_as_tuple_shapes(s) for s in shapes]
    if isinstance(shapes, dict):
        return {k: _as_tuple_shapes(v) for k, v in shapes.items()}
    return shapes

