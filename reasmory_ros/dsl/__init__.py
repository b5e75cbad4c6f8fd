"""The spatial DSL: grammar, parser, validator and interpreter (no ROS)."""
