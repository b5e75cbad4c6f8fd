"""Operation implementations; importing this package fills `registry.OPERATIONS`."""

from . import cameras, measures, routes, selection, views  # noqa: F401
