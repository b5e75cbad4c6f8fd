"""Replay a rosbag2 recording into the node with simulated time:

    ros2 launch reasmory_ros replay.launch.py bag:=/path/to/bag rate:=1.0 rviz:=true

The node (reasmory.launch.py with use_sim_time:=true) and `reasmory-play BAG --clock` start
together; the player waits until the node subscribed before the first message.
"""

from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription

PACKAGE = "reasmory_ros"


def generate_launch_description():
    share = FindPackageShare(PACKAGE)
    arguments = [
        DeclareLaunchArgument("bag", description="rosbag2 directory to play (e.g. one written by reasmory-sim)"),
        DeclareLaunchArgument("rate", default_value="1.0", description="Playback speed factor"),
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([share, "config", "reasmory.yaml"]),
            description="Parameters file of the node",
        ),
        DeclareLaunchArgument("namespace", default_value="", description="Namespace of the node and its topics"),
        DeclareLaunchArgument("rviz", default_value="false", description="Also start RViz with the memory view"),
    ]
    node = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution([share, "launch", "reasmory.launch.py"])),
        launch_arguments={
            "params_file": LaunchConfiguration("params_file"),
            "namespace": LaunchConfiguration("namespace"),
            "use_sim_time": "true",
            "rviz": LaunchConfiguration("rviz"),
        }.items(),
    )
    player = Node(
        package=PACKAGE,
        executable="reasmory-play",
        name="reasmory_player",
        namespace=LaunchConfiguration("namespace"),
        arguments=[
            LaunchConfiguration("bag"),
            "--rate",
            LaunchConfiguration("rate"),
            "--clock",
            "--wait-for-subscribers",
        ],
        output="screen",
    )
    return LaunchDescription([*arguments, node, player])
