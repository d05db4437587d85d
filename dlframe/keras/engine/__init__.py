"""Keras engine: Layer base, functional graphs, Model, Sequential, training loop."""
