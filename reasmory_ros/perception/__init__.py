"""Optional perception stages in front of the memory: instances, depth and pose from plain streams."""
