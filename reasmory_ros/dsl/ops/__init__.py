"""Operation implementations; importing this package fills `registry.OPERATIONS`."""

from . import cameras, changes, measures, routes, selection, views  # noqa: F401
