"""Operation implementations; importing this package fills `registry.OPERATIONS`."""

from . import cameras, changes, history, measures, places, relations, routes, selection, views  # noqa: F401
