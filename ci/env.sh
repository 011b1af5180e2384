# Sourced by the ci/ scripts: where the project keeps its caches and which Python it uses.
#   FORGE_CACHE  ~/.cache/resnet-forge: Bazel's disk and repository caches (.bazelrc) and the
#                project's virtual environment.
#   PYTHON       the interpreter whose PyPI torch wheel the build links (third_party/torch) and
#                whose torch, torchvision and Pillow the baselines run with. Default: the
#                project's own virtual environment, "$FORGE_CACHE/venv/bin/python3", which
#                ci/setup.sh creates from the system's python3. An exported PYTHON=... is used
#                as it is, by these scripts and by Bazel alike.
FORGE_CACHE="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache/resnet-forge"
FORGE_VENV="$FORGE_CACHE/venv"
PYTHON="${PYTHON:-$FORGE_VENV/bin/python3}"
