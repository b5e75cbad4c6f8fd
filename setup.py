"""ament_python package: the ROS-free core plus thin rclpy nodes, launch files and configuration."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "reasmory_ros"

# Every node and command-line tool; `ros2 run reasmory_ros <name>` and the venv's bin/ both get them.
CONSOLE_SCRIPTS = [
    "reasmory_node = reasmory_ros.ros.node:main",
    "reasmory-ask = reasmory_ros.ros.ask_client:main",
    "reasmory-play = reasmory_ros.ros.player:main",
    "reasmory-demo = reasmory_ros.ros.demo:main",
    "reasmory-sim = reasmory_ros.sim.cli:main",
    "reasmory-replay = reasmory_ros.replay.cli:main",
    "reasmory-eval = reasmory_ros.replay.evaluate:main",
    "reasmory-fleet = reasmory_ros.replay.fleet:main",
    "reasmory-ask-offline = reasmory_ros.planning.cli:main",
]

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(include=[PACKAGE, f"{PACKAGE}.*"]),
    package_data={f"{PACKAGE}.planning": ["intents.yaml"]},  # the planner's exemplar bank
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml") + glob("config/*.rviz") + glob("config/*.xml")
         + glob("config/*.json")),
    ],
    install_requires=["setuptools"],
    extras_require={"rerun": ["rerun-sdk==0.41.0"]},  # optional: replay --rerun and the node's `rerun`
    python_requires=">=3.10",
    zip_safe=True,
    maintainer="Reasmory ROS developers",
    maintainer_email="dev@reasmory.invalid",
    description="Explicit 3D spatial memory for robots, queried through a validated DSL.",
    license="Apache-2.0",
    entry_points={"console_scripts": CONSOLE_SCRIPTS},
)
