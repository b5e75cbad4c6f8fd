"""What the memory looks like, without ROS: marker, cloud and path descriptions that the node turns
into rclpy messages and the replay recorder into rosbags messages, so both show the same thing."""
