"""Keras training API mixed into ``keras.Model``: compile/fit/evaluate/predict (issue 4)."""


class TrainingMixin:
    """compile/fit/evaluate/predict and the overridable train/test/predict steps."""
