"""Start the reasmory node (and optionally RViz): `ros2 launch reasmory_ros reasmory.launch.py`.

Every argument is declared with a description (`ros2 launch reasmory_ros reasmory.launch.py -s`
lists them). Input topics are remapped from the contract's defaults, so a robot's camera driver
topics plug in without editing the parameters file:

    ros2 launch reasmory_ros reasmory.launch.py color_topic:=/robot/rgb/image depth_topic:=/robot/depth/image
"""

from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription

PACKAGE = "reasmory_ros"

# (argument, contract topic it remaps, what it carries)
INPUT_TOPICS = (
    ("color_topic", "/camera/color/image_raw", "sensor_msgs/Image, rgb8 or bgr8"),
    ("depth_topic", "/camera/depth/image_raw", "sensor_msgs/Image, 16UC1 mm or 32FC1 m, registered to color"),
    ("camera_info_topic", "/camera/color/camera_info", "sensor_msgs/CameraInfo of the color camera"),
    ("pose_topic", "/camera/pose", "geometry_msgs/PoseStamped of the optical frame (or nav_msgs/Odometry)"),
    ("instances_topic", "/camera/instances/image_raw", "sensor_msgs/Image, 16UC1 or 32SC1 instance ids"),
    ("labels_topic", "/camera/instances/labels", 'std_msgs/String, JSON {"<id>": "<category>"}'),
)


def generate_launch_description():
    share = FindPackageShare(PACKAGE)
    arguments = [
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([share, "config", "reasmory.yaml"]),
            description="Parameters file of the node (one ros__parameters block; see docs/ros.md)",
        ),
        DeclareLaunchArgument("namespace", default_value="", description="Namespace of the node and its topics"),
        DeclareLaunchArgument(
            "use_sim_time",
            default_value="false",
            description="Follow /clock (true when replaying a bag with reasmory-play --clock)",
        ),
        DeclareLaunchArgument("log_level", default_value="info", description="Logging level of the node"),
        DeclareLaunchArgument("rviz", default_value="false", description="Also start RViz with the memory view"),
        DeclareLaunchArgument(
            "rviz_config",
            default_value=PathJoinSubstitution([share, "config", "reasmory.rviz"]),
            description="RViz configuration (fixed frame map; markers, map cloud, camera image)",
        ),
    ]
    arguments += [
        DeclareLaunchArgument(name, default_value=topic, description=f"Input topic remapped to {topic}: {what}")
        for name, topic, what in INPUT_TOPICS
    ]
    node = Node(
        package=PACKAGE,
        executable="reasmory_node",
        name="reasmory",
        namespace=LaunchConfiguration("namespace"),
        output="screen",
        emulate_tty=True,
        parameters=[LaunchConfiguration("params_file"), {"use_sim_time": LaunchConfiguration("use_sim_time")}],
        remappings=[(topic, LaunchConfiguration(name)) for name, topic, _ in INPUT_TOPICS],
        arguments=["--ros-args", "--log-level", LaunchConfiguration("log_level")],
    )
    rviz = Node(
        package="rviz2",
        executable="rviz2",
        name="rviz2",
        arguments=["-d", LaunchConfiguration("rviz_config")],
        parameters=[{"use_sim_time": LaunchConfiguration("use_sim_time")}],
        condition=IfCondition(LaunchConfiguration("rviz")),
        output="log",
    )
    return LaunchDescription([*arguments, node, rviz])
