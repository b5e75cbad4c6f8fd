"""Question -> validated DSL program: rule-based, local transformers and remote planners (no ROS)."""
