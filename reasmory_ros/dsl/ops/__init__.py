"""Operation implementations; importing this package fills `registry.OPERATIONS`."""

from . import (  # noqa: F401
    camera_relations,
    cameras,
    changes,
    history,
    measures,
    places,
    relations,
    routes,
    selection,
    views,
)
