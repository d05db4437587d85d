"""``keras.export``: Keras 3's ``ExportArchive``, a SavedModel of chosen endpoints.

The archive is written with ``tf.saved_model.save`` (dlframe's by-value layout, see
``dlframe.keras.saving.object_io``): ``tf.saved_model.load(path)`` returns an object
with one attribute per endpoint and per variable collection, and a ``signatures``
mapping (the first endpoint is also ``serving_default``).
"""

from dlframe.core.function import Function, function
from dlframe.core.module import Module
from dlframe.core.variable import Variable
from dlframe.keras.engine.base_layer import Layer


class _ExportedArtifact(Module):
    """The object an ``ExportArchive`` saves: tracked resources, endpoints and
    variable collections as attributes."""


class ExportArchive:
    """Collects resources and endpoints, then writes them as a SavedModel.

    Example:
      ```python
      archive = keras.export.ExportArchive()
      archive.track(model)
      archive.add_endpoint("serve", model.call,
                           input_signature=[tf.TensorSpec((None, 4), tf.float32)])
      archive.write_out("path")
      tf.saved_model.load("path").serve(x)
      ```
    """

    def __init__(self):
        self._resources = []
        self._endpoints = {}
        self._collections = {}

    def track(self, resource):
        """Tracks a Keras ``Layer``/``Model`` or a ``tf.Module`` so that its
        variables are saved with the endpoints that use it.

        Args:
          resource: the layer, model or module.

        Raises:
          ValueError: ``resource`` is not a layer or module.
        """
        if not isinstance(resource, (Layer, Module)):
            raise ValueError(  # noqa: TRY004 - TF raises ValueError here
                "Invalid resource type. Expected a Keras `Layer` or `Model` or a "
                f"TensorFlow `Trackable` object. Received object {resource!r} of type "
                f"'{type(resource)}'.")
        if isinstance(resource, Layer) and not resource.built:
            raise ValueError("The layer provided has not yet been built. It must be "
                             f"built before export. Received: resource={resource!r}")
        if not any(r is resource for r in self._resources):
            self._resources.append(resource)

    def _check_name(self, name):
        if name in self._endpoints or name in self._collections:
            raise ValueError(f"Endpoint name '{name}' is already taken.")

    def add_endpoint(self, name, fn, input_signature=None, **kwargs):
        """Adds the function ``fn`` as the endpoint ``name``.

        Args:
          name: the attribute (and signature key) of the loaded artifact.
          fn: a callable on tensors (often ``model.call``), or a ``tf.function``
            that has an input signature.
          input_signature: a list of ``tf.TensorSpec`` (or ``keras.InputSpec``)
            describing ``fn``'s positional arguments; required unless ``fn`` is a
            ``tf.function`` with one.
          **kwargs: backend-specific export options, ignored.

        Returns:
          The ``tf.function`` stored as the endpoint.

        Raises:
          ValueError: the name is taken, or no input signature is known.
        """
        self._check_name(name)
        if isinstance(fn, Function):
            if input_signature is None and fn.input_signature is None:
                raise ValueError(
                    "The `tf.function` provided as `fn` has no input signature: pass "
                    f"`input_signature` for endpoint '{name}'.")
            if input_signature is not None:
                fn = function(fn.python_function, input_signature=_specs(
                    input_signature))
        else:
            if input_signature is None:
                raise ValueError(
                    "If the `fn` argument provided is not a `tf.function`, you must "
                    "provide an `input_signature` argument to specify the shape and "
                    f"dtype of the function arguments. Received: fn={fn!r}")
            fn = function(fn, input_signature=_specs(input_signature))
        self._endpoints[name] = fn
        return fn

    def track_and_add_endpoint(self, name, resource, input_signature, **kwargs):
        """``track(resource)`` then ``add_endpoint(name, resource.__call__, ...)``."""
        self.track(resource)
        return self.add_endpoint(name, resource.__call__, input_signature, **kwargs)

    def add_variable_collection(self, name, variables):
        """Stores ``variables`` (a list or dict of ``tf.Variable``) as the attribute
        ``name`` of the loaded artifact.

        Raises:
          ValueError: the name is taken, or an element is not a Variable.
        """
        self._check_name(name)
        values = variables.values() if isinstance(variables, dict) else variables
        for v in values:
            if not isinstance(v, Variable):
                raise ValueError(  # noqa: TRY004 - TF raises ValueError here
                    "Expected all elements in `variables` to be `tf.Variable` "
                    f"instances. Found instead the following types: {type(v)}")
        self._collections[name] = (dict(variables) if isinstance(variables, dict)
                                   else list(variables))

    def write_out(self, filepath, options=None, verbose=True):
        """Writes the archive as a SavedModel directory at ``filepath``.

        Args:
          filepath: the directory to write.
          options: accepted for compatibility (``tf.saved_model.SaveOptions``).
          verbose: print the endpoints written.

        Raises:
          ValueError: no endpoint was added.
        """
        from dlframe import saved_model
        if not self._endpoints:
            raise ValueError("No endpoints have been set yet. Call add_endpoint().")
        artifact = _ExportedArtifact()
        artifact._tracked_resources = list(self._resources)
        for name, fn in self._endpoints.items():
            setattr(artifact, name, fn)
        for name, variables in self._collections.items():
            setattr(artifact, name, variables)
        first = next(iter(self._endpoints))
        signatures = {**self._endpoints, "serving_default": self._endpoints[first]}
        saved_model.save(artifact, filepath, signatures=signatures, options=options)
        if verbose:
            lines = "\n".join(f"* Endpoint '{n}'\n  inputs: {f.input_signature}"
                              for n, f in self._endpoints.items())
            print(f"Saved artifact at '{filepath}'. The following endpoints are "
                  f"available:\n\n{lines}\n")


def _specs(input_signature):
    """``input_signature`` as ``tf.TensorSpec``s (``keras.InputSpec`` converted)."""
    from dlframe.core.tensor_spec import TensorSpec
    specs = list(input_signature) if isinstance(input_signature, (list, tuple)) \
        else [input_signature]
    out = []
    for spec in specs:
        if not isinstance(spec, TensorSpec) and hasattr(spec, "shape"):
            spec = TensorSpec(spec.shape, getattr(spec, "dtype", None) or "float32")
        out.append(spec)
    return out


__all__ = ["ExportArchive"]
