"""The only rclpy user: nodes, message conversions, markers and point clouds."""
